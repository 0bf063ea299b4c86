/* SPDX-License-Identifier: MIT */
/* test_task_group.c: cf_task_group with each kind of member (coroutines, thread-pool and
 * process-pool tasks, plain futures): errors, success, the first failure cancelling the others
 * (pending ones never run, running coroutines get ECANCELED, running pool tasks see
 * cf_task_cancelled), what counts as a failure, a cancelled waiter, and free. */
#include "synctest.h"

static atomic_int runs;

static void *work(void *arg)
{
    atomic_fetch_add(&runs, 1);
    return arg;
}

START_TEST(errors)
{
    errno = 0;
    cf_task_group *g = cf_task_group_new();
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_null(cf_task_group_spawn(g, NULL, work, NULL));   /* no loop here */
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(cf_task_group_spawn(NULL, NULL, work, NULL));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(cf_task_group_submit(NULL, NULL, work, NULL));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(cf_task_group_submit(g, NULL, work, NULL));  /* as cf_submit */
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(cf_task_group_add(g, NULL), EINVAL);
    ck_assert_int_eq(cf_task_group_add(NULL, NULL), EINVAL);
    ck_assert_int_eq(cf_task_group_wait(NULL, 0), EINVAL);
    ck_assert_int_eq(cf_task_group_wait(g, NAN), EINVAL);
    ck_assert_int_eq(cf_task_group_wait(g, 0), 0);       /* empty: done */
    cf_task_group_free(g);
    cf_task_group_free(NULL);
}
END_TEST

static void *coro_sleeps(void *arg)
{
    atomic_fetch_add(&runs, 1);
    cf_sleep(0.01);
    return arg;
}

static void *all_succeed(void *p)
{
    cf_executor *ex = p;
    cf_task_group *g = cf_task_group_new();
    cf_future *plain = cf_future_new();
    ck_assert_int_eq(cf_task_group_add(g, plain), 0);
    cf_future *fs[6];
    for (int i = 0; i < 3; i++) {
        fs[i] = cf_task_group_spawn(g, NULL, coro_sleeps, (void *)(intptr_t)i);
        fs[3 + i] = cf_task_group_submit(g, ex, work, (void *)(intptr_t)i);
        ck_assert_ptr_nonnull(fs[i]);
        ck_assert_ptr_nonnull(fs[3 + i]);
    }
    ck_assert_int_eq(cf_task_group_wait(g, 0), ETIMEDOUT);   /* pending members */
    ck_assert_int_eq(cf_task_group_wait(g, 0.001), ETIMEDOUT);
    ck_assert_int_eq(cf_future_set_result(plain, NULL), 0);
    ck_assert_int_eq(cf_task_group_wait(g, -1), 0);
    for (int i = 0; i < 6; i++) {
        ck_assert(cf_future_done(fs[i]));
        cf_future_unref(fs[i]);
    }
    ck_assert_int_eq(cf_task_group_wait(g, 0), 0);           /* again: still 0 */
    cf_future_unref(plain);
    cf_task_group_free(g);
    return NULL;
}

START_TEST(members_of_every_kind_succeed)
{
    cf_executor *ex = cf_thread_pool_new(NULL);
    atomic_store(&runs, 0);
    run_coro(all_succeed, ex);
    ck_assert_int_eq(atomic_load(&runs), 6);
    cf_executor_free(ex);
}
END_TEST

typedef struct fail_ctx {
    cf_executor *pool;       /* one worker */
    atomic_int   started, saw_cancel, coro_cancelled;
} fail_ctx;

static fail_ctx fx;

static void *fails_soon(void *arg)
{
    (void)arg;
    cf_sleep(0.02);
    cf_task_fail(EIO, "member failed");
    return NULL;
}

static void *coro_waits_long(void *arg)
{
    (void)arg;
    if (cf_sleep(10) == ECANCELED)
        atomic_fetch_add(&fx.coro_cancelled, 1);
    return NULL;
}

