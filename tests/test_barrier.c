/* SPDX-License-Identifier: MIT */
/* test_barrier.c: cf_barrier: errors, distinct indexes over many cycles of threads and two
 * loops' coroutines, a timed-out or cancelled waiter breaking it (EPIPE for the others and for
 * later waits), abort, and reset. */
#include "synctest.h"

START_TEST(errors)
{
    errno = 0;
    ck_assert_ptr_null(cf_barrier_new(0));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(cf_barrier_wait(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(cf_barrier_reset(NULL), EINVAL);
    cf_barrier_abort(NULL);
    cf_barrier_free(NULL);
    cf_barrier *b = cf_barrier_new(1);
    ck_assert_int_eq(cf_barrier_wait(b, NAN, NULL), EINVAL);
    size_t i = 99;
    ck_assert_int_eq(cf_barrier_wait(b, 0, &i), 0);     /* one party: passes at once */
    ck_assert_uint_eq(i, 0);
    ck_assert_int_eq(cf_barrier_wait(b, -1, NULL), 0);
    cf_barrier_free(b);
}
END_TEST

typedef struct cycle_ctx {
    cf_barrier *b;
    size_t      parties;
    int         cycles;
    atomic_int  seen[64][16];   /* per cycle, per index: how many got it */
} cycle_ctx;

static void cycle_actor(void *arg, int id)
{
    (void)id;
    cycle_ctx *c = arg;
    for (int k = 0; k < c->cycles; k++) {
        size_t i = 99;
        HOT_ASSERT(cf_barrier_wait(c->b, -1, &i) == 0);
        HOT_ASSERT(i < c->parties);
        atomic_fetch_add(&c->seen[k][i], 1);
    }
}

START_TEST(distinct_indexes_every_cycle)
{
    static cycle_ctx c;
    c.parties = 2 + 2 * 3;          /* 2 threads + 2 loops x 3 coroutines */
    c.cycles = 64;
    c.b = cf_barrier_new(c.parties);
    int n = run_mixed(cycle_actor, &c, 2, 2, 3);
    ck_assert_int_eq((size_t)n, c.parties);
    for (int k = 0; k < c.cycles; k++)
        for (size_t i = 0; i < c.parties; i++)
            ck_assert_int_eq(atomic_load(&c.seen[k][i]), 1);   /* each index once per cycle */
    cf_barrier_free(c.b);
}
END_TEST

static void *waits_forever(void *p)
{
    return (void *)(intptr_t)cf_barrier_wait(p, -1, NULL);
}

START_TEST(timeout_breaks_it)
{
    cf_barrier *b = cf_barrier_new(3);
    pthread_t t;
    pthread_create(&t, NULL, waits_forever, b);
    sleep_ms(20);
    ck_assert_int_eq(cf_barrier_wait(b, 0.01, NULL), ETIMEDOUT);   /* this waiter's own */
    void *v;
    pthread_join(t, &v);
    ck_assert_int_eq((intptr_t)v, EPIPE);                           /* the other one's */
    ck_assert_int_eq(cf_barrier_wait(b, -1, NULL), EPIPE);          /* broken until reset */
    ck_assert_int_eq(cf_barrier_reset(b), 0);
    pthread_create(&t, NULL, waits_forever, b);
    pthread_t t2;
    pthread_create(&t2, NULL, waits_forever, b);
    ck_assert_int_eq(cf_barrier_wait(b, -1, NULL), 0);              /* usable again */
    pthread_join(t, &v);
    ck_assert_int_eq((intptr_t)v, 0);
    pthread_join(t2, &v);
    ck_assert_int_eq((intptr_t)v, 0);
    ck_assert_int_eq(cf_barrier_wait(b, 0, NULL), ETIMEDOUT);       /* a poll that cannot pass */
    ck_assert_int_eq(cf_barrier_wait(b, -1, NULL), EPIPE);
    cf_barrier_free(b);
}
END_TEST

START_TEST(abort_and_reset_release_waiters)
{
    cf_barrier *b = cf_barrier_new(3);
    pthread_t t;
    void *v;
    pthread_create(&t, NULL, waits_forever, b);
    sleep_ms(20);
    cf_barrier_abort(b);
    pthread_join(t, &v);
    ck_assert_int_eq((intptr_t)v, EPIPE);
    ck_assert_int_eq(cf_barrier_wait(b, -1, NULL), EPIPE);
    ck_assert_int_eq(cf_barrier_reset(b), 0);
    pthread_create(&t, NULL, waits_forever, b);
    sleep_ms(20);
    ck_assert_int_eq(cf_barrier_reset(b), 0);                       /* a waiter gets EPIPE */
    pthread_join(t, &v);
    ck_assert_int_eq((intptr_t)v, EPIPE);
    cf_barrier_free(b);
}
END_TEST

static void *cancel_main(void *p)
{
    cf_barrier *b = p;
    cf_loop *loop = cf_loop_current();
    cf_future *a = cf_loop_spawn(loop, waits_forever, b), *c = cf_loop_spawn(loop, waits_forever, b);
    cf_yield();
    cf_yield();
    ck_assert(cf_future_cancel(a));
    void *v;
    ck_assert_int_eq(cf_await(a, -1, NULL), ECANCELED);
    ck_assert_int_eq(cf_await(c, -1, &v), 0);
    ck_assert_int_eq((intptr_t)v, EPIPE);        /* the cancel broke it for the other */
    cf_future_unref(a);
    cf_future_unref(c);
    return NULL;
}

START_TEST(cancel_breaks_it)
{
    cf_barrier *b = cf_barrier_new(3);
    run_coro(cancel_main, b);
    ck_assert_int_eq(cf_barrier_wait(b, 0, NULL), EPIPE);
    cf_barrier_free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("barrier");
    TCase *tc = tcase_create("barrier");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors);
    CF_ADD_TEST(tc, distinct_indexes_every_cycle);
    CF_ADD_TEST(tc, timeout_breaks_it);
    CF_ADD_TEST(tc, abort_and_reset_release_waiters);
    CF_ADD_TEST(tc, cancel_breaks_it);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
