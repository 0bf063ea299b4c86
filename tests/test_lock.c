/* SPDX-License-Identifier: MIT */
/* test_lock.c: cf_lock: errors, ownership (the coroutine, or the thread), FIFO hand-off without
 * barging, cancelled and timed-out waiters leaving the lock consistent, threads and coroutines of
 * two loops contending, and a conservation stress. */
#include "synctest.h"

START_TEST(errors)
{
    ck_assert_int_eq(cf_lock_acquire(NULL, 0), EINVAL);
    ck_assert_int_eq(cf_lock_release(NULL), EINVAL);
    cf_lock_free(NULL);
    cf_lock *l = cf_lock_new();
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(cf_lock_acquire(l, NAN), EINVAL);
    ck_assert_int_eq(cf_lock_release(l), EPERM);          /* free: nobody holds it */
    ck_assert_int_eq(cf_lock_acquire(l, 0), 0);
    ck_assert_int_eq(cf_lock_acquire(l, 0), EDEADLK);     /* not recursive */
    ck_assert_int_eq(cf_lock_acquire(l, -1), EDEADLK);
    ck_assert_int_eq(cf_lock_release(l), 0);
    ck_assert_int_eq(cf_lock_release(l), EPERM);
    cf_lock_free(l);
}
END_TEST

static void *try_other_thread(void *arg)
{
    cf_lock *l = arg;
    intptr_t r = cf_lock_acquire(l, 0);
    intptr_t p = cf_lock_release(l);
    return (void *)(r * 1000 + p);
}

START_TEST(other_thread_and_timeouts)
{
    cf_lock *l = cf_lock_new();
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);
    pthread_t t;
    void *v;
    pthread_create(&t, NULL, try_other_thread, l);
    pthread_join(t, &v);
    ck_assert_int_eq((intptr_t)v, EAGAIN * 1000 + EPERM);   /* held elsewhere: EAGAIN; EPERM */
    ck_assert_int_eq(cf_lock_release(l), 0);
    holder h;
    hold_in_thread(&h, l, 50);
    ck_assert_int_eq(cf_lock_acquire(l, 0), EAGAIN);
    double t0 = now_s();
    ck_assert_int_eq(cf_lock_acquire(l, 0.005), ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.004);
    ck_assert_int_eq(cf_lock_acquire(l, 5), 0);               /* waits for the release */
    ck_assert_int_eq(cf_lock_release(l), 0);
    pthread_join(h.t, NULL);
    cf_lock_free(l);
}
END_TEST

/* ---- coroutines ---- */

typedef struct order_ctx {
    cf_lock *l;
    int      order[8], n;
    int      id_next;
} order_ctx;

typedef struct waiter_arg {
    order_ctx *c;
    int        id;
} waiter_arg;

static void *ordered_waiter(void *p)
{
    waiter_arg *a = p;
    ck_assert_int_eq(cf_lock_acquire(a->c->l, -1), 0);
    a->c->order[a->c->n++] = a->id;
    cf_yield();                                  /* hold it across a suspension */
    ck_assert_int_eq(cf_lock_release(a->c->l), 0);
    return NULL;
}

static void *fifo_main(void *p)
{
    order_ctx *c = p;
    ck_assert_int_eq(cf_lock_acquire(c->l, -1), 0);
    cf_loop *loop = cf_loop_current();
    waiter_arg args[5];
    cf_future *fs[5];
    for (int i = 0; i < 5; i++) {
        args[i] = (waiter_arg){ c, i };
        fs[i] = cf_loop_spawn(loop, ordered_waiter, &args[i]);
    }
    for (int i = 0; i < 3; i++)
        cf_yield();                              /* all five are queued, in spawn order */
    /* A sibling coroutine is not the holder. */
    ck_assert_int_eq(cf_lock_release(c->l), 0);
    /* Handed to waiter 0: the releaser's immediate try fails (no barging). */
    ck_assert_int_eq(cf_lock_acquire(c->l, 0), EAGAIN);
    ck_assert_int_eq(cf_gather(fs, 5, -1, NULL), 0);
    for (int i = 0; i < 5; i++)
        cf_future_unref(fs[i]);
    return NULL;
}

START_TEST(fifo_hand_off)
{
    order_ctx c = { .l = cf_lock_new() };
    run_coro(fifo_main, &c);
    ck_assert_int_eq(c.n, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(c.order[i], i);
    ck_assert_int_eq(cf_lock_acquire(c.l, 0), 0);   /* nobody kept it */
    cf_lock_release(c.l);
    cf_lock_free(c.l);
}
END_TEST

static void *sibling_tries(void *p)
{
    cf_lock *l = p;
    intptr_t r = cf_lock_acquire(l, 0) * 1000;
    r += cf_lock_release(l);
    return (void *)r;
}

static void *holder_coro(void *p)
{
    cf_lock *l = p;
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);
    ck_assert_int_eq(cf_lock_acquire(l, -1), EDEADLK);
    cf_future *f = cf_loop_spawn(cf_loop_current(), sibling_tries, l);
    void *v;
    ck_assert_int_eq(cf_await(f, -1, &v), 0);
    ck_assert_int_eq((intptr_t)v, EAGAIN * 1000 + EPERM);   /* the sibling is somebody else */
    cf_future_unref(f);
    ck_assert_int_eq(cf_lock_release(l), 0);
    return NULL;
}