static void *pool_task_watches(void *arg)
{
    (void)arg;
    atomic_fetch_add(&fx.started, 1);
    double t0 = now_s();
    while (!cf_task_cancelled() && now_s() - t0 < 10)
        sleep_ms(1);
    if (cf_task_cancelled())
        atomic_fetch_add(&fx.saw_cancel, 1);
    return NULL;
}

static void *never_runs(void *arg)
{
    (void)arg;
    atomic_fetch_add(&runs, 1);
    return NULL;
}

static void *first_failure_main(void *p)
{
    (void)p;
    cf_task_group *g = cf_task_group_new();
    cf_future *watch = cf_task_group_submit(g, fx.pool, pool_task_watches, NULL);
    cf_future *queued[4];
    for (int i = 0; i < 4; i++)
        queued[i] = cf_task_group_submit(g, fx.pool, never_runs, NULL);   /* behind it */
    cf_future *waiters[3];
    for (int i = 0; i < 3; i++)
        waiters[i] = cf_task_group_spawn(g, NULL, coro_waits_long, NULL);
    cf_future *bad = cf_task_group_spawn(g, NULL, fails_soon, NULL);
    double t0 = now_s();
    ck_assert_int_eq(cf_task_group_wait(g, 20), EIO);
    ck_assert(now_s() - t0 < 5);
    /* Every member is done by now, the watching pool task included. */
    ck_assert(cf_future_done(watch));
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(cf_future_state(queued[i]), CF_CANCELLED);
        cf_future_unref(queued[i]);
    }
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(cf_future_state(waiters[i]), CF_CANCELLED);
        cf_future_unref(waiters[i]);
    }
    ck_assert_int_eq(cf_future_result(bad, 0, NULL), EIO);
    /* Closed: nothing joins any more. */
    errno = 0;
    ck_assert_ptr_null(cf_task_group_spawn(g, NULL, work, NULL));
    ck_assert_int_eq(errno, ESHUTDOWN);
    ck_assert_ptr_null(cf_task_group_submit(g, fx.pool, work, NULL));
    ck_assert_int_eq(errno, ESHUTDOWN);
    cf_future *f = cf_future_new();
    ck_assert_int_eq(cf_task_group_add(g, f), ESHUTDOWN);
    cf_future_unref(f);
    ck_assert_int_eq(cf_task_group_wait(g, 0), EIO);
    cf_future_unref(watch);
    cf_future_unref(bad);
    cf_task_group_free(g);
    return NULL;
}

START_TEST(first_failure_cancels_the_others)
{
    cf_pool_opts o = { .max_workers = 1 };
    fx.pool = cf_thread_pool_new(&o);
    atomic_store(&runs, 0);
    run_coro(first_failure_main, NULL);
    ck_assert_int_eq(atomic_load(&fx.started), 1);
    ck_assert_int_eq(atomic_load(&fx.saw_cancel), 1);     /* the running task was told */
    ck_assert_int_eq(atomic_load(&runs), 0);              /* the pending ones never ran */
    ck_assert_int_eq(atomic_load(&fx.coro_cancelled), 3); /* ECANCELED at their wait */
    cf_executor_free(fx.pool);
}
END_TEST

