/* SPDX-License-Identifier: MIT */
/* test_stress.c: many threads, many iterations, randomized timing, and conservation checks:
 * every submitted future ends exactly once (finished, failed or cancelled), the pool's counters
 * add up, callbacks run exactly once, and shutdown racing submit loses nothing. */
#include <string.h>

#include "testutil.h"

typedef struct totals {
    _Atomic long ran, callbacks, submitted, cancelled_ok, rejected;
} totals;

static totals T;

static void *work(void *arg)
{
    uintptr_t x = (uintptr_t)arg;
    atomic_fetch_add_explicit(&T.ran, 1, memory_order_relaxed);
    if (x % 97 == 0)
        cf_task_fail(EIO, "item %lu", (unsigned long)x);
    if (x % 1013 == 0)
        sleep_ms(0.2);              /* the odd slow task lets the queue build up */
    return (void *)(x * 2);
}

static void on_done(cf_future *f, void *arg)
{
    (void)arg;
    HOT_ASSERT(cf_future_done(f));
    atomic_fetch_add_explicit(&T.callbacks, 1, memory_order_relaxed);
}

typedef struct submitter {
    cf_executor       *ex;
    long               n;
    uint32_t           seed;
    pthread_barrier_t *start;
} submitter;

static void *submit_loop(void *arg)
{
    submitter *s = arg;
    enum { WINDOW = 64 };
    cf_future *win[WINDOW];
    long base = 0;
    pthread_barrier_wait(s->start);
    while (base < s->n) {
        int k = 0;
        for (; k < WINDOW && base + k < s->n; k++) {
            uintptr_t x = (uintptr_t)(rnd(&s->seed) % 100000);
            cf_future *f = cf_submit(s->ex, work, (void *)x);
            HOT_ASSERT(f);
            atomic_fetch_add_explicit(&T.submitted, 1, memory_order_relaxed);
            /* Half the callbacks are added before completion, some race it. */
            HOT_ASSERT((cf_future_add_done_callback(f, on_done, NULL)) == (0));
            win[k] = f;
            if (rnd(&s->seed) % 10 == 0 && cf_future_cancel(f))
                atomic_fetch_add_explicit(&T.cancelled_ok, 1, memory_order_relaxed);
        }
        /* Random waits: poll, short timeouts, forever; results are checked when available. */
        for (int i = 0; i < k; i++) {
            cf_future *f = win[i];
            uint32_t r = rnd(&s->seed) % 4;
            double to = r == 0 ? 0 : r == 1 ? 0.0001 : CF_FOREVER;
            void *v;
            int e = cf_future_result(f, to, &v);
            if (e == ETIMEDOUT)
                continue;     /* it may complete right after; the wait below covers it */
            if (e == ECANCELED)
                HOT_ASSERT((cf_future_state(f)) == (CF_CANCELLED));
            else if (e == 0)
                HOT_ASSERT(((uintptr_t)v % 2) == (0));
            else
                HOT_ASSERT((e) == (EIO));
        }
        HOT_ASSERT((cf_wait(win, (size_t)k, CF_FOREVER, CF_ALL_COMPLETED)) == (0));
        for (int i = 0; i < k; i++) {
            if (cf_future_state(win[i]) != CF_CANCELLED)
                HOT_ASSERT((cf_future_state(win[i])) == (CF_FINISHED));
            cf_future_unref(win[i]);
        }
        base += k;
    }
    return NULL;
}

static void run_submitters(cf_executor *ex, int threads, long per_thread)
{
    pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, (unsigned)threads);
    submitter s[16];
    pthread_t t[16];
    for (int i = 0; i < threads; i++) {
        s[i] = (submitter){ ex, per_thread, (uint32_t)(i * 7919 + 1), &b };
        pthread_create(&t[i], NULL, submit_loop, &s[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&b);
}

static void check_conservation(cf_executor *ex)
{
    cf_pool_stats st;
    ck_assert_int_eq(cf_executor_stats(ex, &st), 0);
    long total = atomic_load(&T.submitted);
    ck_assert_int_eq(st.pending, 0);
    ck_assert_int_eq(st.running, 0);
    ck_assert_int_eq((long)(st.completed + st.failed + st.cancelled), total);
    ck_assert_int_eq((long)(st.completed + st.failed), atomic_load(&T.ran));
    ck_assert_int_eq((long)st.cancelled, atomic_load(&T.cancelled_ok));
}

START_TEST(eight_submitters_random_cancels_and_waits)
{
    memset(&T, 0, sizeof T);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 4 });
    long per = cf_scaled(100000);
    run_submitters(ex, 8, per);
    ck_assert_int_eq(atomic_load(&T.submitted), 8 * per);
    check_conservation(ex);
    cf_executor_free(ex);
    ck_assert_int_eq(atomic_load(&T.callbacks), 8 * per);   /* each exactly once */
}
END_TEST

