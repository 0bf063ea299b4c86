/* SPDX-License-Identifier: MIT */
/* test_event.c: cf_event: errors, set/clear/is_set, polls and timeouts, a set waking every waiter
 * (threads and coroutines of two loops) even when cleared at once, cancellation, and a
 * ping-pong between a thread and a coroutine. */
#include "synctest.h"

START_TEST(errors_and_basics)
{
    ck_assert_int_eq(cf_event_wait(NULL, 0), EINVAL);
    ck_assert(!cf_event_is_set(NULL));
    cf_event_set(NULL);
    cf_event_clear(NULL);
    cf_event_free(NULL);
    cf_event *e = cf_event_new();
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(cf_event_wait(e, NAN), EINVAL);
    ck_assert(!cf_event_is_set(e));
    ck_assert_int_eq(cf_event_wait(e, 0), EAGAIN);
    double t0 = now_s();
    ck_assert_int_eq(cf_event_wait(e, 0.01), ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.009);
    cf_event_set(e);
    ck_assert(cf_event_is_set(e));
    ck_assert_int_eq(cf_event_wait(e, 0), 0);
    ck_assert_int_eq(cf_event_wait(e, -1), 0);
    cf_event_set(e);                         /* twice is fine */
    cf_event_clear(e);
    ck_assert(!cf_event_is_set(e));
    ck_assert_int_eq(cf_event_wait(e, 0), EAGAIN);
    cf_event_free(e);
}
END_TEST

typedef struct all_ctx {
    cf_event  *e;
    atomic_int waiting, woken;
} all_ctx;

static void wait_actor(void *arg, int id)
{
    (void)id;
    all_ctx *c = arg;
    atomic_fetch_add(&c->waiting, 1);
    HOT_ASSERT(cf_event_wait(c->e, -1) == 0);
    atomic_fetch_add(&c->woken, 1);
}

typedef struct setter_arg {
    all_ctx *c;
    int      expect;
    bool     clear_at_once;
} setter_arg;

static void *setter(void *p)
{
    setter_arg *a = p;
    while (atomic_load(&a->c->waiting) < a->expect)
        sleep_ms(1);
    sleep_ms(20);                            /* they are all inside the wait, most likely */
    cf_event_set(a->c->e);
    if (a->clear_at_once)
        cf_event_clear(a->c->e);
    return NULL;
}

static void set_wakes_all(bool clear_at_once)
{
    all_ctx c = { .e = cf_event_new() };
    setter_arg a = { &c, 3 + 2 * 5, clear_at_once };
    pthread_t t;
    pthread_create(&t, NULL, setter, &a);
    int n = run_mixed(wait_actor, &c, 3, 2, 5);   /* 3 threads, 2 loops x 5 coroutines */
    pthread_join(t, NULL);
    ck_assert_int_eq(n, 13);
    ck_assert_int_eq(atomic_load(&c.woken), 13);
    ck_assert(cf_event_is_set(c.e) == !clear_at_once);
    cf_event_free(c.e);
}

START_TEST(set_wakes_every_waiter) { set_wakes_all(false); }
END_TEST

START_TEST(set_then_clear_still_wakes_every_waiter) { set_wakes_all(true); }
END_TEST

static void *coro_waits(void *p)
{
    return (void *)(intptr_t)cf_event_wait(p, -1);
}

static void *cancel_main(void *p)
{
    cf_event *e = p;
    cf_loop *loop = cf_loop_current();
    cf_future *a = cf_loop_spawn(loop, coro_waits, e), *b = cf_loop_spawn(loop, coro_waits, e);
    cf_yield();
    cf_yield();
    ck_assert(cf_future_cancel(a));
    void *v;
    ck_assert_int_eq(cf_await(a, -1, NULL), ECANCELED);   /* it ended CANCELLED */
    cf_event_set(e);
    ck_assert_int_eq(cf_await(b, -1, &v), 0);
    ck_assert_int_eq((intptr_t)v, 0);                      /* the other was still served */
    cf_future_unref(a);
    cf_future_unref(b);
    return NULL;
}