START_TEST(coroutine_is_the_holder)
{
    cf_lock *l = cf_lock_new();
    run_coro(holder_coro, l);
    /* The thread was not the holder, the coroutine was, and it released. */
    ck_assert_int_eq(cf_lock_acquire(l, 0), 0);
    ck_assert_int_eq(cf_lock_release(l), 0);
    cf_lock_free(l);
}
END_TEST

static void *wait_forever_on_thread_lock(void *p)
{
    return (void *)(intptr_t)cf_lock_acquire(p, -1);
}

START_TEST(coroutine_waiting_for_its_thread_is_edeadlk)
{
    cf_lock *l = cf_lock_new();
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);     /* the thread holds it, outside coroutines */
    ck_assert_int_eq((intptr_t)run_coro(wait_forever_on_thread_lock, l), EDEADLK);
    ck_assert_int_eq(cf_lock_release(l), 0);
    cf_lock_free(l);
}
END_TEST

typedef struct cancel_ctx {
    cf_lock   *l;
    atomic_int got;       /* waiters that returned 0 */
    atomic_int cancelled;
    atomic_int inside;
} cancel_ctx;

static void *cancellable_waiter(void *p)
{
    cancel_ctx *c = p;
    int r = cf_lock_acquire(c->l, -1);
    if (r == 0) {
        ck_assert_int_eq(atomic_fetch_add(&c->inside, 1), 0);
        atomic_fetch_add(&c->got, 1);
        atomic_fetch_sub(&c->inside, 1);
        ck_assert_int_eq(cf_lock_release(c->l), 0);
    } else {
        ck_assert_int_eq(r, ECANCELED);
        ck_assert_int_eq(cf_lock_release(c->l), EPERM);   /* it does not hold it */
        atomic_fetch_add(&c->cancelled, 1);
    }
    return NULL;
}

static void *cancel_main(void *p)
{
    cancel_ctx *c = p;
    ck_assert_int_eq(cf_lock_acquire(c->l, -1), 0);
    cf_loop *loop = cf_loop_current();
    cf_future *fs[3];
    for (int i = 0; i < 3; i++)
        fs[i] = cf_loop_spawn(loop, cancellable_waiter, c);
    for (int i = 0; i < 3; i++)
        cf_yield();
    ck_assert(cf_future_cancel(fs[0]));          /* the longest waiter gives up */
    cf_yield();
    ck_assert_int_eq(cf_lock_release(c->l), 0);  /* goes to the next one, not to the cancelled */
    cf_gather(fs, 3, -1, NULL);
    for (int i = 0; i < 3; i++)
        cf_future_unref(fs[i]);
    return NULL;
}

START_TEST(cancelled_waiter_skipped)
{
    cancel_ctx c = { .l = cf_lock_new() };
    run_coro(cancel_main, &c);
    ck_assert_int_eq(atomic_load(&c.got), 2);
    ck_assert_int_eq(atomic_load(&c.cancelled), 1);
    ck_assert_int_eq(cf_lock_acquire(c.l, 0), 0);
    cf_lock_release(c.l);
    cf_lock_free(c.l);
}
END_TEST

/* A cancel from another thread racing the hand-off: the waiter either holds the lock (0) or
 * does not (ECANCELED), and the lock is neither lost nor held twice. */
typedef struct race_ctx {
    cf_lock   *l;
    cf_future *waiter;
    atomic_int stage;     /* 1: the waiter is about to wait; 2: the holder releases */
    atomic_int held;
    uint32_t   seed;
} race_ctx;

static void spin_random(uint32_t *seed)
{
    for (uint32_t i = rnd(seed) % 4000; i > 0; i--)
        __asm__ volatile("" ::: "memory");
}

static void *race_holder(void *p)
{
    race_ctx *c = p;
    ck_assert_int_eq(cf_lock_acquire(c->l, -1), 0);
    atomic_store(&c->held, 1);
    while (atomic_load(&c->stage) < 1)
        ;
    uint32_t seed = c->seed * 7 + 1;
    spin_random(&seed);
    atomic_store(&c->stage, 2);
    ck_assert_int_eq(cf_lock_release(c->l), 0);
    return NULL;
}

static void *racing_waiter(void *p)
{
    race_ctx *c = p;
    atomic_store(&c->stage, 1);
    int r = cf_lock_acquire(c->l, -1);
    if (r == 0)
        ck_assert_int_eq(cf_lock_release(c->l), 0);
    else
        ck_assert_int_eq(r, ECANCELED);
    return (void *)(intptr_t)r;
}

static void *canceller(void *p)
{
    race_ctx *c = p;
    while (atomic_load(&c->stage) < 2)
        ;
    uint32_t seed = c->seed;
    spin_random(&seed);
    cf_future_cancel(c->waiter);
    return NULL;
}