START_TEST(backpressure_under_load)
{
    memset(&T, 0, sizeof T);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2, .max_pending = 16 });
    long per = cf_scaled(20000);
    run_submitters(ex, 4, per);
    check_conservation(ex);
    cf_executor_free(ex);
}
END_TEST

/* Callbacks added from many threads while the future completes: each runs exactly once. */
static void *add_callbacks(void *arg)
{
    cf_future *f = arg;
    for (int i = 0; i < 50; i++)
        HOT_ASSERT((cf_future_add_done_callback(f, on_done, NULL)) == (0));
    return NULL;
}

static void *gate_task(void *arg)
{
    while (!atomic_load((atomic_bool *)arg))
        ;
    return NULL;
}

START_TEST(callbacks_race_completion)
{
    memset(&T, 0, sizeof T);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    int rounds = (int)cf_scaled(200);
    for (int r = 0; r < rounds; r++) {
        atomic_bool go = false;
        cf_future *f = cf_submit(ex, gate_task, &go);
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, add_callbacks, f);
        atomic_store(&go, true);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        cf_future_result(f, CF_FOREVER, NULL);
        cf_future_unref(f);
    }
    cf_executor_free(ex);
    ck_assert_int_eq(atomic_load(&T.callbacks), (long)rounds * 4 * 50);
}
END_TEST

/* Shutdown racing submit: every submit either returns a future that ends done, or NULL with
 * ESHUTDOWN; nothing accepted is lost. */
typedef struct racer { cf_executor *ex; cf_future **got; long cap, n; uint32_t seed; } racer;

static void *submit_until_refused(void *arg)
{
    racer *r = arg;
    while (r->n < r->cap) {
        cf_future *f = cf_submit(r->ex, work, (void *)(uintptr_t)(rnd(&r->seed) % 1000 + 1));
        if (!f) {
            HOT_ASSERT((errno) == (ESHUTDOWN));
            atomic_fetch_add(&T.rejected, 1);
            break;
        }
        r->got[r->n++] = f;
    }
    return NULL;
}

START_TEST(shutdown_races_submit)
{
    int rounds = (int)cf_scaled(40);
    for (int round = 0; round < rounds; round++) {
        memset(&T, 0, sizeof T);
        cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
        enum { R = 4 };
        racer rs[R];
        pthread_t t[R];
        for (int i = 0; i < R; i++) {
            rs[i] = (racer){ ex, malloc(20000 * sizeof(cf_future *)), 20000, 0, (uint32_t)(round * 31 + i + 1) };
            pthread_create(&t[i], NULL, submit_until_refused, &rs[i]);
        }
        uint32_t seed = (uint32_t)round + 7;
        sleep_ms((double)(rnd(&seed) % 3000) / 1000.0);
        bool cancel = round % 2;
        cf_executor_shutdown(ex, true, cancel);
        long accepted = 0, finished = 0, cancelled = 0;
        for (int i = 0; i < R; i++) {
            pthread_join(t[i], NULL);
            for (long k = 0; k < rs[i].n; k++) {
                cf_future *f = rs[i].got[k];
                /* shutdown(wait) returned, or the submit came before it: all done by now. */
                HOT_ASSERT(cf_future_result(f, 30, NULL) != ETIMEDOUT);
                if (cf_future_state(f) == CF_CANCELLED)
                    cancelled++;
                else
                    finished++;
                cf_future_unref(f);
            }
            accepted += rs[i].n;
            free(rs[i].got);
        }
        ck_assert_int_eq(accepted, finished + cancelled);
        ck_assert_int_eq(finished, atomic_load(&T.ran));
        if (!cancel)
            ck_assert_int_eq(cancelled, 0);
        cf_pool_stats st;
        cf_executor_stats(ex, &st);
        ck_assert_int_eq((long)(st.completed + st.failed), finished);
        ck_assert_int_eq((long)st.cancelled, cancelled);
        cf_executor_free(ex);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stress");
    TCase *tc = tcase_create("stress");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, eight_submitters_random_cancels_and_waits);
    tcase_add_test(tc, backpressure_under_load);
    tcase_add_test(tc, callbacks_race_completion);
    tcase_add_test(tc, shutdown_races_submit);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
