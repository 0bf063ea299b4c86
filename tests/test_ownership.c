/* SPDX-License-Identifier: MIT */
/* test_ownership.c: destructors the library runs for the caller: cf_submit_full's argument and
 * result destructors (every way a task can end, cf_future_take, process pools, a randomized
 * stress with conservation), and the item destructors of cf_queue and cf_lfqueue. */
#include <string.h>

#include "testutil.h"

static atomic_int arg_frees, result_frees;

static void count_arg_free(void *p)
{
    atomic_fetch_add(&arg_frees, 1);
    free(p);
}

static void count_result_free(void *p)
{
    atomic_fetch_add(&result_frees, 1);
    free(p);
}

static void reset(void)
{
    atomic_store(&arg_frees, 0);
    atomic_store(&result_frees, 0);
}

/* A malloc'd copy of the argument's string, upper-cased. */
static void *shout(void *arg)
{
    char *s = strdup(arg);
    for (char *c = s; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    return s;
}

static void *fail_task(void *arg)
{
    (void)arg;
    cf_task_fail(EIO, "no");
    return NULL;
}

static atomic_int gate;

static void *blocker(void *arg)
{
    while (!atomic_load(&gate))
        sleep_ms(1);
    return arg;
}

START_TEST(unread_result_is_freed_with_the_future)
{
    reset();
    cf_executor *ex = cf_thread_pool_new(NULL);
    cf_future *f = cf_submit_full(ex, shout, strdup("abc"), count_arg_free, count_result_free);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, NULL), 0);
    /* The argument went once the task was done with it; the result lives with the future. */
    ck_assert_int_eq(atomic_load(&arg_frees), 1);
    ck_assert_int_eq(atomic_load(&result_frees), 0);
    void *v;
    ck_assert_int_eq(cf_future_result(f, 0, &v), 0);   /* borrowed */
    ck_assert_str_eq(v, "ABC");
    cf_future_unref(f);
    /* The worker may still hold the pool's reference a moment after completing the future;
     * once the pool is freed, every reference is gone. */
    cf_executor_free(ex);
    ck_assert_int_eq(atomic_load(&result_frees), 1);
    ck_assert_int_eq(atomic_load(&arg_frees), 1);
}
END_TEST

START_TEST(take_transfers_the_result_once)
{
    reset();
    cf_executor *ex = cf_thread_pool_new(NULL);
    cf_future *f = cf_submit_full(ex, shout, strdup("xy"), count_arg_free, count_result_free);
    void *v = NULL, *again = (void *)1;
    ck_assert_int_eq(cf_future_take(f, CF_FOREVER, &v), 0);
    ck_assert_str_eq(v, "XY");
    ck_assert_int_eq(cf_future_take(f, 0, &again), EALREADY);
    ck_assert_ptr_eq(again, (void *)1);
    cf_future_unref(f);
    ck_assert_int_eq(atomic_load(&result_frees), 0);   /* ours now */
    free(v);
    /* On a plain future, take is result. */
    cf_future *g = cf_submit(ex, blocker, (void *)7);
    atomic_store(&gate, 1);
    ck_assert_int_eq(cf_future_take(g, CF_FOREVER, &v), 0);
    ck_assert_ptr_eq(v, (void *)7);
    ck_assert_int_eq(cf_future_take(g, CF_FOREVER, &v), 0);
    cf_future_unref(g);
    ck_assert_int_eq(cf_future_take(NULL, 0, &v), EINVAL);
    cf_executor_free(ex);
    ck_assert_int_eq(atomic_load(&result_frees), 0);   /* not even once every reference went */
}
END_TEST

START_TEST(failed_and_cancelled_tasks_free_the_argument_only)
{
    reset();
    atomic_store(&gate, 0);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    cf_future *busy = cf_submit(ex, blocker, NULL);
    cf_future *failing = cf_submit_full(ex, fail_task, strdup("a"), count_arg_free, count_result_free);
    cf_future *queued = cf_submit_full(ex, shout, strdup("b"), count_arg_free, count_result_free);
    ck_assert(cf_future_cancel(queued));
    ck_assert_int_eq(atomic_load(&arg_frees), 1);        /* at the cancel, in this thread */
    atomic_store(&gate, 1);
    ck_assert_int_eq(cf_future_result(failing, CF_FOREVER, NULL), EIO);
    ck_assert_int_eq(cf_future_take(queued, 0, NULL), ECANCELED);
    ck_assert_int_eq(atomic_load(&arg_frees), 2);
    cf_future_unref(busy);
    cf_future_unref(failing);
    cf_future_unref(queued);
    ck_assert_int_eq(atomic_load(&result_frees), 0);    /* no result ever existed */
    cf_executor_free(ex);
}
END_TEST

