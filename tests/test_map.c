/* SPDX-License-Identifier: MIT */
/* test_map.c: cf_map: results in order for every chunk size, first error in argument order,
 * timeouts that cancel what has not started, and the promise that no task touches the caller's
 * arrays after cf_map returns (AddressSanitizer proves it: the arrays are freed at once); and
 * cf_map_iter: argument order, the bound on work in flight, timeouts that lose nothing, errors
 * and submit failures at their item's turn, an early free. */
#include <math.h>
#include <string.h>

#include "testutil.h"

static void *square(void *arg)
{
    intptr_t x = (intptr_t)arg;
    return (void *)(x * x);
}

START_TEST(map_results_every_chunksize)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 3 });
    enum { N = 1000 };
    void *args[N], *res[N];
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    size_t sizes[] = { 0, 1, 2, 7, 256, N, N + 5 };
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        memset(res, 0, sizeof res);
        ck_assert_int_eq(cf_map(ex, square, args, res, N, sizes[k], CF_FOREVER), 0);
        for (intptr_t i = 0; i < N; i++)
            ck_assert_ptr_eq(res[i], (void *)(i * i));
    }
    ck_assert_int_eq(cf_map(ex, square, NULL, NULL, 0, 1, 0), 0);
    cf_executor_free(ex);
}
END_TEST

START_TEST(map_bad_input)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    void *a[1] = { 0 }, *r[1];
    ck_assert_int_eq(cf_map(NULL, square, a, r, 1, 1, 0), EINVAL);
    ck_assert_int_eq(cf_map(ex, NULL, a, r, 1, 1, 0), EINVAL);
    ck_assert_int_eq(cf_map(ex, square, NULL, r, 1, 1, 0), EINVAL);
    ck_assert_int_eq(cf_map(ex, square, a, NULL, 1, 1, 0), EINVAL);
    ck_assert_int_eq(cf_map(ex, square, a, r, 1, 1, NAN), EINVAL);
    cf_executor_shutdown(ex, true, false);
    ck_assert_int_eq(cf_map(ex, square, a, r, 1, 1, CF_FOREVER), ESHUTDOWN);
    cf_executor_free(ex);
}
END_TEST

static void *fail_on_multiples_of_7(void *arg)
{
    intptr_t x = (intptr_t)arg;
    if (x % 7 == 0 && x > 0) {
        sleep_ms(x == 14 ? 1 : 5);   /* the later failure finishes first */
        cf_task_fail(x == 7 ? EDOM : ERANGE, "bad %ld", (long)x);
    }
    return (void *)(x + 1000);
}

START_TEST(map_returns_first_error_in_argument_order)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 4 });
    enum { N = 40 };
    void *args[N], *res[N];
    for (size_t cs = 1; cs <= 4; cs++) {
        for (intptr_t i = 0; i < N; i++) {
            args[i] = (void *)i;
            res[i] = (void *)-1;
        }
        ck_assert_int_eq(cf_map(ex, fail_on_multiples_of_7, args, res, N, cs, CF_FOREVER), EDOM);
        for (intptr_t i = 0; i < 7; i++)
            ck_assert_ptr_eq(res[i], (void *)(i + 1000));   /* before the error: written */
        for (intptr_t i = 7; i < N; i++)
            ck_assert(res[i] == (void *)-1 || res[i] == (void *)(i + 1000));
        ck_assert_ptr_eq(res[7], (void *)-1);                  /* the failing item: not */
    }
    cf_executor_free(ex);
}
END_TEST

static _Atomic int map_calls;
static _Atomic bool release_map;
static void *slow_item(void *arg)
{
    atomic_fetch_add(&map_calls, 1);
    while (!atomic_load(&release_map))
        sleep_ms(0.5);
    return arg;
}

START_TEST(map_timeout_cancels_and_never_touches_arrays)
{
    atomic_store(&map_calls, 0);
    atomic_store(&release_map, false);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    enum { N = 50 };
    void **args = malloc(N * sizeof *args), **res = malloc(N * sizeof *res);
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    ck_assert_int_eq(cf_map(ex, slow_item, args, res, N, 3, 0.05), ETIMEDOUT);
    free(args);                  /* running chunks go on: they must not touch these */
    free(res);
    atomic_store(&release_map, true);
    cf_executor_free(ex);
    /* Two chunks were running; the cancel flag stops them after their current item. */
    ck_assert_int_le(atomic_load(&map_calls), 2);
    ck_assert_int_ge(atomic_load(&map_calls), 1);
}
END_TEST

