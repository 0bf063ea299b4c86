/* SPDX-License-Identifier: MIT */
/* test_condition.c: cf_condition: errors (EPERM without the lock), the lock held again on every
 * return (notify, timeout, cancel, deadline scope), notify(n) and notify_all, its own lock and a
 * given one, and a producer/consumer of threads and two loops' coroutines with conservation. */
#include "synctest.h"

START_TEST(errors)
{
    ck_assert_int_eq(cf_condition_wait(NULL, 0), EINVAL);
    ck_assert_int_eq(cf_condition_notify(NULL, 1), EINVAL);
    ck_assert_int_eq(cf_condition_notify_all(NULL), EINVAL);
    ck_assert_ptr_null(cf_condition_lock(NULL));
    cf_condition_free(NULL);
    cf_condition *c = cf_condition_new(NULL);
    ck_assert_ptr_nonnull(c);
    cf_lock *l = cf_condition_lock(c);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(cf_condition_wait(c, 0), EPERM);
    ck_assert_int_eq(cf_condition_notify(c, 1), EPERM);
    ck_assert_int_eq(cf_condition_notify_all(c), EPERM);
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);
    ck_assert_int_eq(cf_condition_wait(c, NAN), EINVAL);
    ck_assert_int_eq(cf_condition_notify(c, 1), 0);        /* nobody waits: fine */
    ck_assert_int_eq(cf_condition_notify_all(c), 0);
    double t0 = now_s();
    ck_assert_int_eq(cf_condition_wait(c, 0.01), ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.009);
    ck_assert_int_eq(cf_lock_acquire(l, 0), EDEADLK);      /* held again after the timeout */
    ck_assert_int_eq(cf_condition_wait(c, 0), ETIMEDOUT);  /* a poll: let go and taken back */
    ck_assert_int_eq(cf_lock_release(l), 0);
    cf_condition_free(c);                                   /* frees its own lock */

    cf_lock *mine = cf_lock_new();
    c = cf_condition_new(mine);
    ck_assert_ptr_eq(cf_condition_lock(c), mine);
    cf_condition_free(c);
    ck_assert_int_eq(cf_lock_acquire(mine, 0), 0);          /* a given lock outlives it */
    ck_assert_int_eq(cf_lock_release(mine), 0);
    cf_lock_free(mine);
}
END_TEST

typedef struct n_ctx {
    cf_condition *c;
    int           waiting, woken;   /* under the lock */
} n_ctx;

static void *notified_coro(void *p)
{
    n_ctx *x = p;
    cf_lock *l = cf_condition_lock(x->c);
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);
    x->waiting++;
    int r = cf_condition_wait(x->c, -1);
    ck_assert_int_eq(cf_lock_acquire(l, 0), EDEADLK);       /* held on return */
    if (r == 0)
        x->woken++;
    ck_assert_int_eq(cf_lock_release(l), 0);
    return (void *)(intptr_t)r;
}

static void *notify_main(void *p)
{
    n_ctx *x = p;
    cf_loop *loop = cf_loop_current();
    cf_lock *l = cf_condition_lock(x->c);
    cf_future *fs[5];
    for (int i = 0; i < 5; i++)
        fs[i] = cf_loop_spawn(loop, notified_coro, x);
    while (x->waiting < 5)
        cf_yield();
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);
    ck_assert_int_eq(cf_condition_notify(x->c, 2), 0);
    ck_assert_int_eq(cf_lock_release(l), 0);
    for (int i = 0; i < 5; i++)
        cf_yield();
    ck_assert_int_eq(x->woken, 2);                          /* exactly two */
    ck_assert(cf_future_cancel(fs[4]));                     /* the youngest is cancelled */
    ck_assert_int_eq(cf_await(fs[4], -1, NULL), ECANCELED);
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);            /* it let the lock go again */
    ck_assert_int_eq(cf_condition_notify_all(x->c), 0);
    ck_assert_int_eq(cf_lock_release(l), 0);
    ck_assert_int_eq(cf_gather(fs, 4, -1, NULL), 0);
    ck_assert_int_eq(x->woken, 4);
    for (int i = 0; i < 5; i++)
        cf_future_unref(fs[i]);
    return NULL;
}

START_TEST(notify_n_all_and_cancel)
{
    n_ctx x = { .c = cf_condition_new(NULL) };
    run_coro(notify_main, &x);
    cf_condition_free(x.c);
}
END_TEST

