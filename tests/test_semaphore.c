/* SPDX-License-Identifier: MIT */
/* test_semaphore.c: cf_semaphore: errors, bounded and unbounded releases, polls and timeouts,
 * FIFO service without barging, cancelled waiters never taking a unit, and a conservation
 * stress of threads and two loops' coroutines (never more holders than units). */
#include <limits.h>

#include "synctest.h"

START_TEST(errors_and_bounds)
{
    ck_assert_int_eq(cf_semaphore_acquire(NULL, 0), EINVAL);
    ck_assert_int_eq(cf_semaphore_release(NULL), EINVAL);
    ck_assert_uint_eq(cf_semaphore_value(NULL), 0);
    cf_semaphore_free(NULL);
    errno = 0;
    ck_assert_ptr_null(cf_semaphore_new(3, 2));
    ck_assert_int_eq(errno, EINVAL);

    cf_semaphore *b = cf_semaphore_new(2, 2);   /* bounded */
    ck_assert_int_eq(cf_semaphore_acquire(b, NAN), EINVAL);
    ck_assert_int_eq(cf_semaphore_release(b), EOVERFLOW);
    ck_assert_uint_eq(cf_semaphore_value(b), 2);
    ck_assert_int_eq(cf_semaphore_acquire(b, 0), 0);
    ck_assert_int_eq(cf_semaphore_acquire(b, 0), 0);
    ck_assert_int_eq(cf_semaphore_acquire(b, 0), EAGAIN);
    double t0 = now_s();
    ck_assert_int_eq(cf_semaphore_acquire(b, 0.01), ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.009);
    ck_assert_uint_eq(cf_semaphore_value(b), 0);
    ck_assert_int_eq(cf_semaphore_release(b), 0);
    ck_assert_int_eq(cf_semaphore_release(b), 0);
    ck_assert_int_eq(cf_semaphore_release(b), EOVERFLOW);
    cf_semaphore_free(b);

    cf_semaphore *u = cf_semaphore_new(0, 0);   /* unbounded */
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(cf_semaphore_release(u), 0);
    ck_assert_uint_eq(cf_semaphore_value(u), 1000);
    cf_semaphore_free(u);
    u = cf_semaphore_new(UINT_MAX, 0);
    ck_assert_int_eq(cf_semaphore_release(u), EOVERFLOW);   /* the counter cannot wrap */
    cf_semaphore_free(u);
}
END_TEST

typedef struct fifo_ctx {
    cf_semaphore *s;
    int           order[8], n;
} fifo_ctx;

typedef struct waiter_arg {
    fifo_ctx *c;
    int       id;
} waiter_arg;

static void *fifo_waiter(void *p)
{
    waiter_arg *a = p;
    ck_assert_int_eq(cf_semaphore_acquire(a->c->s, -1), 0);
    a->c->order[a->c->n++] = a->id;
    return NULL;
}

static void *fifo_main(void *p)
{
    fifo_ctx *c = p;
    cf_loop *loop = cf_loop_current();
    waiter_arg args[4];
    cf_future *fs[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (waiter_arg){ c, i };
        fs[i] = cf_loop_spawn(loop, fifo_waiter, &args[i]);
    }
    for (int i = 0; i < 3; i++)
        cf_yield();
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(cf_semaphore_release(c->s), 0);
        /* The unit went to the longest waiter: none is left to take, none counted. */
        ck_assert_uint_eq(cf_semaphore_value(c->s), 0);
        ck_assert_int_eq(cf_semaphore_acquire(c->s, 0), EAGAIN);
    }
    ck_assert_int_eq(cf_gather(fs, 4, -1, NULL), 0);
    for (int i = 0; i < 4; i++)
        cf_future_unref(fs[i]);
    return NULL;
}

START_TEST(fifo_without_barging)
{
    fifo_ctx c = { .s = cf_semaphore_new(0, 0) };
    run_coro(fifo_main, &c);
    ck_assert_int_eq(c.n, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(c.order[i], i);
    ck_assert_uint_eq(cf_semaphore_value(c.s), 0);
    cf_semaphore_free(c.s);
}
END_TEST

static void *acquire_coro(void *p)
{
    return (void *)(intptr_t)cf_semaphore_acquire(p, -1);
}

static void *cancel_main(void *p)
{
    cf_semaphore *s = p;
    cf_loop *loop = cf_loop_current();
    cf_future *a = cf_loop_spawn(loop, acquire_coro, s), *b = cf_loop_spawn(loop, acquire_coro, s);
    cf_yield();
    cf_yield();
    ck_assert(cf_future_cancel(a));
    ck_assert_int_eq(cf_await(a, -1, NULL), ECANCELED);
    ck_assert_int_eq(cf_semaphore_release(s), 0);   /* to b, the cancelled one is gone */
    void *v;
    ck_assert_int_eq(cf_await(b, -1, &v), 0);
    ck_assert_int_eq((intptr_t)v, 0);
    ck_assert_uint_eq(cf_semaphore_value(s), 0);
    cf_future_unref(a);
    cf_future_unref(b);
    return NULL;
}

START_TEST(cancelled_waiter_takes_no_unit)
{
    cf_semaphore *s = cf_semaphore_new(0, 0);
    run_coro(cancel_main, s);
    cf_semaphore_free(s);
}
END_TEST

typedef struct stress_ctx {
    cf_semaphore *s;
    unsigned      units;
    long          per_actor;
    atomic_int    holders, max_holders;
    atomic_long   done, timeouts;
} stress_ctx;

static void stress_actor(void *arg, int id)
{
    stress_ctx *c = arg;
    uint32_t seed = (uint32_t)id * 2654435761u + 7;
    for (long i = 0; i < c->per_actor;) {
        int r = cf_semaphore_acquire(c->s, rnd(&seed) % 8 == 0 ? 0.0005 : -1);
        if (r == ETIMEDOUT) {
            atomic_fetch_add(&c->timeouts, 1);
            continue;
        }
        HOT_ASSERT(r == 0);
        int h = atomic_fetch_add(&c->holders, 1) + 1;
        HOT_ASSERT(h <= (int)c->units);
        int m = atomic_load(&c->max_holders);
        while (h > m && !atomic_compare_exchange_weak(&c->max_holders, &m, h))
            ;
        if (rnd(&seed) % 16 == 0)
            cf_yield();
        atomic_fetch_sub(&c->holders, 1);
        HOT_ASSERT(cf_semaphore_release(c->s) == 0);
        atomic_fetch_add(&c->done, 1);
        i++;
    }
}

START_TEST(threads_and_two_loops_stress)
{
    stress_ctx c = { .units = 3, .per_actor = cf_scaled(200000) / 18 };
    c.s = cf_semaphore_new(c.units, c.units);
    int actors = run_mixed(stress_actor, &c, 2, 2, 8);
    ck_assert_int_eq(atomic_load(&c.done), c.per_actor * actors);
    ck_assert_uint_eq(cf_semaphore_value(c.s), c.units);    /* every unit came back */
    ck_assert_int_le(atomic_load(&c.max_holders), 3);
    cf_semaphore_free(c.s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("semaphore");
    TCase *tc = tcase_create("semaphore");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors_and_bounds);
    CF_ADD_TEST(tc, fifo_without_barging);
    CF_ADD_TEST(tc, cancelled_waiter_takes_no_unit);
    CF_ADD_TEST(tc, threads_and_two_loops_stress);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