START_TEST(what_counts_as_a_failure)
{
    /* A cancelled member is no failure. */
    cf_task_group *g = cf_task_group_new();
    cf_future *a = cf_future_new(), *b = cf_future_new();
    ck_assert_int_eq(cf_task_group_add(g, a), 0);
    ck_assert_int_eq(cf_task_group_add(g, b), 0);
    ck_assert(cf_future_cancel(a));
    ck_assert_int_eq(cf_task_group_wait(g, 0), ETIMEDOUT);
    ck_assert_int_eq(cf_future_state(b), CF_PENDING);     /* nothing was cancelled for it */
    cf_future_set_result(b, NULL);
    ck_assert_int_eq(cf_task_group_wait(g, -1), 0);
    cf_future_unref(a);
    cf_future_unref(b);
    cf_task_group_free(g);
    /* Finishing with the error ECANCELED is one, and it cancels the rest. */
    g = cf_task_group_new();
    a = cf_future_new();
    b = cf_future_new();
    cf_task_group_add(g, a);
    cf_task_group_add(g, b);
    ck_assert_int_eq(cf_future_set_error(a, ECANCELED, "gave up"), 0);
    ck_assert_int_eq(cf_task_group_wait(g, -1), ECANCELED);
    ck_assert_int_eq(cf_future_state(b), CF_CANCELLED);
    cf_future_unref(a);
    cf_future_unref(b);
    cf_task_group_free(g);
    /* A member already done when it joins counts at once. */
    g = cf_task_group_new();
    a = cf_future_new();
    cf_future_set_error(a, EPERM, NULL);
    b = cf_future_new();
    ck_assert_int_eq(cf_task_group_add(g, b), 0);
    ck_assert_int_eq(cf_task_group_add(g, a), 0);
    ck_assert_int_eq(cf_task_group_wait(g, -1), EPERM);
    ck_assert_int_eq(cf_future_state(b), CF_CANCELLED);
    cf_future_unref(a);
    cf_future_unref(b);
    cf_task_group_free(g);
}
END_TEST

static atomic_int waiter_result;

static void *group_waiter(void *p)
{
    cf_task_group *g = p;
    for (int i = 0; i < 3; i++)
        cf_future_unref(cf_task_group_spawn(g, NULL, coro_waits_long, NULL));
    atomic_store(&waiter_result, cf_task_group_wait(g, -1));
    return NULL;
}

static void *cancel_waiter_main(void *p)
{
    cf_task_group *g = p;
    cf_future *w = cf_loop_spawn(cf_loop_current(), group_waiter, g);
    for (int i = 0; i < 4; i++)
        cf_yield();                      /* the members sleep, the waiter waits */
    ck_assert(cf_future_cancel(w));
    ck_assert_int_eq(cf_await(w, -1, NULL), ECANCELED);
    cf_future_unref(w);
    return NULL;
}

START_TEST(cancelled_waiter_cancels_the_members)
{
    cf_task_group *g = cf_task_group_new();
    atomic_store(&fx.coro_cancelled, 0);
    run_coro(cancel_waiter_main, g);
    ck_assert_int_eq(atomic_load(&waiter_result), ECANCELED);
    ck_assert_int_eq(atomic_load(&fx.coro_cancelled), 3);
    ck_assert_int_eq(cf_task_group_wait(g, 0), 0);   /* all done, none failed (cancelled) */
    errno = 0;
    ck_assert_ptr_null(cf_task_group_spawn(g, NULL, work, NULL));
    ck_assert_int_eq(errno, EINVAL);                 /* no loop here; closed anyway */
    ck_assert_int_eq(cf_task_group_add(g, NULL), EINVAL);
    cf_future *f = cf_future_new();
    ck_assert_int_eq(cf_task_group_add(g, f), ESHUTDOWN);
    cf_future_unref(f);
    cf_task_group_free(g);
}
END_TEST

static void *free_in_coroutine(void *p)
{
    (void)p;
    cf_task_group *g = cf_task_group_new();
    cf_future *f = cf_task_group_spawn(g, NULL, coro_waits_long, NULL);
    cf_yield();
    cf_task_group_free(g);               /* cancels the sleeper and suspends until it is done */
    ck_assert_int_eq(cf_future_state(f), CF_CANCELLED);
    cf_future_unref(f);
    return NULL;
}