START_TEST(cancel_races_hand_off)
{
    race_ctx c = { .l = cf_lock_new() };
    for (int i = 0; i < cf_scaled(400); i++) {
        cf_loop *loop = cf_loop_new();
        atomic_store(&c.stage, 0);
        atomic_store(&c.held, 0);
        c.seed = (uint32_t)i * 2654435761u + 3;
        pthread_t holder_t, cancel_t;
        pthread_create(&holder_t, NULL, race_holder, &c);
        while (!atomic_load(&c.held))
            ;
        c.waiter = cf_loop_spawn(loop, racing_waiter, &c);
        pthread_create(&cancel_t, NULL, canceller, &c);
        cf_loop_run(loop);            /* the waiter's loop on this thread */
        pthread_join(holder_t, NULL);
        pthread_join(cancel_t, NULL);
        cf_future_unref(c.waiter);
        cf_loop_free(loop);
        ck_assert_int_eq(cf_lock_acquire(c.l, 0), 0);   /* free again, whatever happened */
        ck_assert_int_eq(cf_lock_release(c.l), 0);
    }
    cf_lock_free(c.l);
}
END_TEST

/* ---- threads and two loops ---- */

typedef struct stress_ctx {
    cf_lock   *l;
    long       per_actor;
    long       counter;       /* guarded by l */
    atomic_int inside;
    atomic_long timeouts;
} stress_ctx;

static void stress_actor(void *arg, int id)
{
    stress_ctx *c = arg;
    uint32_t seed = (uint32_t)id * 2654435761u + 1;
    for (long i = 0; i < c->per_actor;) {
        double timeout = rnd(&seed) % 8 == 0 ? 0.0005 : -1;
        int r = cf_lock_acquire(c->l, timeout);
        if (r == ETIMEDOUT || r == EAGAIN) {
            atomic_fetch_add(&c->timeouts, 1);
            continue;
        }
        HOT_ASSERT(r == 0);
        HOT_ASSERT(atomic_fetch_add(&c->inside, 1) == 0);
        c->counter++;
        if (rnd(&seed) % 16 == 0)
            cf_yield();                       /* hold it across a suspension (or a thread yield) */
        HOT_ASSERT(atomic_fetch_sub(&c->inside, 1) == 1);
        HOT_ASSERT(cf_lock_release(c->l) == 0);
        i++;
    }
}

START_TEST(threads_and_two_loops_stress)
{
    /* 2 threads + 2 loops x 8 coroutines = 18 actors; 200k acquisitions in all. */
    stress_ctx c = { .l = cf_lock_new(), .per_actor = cf_scaled(200000) / 18 };
    int actors = run_mixed(stress_actor, &c, 2, 2, 8);
    ck_assert_int_eq(actors, 18);
    ck_assert_int_eq(c.counter, c.per_actor * actors);
    ck_assert_int_eq(cf_lock_acquire(c.l, 0), 0);
    cf_lock_release(c.l);
    cf_lock_free(c.l);
}
END_TEST

typedef struct sibling_ctx {
    cf_lock   *l;
    atomic_int ticks;
    atomic_bool done;
} sibling_ctx;

static void *ticker(void *p)
{
    sibling_ctx *c = p;
    while (!atomic_load(&c->done)) {
        atomic_fetch_add(&c->ticks, 1);
        cf_sleep(0.001);
    }
    return NULL;
}

static void *blocked_waiter(void *p)
{
    sibling_ctx *c = p;
    int r = cf_lock_acquire(c->l, 0.1);   /* another thread holds it throughout */
    atomic_store(&c->done, true);
    return (void *)(intptr_t)r;
}

START_TEST(waiting_coroutine_does_not_block_siblings)
{
    sibling_ctx c = { .l = cf_lock_new() };
    holder h;
    hold_in_thread(&h, c.l, 300);
    cf_loop *loop = cf_loop_new();
    cf_future *w = cf_loop_spawn(loop, blocked_waiter, &c);
    cf_future *k = cf_loop_spawn(loop, ticker, &c);
    ck_assert_int_eq(cf_loop_run(loop), 0);
    void *v;
    ck_assert_int_eq(cf_future_result(w, 0, &v), 0);
    ck_assert_int_eq((intptr_t)v, ETIMEDOUT);
    ck_assert_int_gt(atomic_load(&c.ticks), 5);   /* the sibling ran while the waiter waited */
    cf_future_unref(w);
    cf_future_unref(k);
    cf_loop_free(loop);
    pthread_join(h.t, NULL);
    cf_lock_free(c.l);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("lock");
    TCase *tc = tcase_create("lock");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors);
    CF_ADD_TEST(tc, other_thread_and_timeouts);
    CF_ADD_TEST(tc, fifo_hand_off);
    CF_ADD_TEST(tc, coroutine_is_the_holder);
    CF_ADD_TEST(tc, coroutine_waiting_for_its_thread_is_edeadlk);
    CF_ADD_TEST(tc, cancelled_waiter_skipped);
    CF_ADD_TEST(tc, cancel_races_hand_off);
    CF_ADD_TEST(tc, threads_and_two_loops_stress);
    CF_ADD_TEST(tc, waiting_coroutine_does_not_block_siblings);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