static void *scoped_wait(void *p)
{
    cf_condition *c = p;
    cf_lock *l = cf_condition_lock(c);
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);
    int t = cf_scope_enter(0.02);
    int r = cf_condition_wait(c, -1);
    ck_assert(cf_scope_exit(t));
    ck_assert_int_eq(cf_lock_acquire(l, 0), EDEADLK);       /* held, after the scope's deadline */
    ck_assert_int_eq(cf_lock_release(l), 0);
    return (void *)(intptr_t)r;
}

START_TEST(scope_deadline_still_retakes_the_lock)
{
    cf_condition *c = cf_condition_new(NULL);
    ck_assert_int_eq((intptr_t)scoped_wait(c), ETIMEDOUT);          /* a thread */
    ck_assert_int_eq((intptr_t)run_coro(scoped_wait, c), ETIMEDOUT); /* a coroutine */
    /* The lock is busy when the deadline comes: re-taking it waits past the deadline. */
    cf_lock *l = cf_condition_lock(c);
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);
    holder h = { .l = l, .ms = 80 };
    atomic_init(&h.held, 0);
    pthread_create(&h.t, NULL, holder_main, &h);   /* takes the lock once the wait lets it go */
    int t = cf_scope_enter(0.02);
    double t0 = now_s();
    ck_assert_int_eq(cf_condition_wait(c, -1), ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.07);               /* it waited for the holder's release */
    ck_assert(atomic_load(&h.held));
    ck_assert_int_eq(cf_lock_acquire(l, 0), EDEADLK);
    ck_assert(cf_scope_exit(t));
    ck_assert_int_eq(cf_lock_release(l), 0);
    pthread_join(h.t, NULL);
    /* Outside a condition, a scope does cut a plain acquire. */
    hold_in_thread(&h, l, 80);
    t = cf_scope_enter(0.01);
    ck_assert_int_eq(cf_lock_acquire(l, -1), ETIMEDOUT);
    ck_assert(cf_scope_exit(t));
    pthread_join(h.t, NULL);
    cf_condition_free(c);
}
END_TEST

/* Producer/consumer on a bounded buffer guarded by the condition: every item consumed once. */
typedef struct pc_ctx {
    cf_condition *c;
    long          buf[8];
    int           head, count;
    long          per_producer, produced, consumed, sum;
    int           producers;
} pc_ctx;

static void pc_actor(void *arg, int id)
{
    pc_ctx *x = arg;
    cf_lock *l = cf_condition_lock(x->c);
    bool producer = id % 2 == 0;
    for (;;) {
        HOT_ASSERT(cf_lock_acquire(l, -1) == 0);
        long total = x->per_producer * x->producers;
        if (producer) {
            while (x->count == 8 && x->produced < total)
                HOT_ASSERT(cf_condition_wait(x->c, -1) == 0);
            if (x->produced == total) {   /* another producer made the last one */
                cf_condition_notify_all(x->c);
                cf_lock_release(l);
                return;
            }
            x->buf[(x->head + x->count++) % 8] = ++x->produced;
        } else {
            while (x->count == 0 && x->consumed < total)
                HOT_ASSERT(cf_condition_wait(x->c, -1) == 0);
            if (x->count == 0) {
                cf_condition_notify_all(x->c);
                cf_lock_release(l);
                return;
            }
            x->sum += x->buf[x->head];
            x->head = (x->head + 1) % 8;
            x->count--;
            x->consumed++;
        }
        cf_condition_notify_all(x->c);
        HOT_ASSERT(cf_lock_release(l) == 0);
    }
}

START_TEST(producer_consumer_threads_and_loops)
{
    pc_ctx x = { .c = cf_condition_new(NULL), .per_producer = cf_scaled(4000) };
    /* 2 threads + 2 loops x 4 coroutines = 10 actors: even ids produce, odd ones consume. */
    x.producers = 5;
    int n = run_mixed(pc_actor, &x, 2, 2, 4);
    ck_assert_int_eq(n, 10);
    long total = x.per_producer * x.producers;
    ck_assert_int_eq(x.produced, total);
    ck_assert_int_eq(x.consumed, total);
    ck_assert_int_eq(x.sum, total * (total + 1) / 2);
    cf_condition_free(x.c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("condition");
    TCase *tc = tcase_create("condition");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors);
    CF_ADD_TEST(tc, notify_n_all_and_cancel);
    CF_ADD_TEST(tc, scope_deadline_still_retakes_the_lock);
    CF_ADD_TEST(tc, producer_consumer_threads_and_loops);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