START_TEST(free_cancels_and_waits)
{
    atomic_store(&fx.coro_cancelled, 0);
    run_coro(free_in_coroutine, NULL);
    ck_assert_int_eq(atomic_load(&fx.coro_cancelled), 1);
    /* In a thread: a running pool task is told and waited for. */
    cf_pool_opts o = { .max_workers = 1 };
    fx.pool = cf_thread_pool_new(&o);
    atomic_store(&fx.started, 0);
    atomic_store(&fx.saw_cancel, 0);
    cf_task_group *g = cf_task_group_new();
    cf_future *f = cf_task_group_submit(g, fx.pool, pool_task_watches, NULL);
    WAIT_UNTIL(atomic_load(&fx.started) == 1, 5);
    cf_task_group_free(g);
    ck_assert(cf_future_done(f));
    ck_assert_int_eq(atomic_load(&fx.saw_cancel), 1);
    cf_future_unref(f);
    cf_executor_free(fx.pool);
}
END_TEST

static void *square(void *arg)
{
    intptr_t x = (intptr_t)arg;
    return (void *)(x * x);
}

START_TEST(process_pool_members)
{
    cf_pool_opts o = { .max_workers = 2 };
    cf_executor *pp = cf_process_pool_new(&o);
    ck_assert_ptr_nonnull(pp);
    cf_task_group *g = cf_task_group_new();
    cf_future *fs[8];
    for (int i = 0; i < 8; i++)
        ck_assert_ptr_nonnull(fs[i] = cf_task_group_submit(g, pp, square, (void *)(intptr_t)i));
    ck_assert_int_eq(cf_task_group_wait(g, 30), 0);
    for (int i = 0; i < 8; i++) {
        void *v;
        ck_assert_int_eq(cf_future_result(fs[i], 0, &v), 0);
        ck_assert_int_eq((intptr_t)v, i * i);
        cf_future_unref(fs[i]);
    }
    cf_task_group_free(g);
    cf_executor_free(pp);
}
END_TEST

/* Stress: many groups, members failing at random times from several threads; every member is
 * accounted for: finished + failed + cancelled == submitted, and wait's error is a member's. */
static void *maybe_fail(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    if (v % 7 == 0)
        cf_task_fail(EIO, NULL);
    return arg;
}

START_TEST(stress_conservation)
{
    cf_executor *ex = cf_thread_pool_new(NULL);
    uint32_t seed = 12345;
    long submitted = 0, finished = 0, failed = 0, cancelled = 0;
    for (int round = 0; round < cf_scaled(400); round++) {
        cf_task_group *g = cf_task_group_new();
        cf_future *fs[16];
        int n = 0;
        for (int i = 0; i < 16; i++) {
            cf_future *f = cf_task_group_submit(g, ex, maybe_fail, (void *)(uintptr_t)(rnd(&seed) % 50 + 1));
            if (!f) {
                ck_assert_int_eq(errno, ESHUTDOWN);   /* a member failed already */
                break;
            }
            fs[n++] = f;
        }
        submitted += n;
        int r = cf_task_group_wait(g, -1);
        bool any_failed = false;
        for (int i = 0; i < n; i++) {
            ck_assert(cf_future_done(fs[i]));
            if (cf_future_state(fs[i]) == CF_CANCELLED)
                cancelled++;
            else if (cf_future_result(fs[i], 0, NULL) == EIO)
                failed++, any_failed = true;
            else
                finished++;
            cf_future_unref(fs[i]);
        }
        ck_assert_int_eq(r, any_failed ? EIO : 0);
        cf_task_group_free(g);
    }
    ck_assert_int_eq(submitted, finished + failed + cancelled);
    ck_assert_int_gt(failed, 0);
    cf_executor_free(ex);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("task_group");
    TCase *tc = tcase_create("task_group");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors);
    CF_ADD_TEST(tc, members_of_every_kind_succeed);
    CF_ADD_TEST(tc, first_failure_cancels_the_others);
    CF_ADD_TEST(tc, what_counts_as_a_failure);
    CF_ADD_TEST(tc, cancelled_waiter_cancels_the_members);
    CF_ADD_TEST(tc, free_cancels_and_waits);
    CF_ADD_TEST(tc, process_pool_members);
    CF_ADD_TEST(tc, stress_conservation);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