static void broken_init(void *arg)
{
    (void)arg;
    cf_task_fail(EACCES, "no access");
}

START_TEST(map_on_a_broken_pool_frees_everything)
{
    /* Chunks failed by a broken pool never run: the job must still be freed (ASan: no leak). */
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1, .initializer = broken_init });
    enum { N = 30 };
    void *args[N] = { 0 }, *res[N];
    int r = cf_map(ex, square, args, res, N, 2, CF_FOREVER);
    ck_assert_int_eq(r, CF_EBROKEN);
    cf_executor_free(ex);
}
END_TEST

/* ---- cf_map_iter: lazy, ordered, bounded ---- */

static atomic_long iter_started;

static void *iter_task(void *arg)
{
    intptr_t i = (intptr_t)arg;
    atomic_fetch_add(&iter_started, 1);
    uint32_t s = (uint32_t)i * 2654435761u + 1;
    if (rnd(&s) % 3 == 0)
        sleep_ms(0.1 * (rnd(&s) % 8));   /* later items often finish first */
    if (i % 10 == 3)
        cf_task_fail(EDOM, "item %ld is bad", (long)i);
    return (void *)(i * 3);
}

static void iter_in_order(cf_executor *ex, size_t buffersize, bool local)
{
    enum { N = 200 };
    void *args[N];
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    atomic_store(&iter_started, 0);
    cf_map_iter *it = cf_map_iter_new(ex, iter_task, args, N, buffersize);
    ck_assert_ptr_nonnull(it);
    for (intptr_t i = 0; i < N; i++) {
        void *v = (void *)-1;
        const char *msg = NULL;
        int r = cf_map_next(it, CF_FOREVER, &v, &msg);
        if (i % 10 == 3) {
            ck_assert_int_eq(r, EDOM);
            ck_assert_ptr_nonnull(strstr(msg, "is bad"));
            ck_assert_ptr_null(v);
        } else {
            ck_assert_int_eq(r, 0);
            ck_assert_ptr_eq(v, (void *)(i * 3));   /* argument order, whatever finished first */
        }
        /* Bounded: never more than buffersize items submitted past what was yielded. */
        if (buffersize && local)   /* a process pool's tasks count in their own copies */
            ck_assert_int_le(atomic_load(&iter_started), i + 1 + (long)buffersize);
    }
    ck_assert_int_eq(cf_map_next(it, 0, NULL, NULL), ENOENT);
    ck_assert_int_eq(cf_map_next(it, CF_FOREVER, NULL, NULL), ENOENT);
    if (local)
        ck_assert_int_eq(atomic_load(&iter_started), N);
    cf_map_iter_free(it);
}

START_TEST(map_iter_yields_in_order_with_bounded_work)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 4 });
    iter_in_order(ex, 0, true);
    iter_in_order(ex, 1, true);
    iter_in_order(ex, 5, true);
    iter_in_order(ex, 1000, true);   /* more than n */
    cf_executor_free(ex);
    cf_executor *pp = cf_process_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    iter_in_order(pp, 8, false);
    cf_executor_free(pp);
}
END_TEST

static atomic_int iter_gate;

static void *iter_wait(void *arg)
{
    while (!atomic_load(&iter_gate))
        sleep_ms(0.5);
    return arg;
}

START_TEST(map_iter_timeout_keeps_the_item)
{
    atomic_store(&iter_gate, 0);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    void *args[3] = { (void *)1, (void *)2, (void *)3 };
    cf_map_iter *it = cf_map_iter_new(ex, iter_wait, args, 3, 2);
    void *v = NULL;
    ck_assert_int_eq(cf_map_next(it, 0, &v, NULL), ETIMEDOUT);
    ck_assert_int_eq(cf_map_next(it, 0.01, &v, NULL), ETIMEDOUT);
    atomic_store(&iter_gate, 1);
    for (intptr_t i = 1; i <= 3; i++) {
        ck_assert_int_eq(cf_map_next(it, CF_FOREVER, &v, NULL), 0);
        ck_assert_ptr_eq(v, (void *)i);                     /* nothing lost by the timeouts */
    }
    ck_assert_int_eq(cf_map_next(it, 0, &v, NULL), ENOENT);
    cf_map_iter_free(it);
    cf_executor_free(ex);
}
END_TEST