START_TEST(shutdown_cancel_and_bad_input)
{
    reset();
    atomic_store(&gate, 0);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    cf_future *busy = cf_submit(ex, blocker, NULL);
    enum { N = 20 };
    cf_future *fs[N];
    for (int i = 0; i < N; i++)
        fs[i] = cf_submit_full(ex, shout, strdup("q"), count_arg_free, count_result_free);
    cf_executor_shutdown(ex, false, true);
    ck_assert_int_eq(atomic_load(&arg_frees), N);        /* every pending one, cancelled */
    atomic_store(&gate, 1);
    errno = 0;
    ck_assert_ptr_null(cf_submit_full(ex, shout, "x", count_arg_free, NULL));
    ck_assert_int_eq(errno, ESHUTDOWN);
    ck_assert_int_eq(atomic_load(&arg_frees), N);        /* a failed submit leaves arg alone */
    errno = 0;
    ck_assert_ptr_null(cf_submit_full(NULL, shout, NULL, NULL, NULL));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(cf_submit_full(ex, NULL, NULL, NULL, NULL));
    for (int i = 0; i < N; i++)
        cf_future_unref(fs[i]);
    cf_future_unref(busy);
    cf_executor_free(ex);
    ck_assert_int_eq(atomic_load(&result_frees), 0);
}
END_TEST

static void *length(void *arg)
{
    return (void *)(intptr_t)strlen(arg);   /* arg existed when the pool was made: a literal */
}

START_TEST(process_pool_frees_the_argument_here)
{
    reset();
    cf_executor *ex = cf_process_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    ck_assert_ptr_nonnull(ex);
    errno = 0;
    ck_assert_ptr_null(cf_submit_full(ex, length, "abcd", NULL, count_result_free));
    ck_assert_int_eq(errno, EINVAL);   /* a result from another process is not ours to free */
    static const char text[] = "hello";
    cf_future *f = cf_submit_full(ex, length, (void *)text, NULL, NULL);
    void *v;
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, &v), 0);
    ck_assert_int_eq((intptr_t)v, 5);
    cf_future_unref(f);
    /* arg_free runs in the parent, on the parent's value (here, a pointer into memory the workers
     * have too: the pool was created after it, the snapshot rule). */
    static char *made_before;
    cf_executor_free(ex);
    made_before = strdup("hello!");
    ex = cf_process_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    cf_future *g = cf_submit_full(ex, length, made_before, count_arg_free, NULL);
    ck_assert_int_eq(cf_future_result(g, CF_FOREVER, &v), 0);
    ck_assert_int_eq((intptr_t)v, 6);
    ck_assert_int_eq(atomic_load(&arg_frees), 1);
    cf_future_unref(g);
    cf_executor_free(ex);
}
END_TEST

static void *maybe(void *arg)
{
    intptr_t i = *(intptr_t *)arg;
    uint32_t s = (uint32_t)i * 2654435761u;
    if (rnd(&s) % 8 == 0)
        sleep_ms(0.05 * (rnd(&s) % 10));
    if (i % 7 == 3)
        cf_task_fail(EDOM, "item %ld", (long)i);
    intptr_t *r = malloc(sizeof *r);
    *r = i * 2;
    return r;
}

static void *fail_after_malloc(void *arg)
{
    (void)arg;
    cf_task_fail(EIO, "failed, but returned memory");
    return malloc(16);
}

START_TEST(failed_task_return_value_is_freed)
{
    reset();
    cf_executor *ex = cf_thread_pool_new(NULL);
    cf_future *f = cf_submit_full(ex, fail_after_malloc, NULL, NULL, count_result_free);
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, NULL), EIO);
    ck_assert_int_eq(atomic_load(&result_frees), 1);   /* as the task ended */
    cf_future_unref(f);
    ck_assert_int_eq(atomic_load(&result_frees), 1);
    cf_executor_free(ex);
}
END_TEST

START_TEST(stress_conservation)
{
    /* Random cancels, takes and unread results: every argument freed exactly once, and every
     * result either taken or freed. submitted == finished + failed + cancelled. */
    reset();
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 3 });
    long n = cf_scaled(20000);
    cf_future **fs = malloc((size_t)n * sizeof *fs);
    uint32_t seed = 12345;
    for (long i = 0; i < n; i++) {
        intptr_t *a = malloc(sizeof *a);
        *a = i;
        fs[i] = cf_submit_full(ex, maybe, a, count_arg_free, count_result_free);
        HOT_ASSERT(fs[i]);
        if (rnd(&seed) % 5 == 0)
            cf_future_cancel(fs[i]);
    }
    long finished = 0, failed = 0, cancelled = 0, taken = 0;
    for (long i = 0; i < n; i++) {
        void *v = NULL;
        int r = (rnd(&seed) % 2) ? cf_future_take(fs[i], CF_FOREVER, &v)
                                 : cf_future_result(fs[i], CF_FOREVER, NULL);
        if (r == 0) {
            finished++;
            if (v) {
                HOT_ASSERT(*(intptr_t *)v == i * 2);
                taken++;
                free(v);
            }
        } else if (r == ECANCELED) {
            cancelled++;
        } else {
            HOT_ASSERT(r == EDOM);
            failed++;
        }
        cf_future_unref(fs[i]);
    }
    cf_executor_free(ex);
    ck_assert_int_eq(finished + failed + cancelled, n);
    ck_assert_int_eq(atomic_load(&arg_frees), n);
    /* Every result was taken, freed with its future, or (failed tasks') freed as it ended. */
    ck_assert_int_eq(atomic_load(&result_frees) + taken, finished + failed);
    free(fs);
}
END_TEST