START_TEST(cancelled_waiter)
{
    cf_event *e = cf_event_new();
    run_coro(cancel_main, e);
    cf_event_free(e);
}
END_TEST

typedef struct pp_ctx {
    cf_event *ping, *pong;
    long      rounds;
} pp_ctx;

static void *pp_coro(void *p)
{
    pp_ctx *c = p;
    for (long i = 0; i < c->rounds; i++) {
        HOT_ASSERT(cf_event_wait(c->ping, -1) == 0);
        cf_event_clear(c->ping);
        cf_event_set(c->pong);
    }
    return NULL;
}

static void *pp_loop(void *p)
{
    run_coro(pp_coro, p);
    return NULL;
}

START_TEST(ping_pong_thread_and_coroutine)
{
    pp_ctx c = { cf_event_new(), cf_event_new(), cf_scaled(20000) };
    pthread_t t;
    pthread_create(&t, NULL, pp_loop, &c);
    for (long i = 0; i < c.rounds; i++) {
        cf_event_set(c.ping);
        HOT_ASSERT(cf_event_wait(c.pong, -1) == 0);
        cf_event_clear(c.pong);
    }
    pthread_join(t, NULL);
    cf_event_free(c.ping);
    cf_event_free(c.pong);
}
END_TEST

/* Two threads hand a turn back and forth through two events; the ponger counts its turns
 * before it sets pong. A wait that returns must mean a set that came after the waiter last
 * cleared: a set that raised the flag, then lost the CPU before waking anyone, once woke the
 * waiter of the *next* turn, which ran ahead with the count one short (the benchmark's
 * ping-pong then hung). */
typedef struct turns {
    cf_event    *ping, *pong;
    long         rounds;
    _Atomic long ponged;
} turns;

static void *turn_ponger(void *arg)
{
    turns *t = arg;
    uint32_t seed = 7;
    for (long i = 0; i < t->rounds; i++) {
        HOT_ASSERT(cf_event_wait(t->ping, -1) == 0);
        cf_event_clear(t->ping);
        atomic_store(&t->ponged, i + 1);
        if (rnd(&seed) % 64 == 0)
            sched_yield();
        cf_event_set(t->pong);
    }
    return NULL;
}

static void *turn_pinger(void *arg)
{
    turns *t = arg;
    uint32_t seed = (uint32_t)(uintptr_t)arg;
    pthread_t th;
    pthread_create(&th, NULL, turn_ponger, t);
    for (long i = 0; i < t->rounds; i++) {
        cf_event_set(t->ping);
        if (rnd(&seed) % 64 == 0)
            sched_yield();
        HOT_ASSERT(cf_event_wait(t->pong, -1) == 0);
        HOT_ASSERT(atomic_load(&t->ponged) == i + 1);
        cf_event_clear(t->pong);
    }
    pthread_join(th, NULL);
    return NULL;
}

/* Several pairs at once, more threads than CPUs: a thread is preempted at any point now and
 * then, inside cf_event_set's window too. */
START_TEST(a_wake_belongs_to_a_set_after_the_clear)
{
    enum { PAIRS = 6 };
    turns t[PAIRS];
    pthread_t th[PAIRS];
    for (int k = 0; k < PAIRS; k++) {
        t[k] = (turns){ cf_event_new(), cf_event_new(), cf_scaled(100000), 0 };
        pthread_create(&th[k], NULL, turn_pinger, &t[k]);
    }
    for (int k = 0; k < PAIRS; k++) {
        pthread_join(th[k], NULL);
        cf_event_free(t[k].ping);
        cf_event_free(t[k].pong);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("event");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors_and_basics);
    CF_ADD_TEST(tc, set_wakes_every_waiter);
    CF_ADD_TEST(tc, set_then_clear_still_wakes_every_waiter);
    CF_ADD_TEST(tc, cancelled_waiter);
    CF_ADD_TEST(tc, ping_pong_thread_and_coroutine);
    CF_ADD_TEST(tc, a_wake_belongs_to_a_set_after_the_clear);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