START_TEST(map_iter_free_early_and_submit_errors)
{
    /* Freed with items in flight: those not started are cancelled and never run. */
    atomic_store(&iter_gate, 0);
    atomic_store(&iter_started, 0);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    enum { N = 50 };
    void *args[N] = { 0 };
    cf_map_iter *it = cf_map_iter_new(ex, iter_wait, args, N, 10);
    cf_map_iter_free(it);
    atomic_store(&iter_gate, 1);
    cf_executor_shutdown(ex, true, false);
    cf_pool_stats st;
    cf_executor_stats(ex, &st);
    ck_assert_int_le(st.completed, 1);   /* at most the one that had started */
    ck_assert_int_ge(st.cancelled, 9);
    cf_executor_free(ex);

    /* An executor shut down mid-iteration: the items submitted after say ESHUTDOWN, in order. */
    cf_executor *ex2 = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    void *a2[6] = { (void *)0, (void *)1, (void *)2, (void *)3, (void *)4, (void *)5 };
    cf_map_iter *it2 = cf_map_iter_new(ex2, iter_task, a2, 6, 2);
    void *v;
    ck_assert_int_eq(cf_map_next(it2, CF_FOREVER, &v, NULL), 0);   /* item 0; item 2 submitted */
    cf_executor_shutdown(ex2, true, false);
    ck_assert_int_eq(cf_map_next(it2, CF_FOREVER, &v, NULL), 0);   /* 1 */
    ck_assert_int_eq(cf_map_next(it2, CF_FOREVER, &v, NULL), 0);   /* 2 */
    const char *msg = NULL;
    ck_assert_int_eq(cf_map_next(it2, CF_FOREVER, &v, &msg), ESHUTDOWN);   /* 3: never ran */
    ck_assert_ptr_nonnull(msg);
    ck_assert_int_eq(cf_map_next(it2, CF_FOREVER, &v, NULL), ESHUTDOWN);
    ck_assert_int_eq(cf_map_next(it2, CF_FOREVER, &v, NULL), ESHUTDOWN);
    ck_assert_int_eq(cf_map_next(it2, CF_FOREVER, &v, NULL), ENOENT);
    cf_map_iter_free(it2);
    cf_executor_free(ex2);

    /* Bad input. */
    errno = 0;
    ck_assert_ptr_null(cf_map_iter_new(NULL, iter_task, a2, 6, 0));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(cf_map_iter_new(ex2 = cf_thread_pool_new(NULL), NULL, a2, 6, 0));
    ck_assert_ptr_null(cf_map_iter_new(ex2, iter_task, NULL, 6, 0));
    cf_map_iter *empty = cf_map_iter_new(ex2, iter_task, NULL, 0, 0);
    ck_assert_ptr_nonnull(empty);
    ck_assert_int_eq(cf_map_next(empty, 0, NULL, NULL), ENOENT);
    ck_assert_int_eq(cf_map_next(empty, NAN, NULL, NULL), EINVAL);
    ck_assert_int_eq(cf_map_next(NULL, 0, NULL, NULL), EINVAL);
    cf_map_iter_free(empty);
    cf_map_iter_free(NULL);
    cf_executor_free(ex2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("map");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, map_results_every_chunksize);
    tcase_add_test(tc, map_bad_input);
    tcase_add_test(tc, map_returns_first_error_in_argument_order);
    tcase_add_test(tc, map_timeout_cancels_and_never_touches_arrays);
    tcase_add_test(tc, map_on_a_broken_pool_frees_everything);
    tcase_add_test(tc, map_iter_yields_in_order_with_bounded_work);
    tcase_add_test(tc, map_iter_timeout_keeps_the_item);
    tcase_add_test(tc, map_iter_free_early_and_submit_errors);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