static atomic_int item_frees;

static void count_item_free(void *p)
{
    atomic_fetch_add(&item_frees, 1);
    free(p);
}

static void queue_frees_what_is_left(cf_queue *q)
{
    atomic_store(&item_frees, 0);
    ck_assert_int_eq(cf_queue_set_item_free(q, count_item_free), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cf_queue_put(q, malloc(8), 0), 0);
    void *got;
    ck_assert_int_eq(cf_queue_get(q, 0, &got), 0);
    free(got);                                     /* taken: the taker's */
    cf_queue_free(q);
    ck_assert_int_eq(atomic_load(&item_frees), 9);
}

static int cmp_ptr(const void *a, const void *b) { return a < b ? -1 : a > b; }

START_TEST(queue_item_destructor)
{
    queue_frees_what_is_left(cf_queue_new(16));           /* the ring */
    queue_frees_what_is_left(cf_queue_new(0));            /* locked FIFO */
    queue_frees_what_is_left(cf_queue_new_lifo(0));
    queue_frees_what_is_left(cf_queue_new_priority(0, cmp_ptr));
    /* After a (graceful) shutdown the items left are still freed at free. */
    cf_queue *q = cf_queue_new(4);
    atomic_store(&item_frees, 0);
    cf_queue_set_item_free(q, count_item_free);
    cf_queue_put(q, malloc(8), 0);
    cf_queue_shutdown(q, false);
    cf_queue_free(q);
    ck_assert_int_eq(atomic_load(&item_frees), 1);
    ck_assert_int_eq(cf_queue_set_item_free(NULL, count_item_free), EINVAL);
}
END_TEST

START_TEST(immediate_shutdown_frees_the_drops)
{
    cf_queue *qs[] = { cf_queue_new(8), cf_queue_new(0), cf_queue_new_lifo(100) };
    for (size_t k = 0; k < sizeof qs / sizeof *qs; k++) {
        atomic_store(&item_frees, 0);
        cf_queue_set_item_free(qs[k], count_item_free);
        for (int i = 0; i < 5; i++)
            cf_queue_put(qs[k], malloc(8), 0);
        cf_queue_shutdown(qs[k], true);
        ck_assert_int_eq(atomic_load(&item_frees), 5);
        ck_assert_int_eq(cf_queue_join(qs[k], 0), 0);   /* the drops counted as done */
        cf_queue_free(qs[k]);
        ck_assert_int_eq(atomic_load(&item_frees), 5);  /* nothing twice */
    }
}
END_TEST

START_TEST(lfqueue_item_destructor)
{
    atomic_store(&item_frees, 0);
    cf_lfqueue *q = cf_lfqueue_new();
    ck_assert_int_eq(cf_lfqueue_set_item_free(q, count_item_free), 0);
    for (int i = 0; i < 100; i++)
        cf_lfqueue_push(q, malloc(8));
    void *got;
    ck_assert_int_eq(cf_lfqueue_pop(q, &got), 0);
    free(got);
    cf_lfqueue_free(q);
    ck_assert_int_eq(atomic_load(&item_frees), 99);
    ck_assert_int_eq(cf_lfqueue_set_item_free(NULL, NULL), EINVAL);
    /* Without a destructor the items stay the caller's (none freed: ASan would see a double
     * free below otherwise). */
    cf_lfqueue *p = cf_lfqueue_new();
    char *mine = malloc(8);
    cf_lfqueue_push(p, mine);
    cf_lfqueue_free(p);
    free(mine);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ownership");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    CF_ADD_TEST(tc, unread_result_is_freed_with_the_future);
    CF_ADD_TEST(tc, take_transfers_the_result_once);
    CF_ADD_TEST(tc, failed_and_cancelled_tasks_free_the_argument_only);
    CF_ADD_TEST(tc, shutdown_cancel_and_bad_input);
    CF_ADD_TEST(tc, process_pool_frees_the_argument_here);
    CF_ADD_TEST(tc, failed_task_return_value_is_freed);
    CF_ADD_TEST(tc, stress_conservation);
    CF_ADD_TEST(tc, queue_item_destructor);
    CF_ADD_TEST(tc, immediate_shutdown_frees_the_drops);
    CF_ADD_TEST(tc, lfqueue_item_destructor);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
