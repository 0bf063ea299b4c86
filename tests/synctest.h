/* SPDX-License-Identifier: MIT */
/* synctest.h: runners for the synchronization tests: the same actor function in plain threads
 * and in coroutines of several loops (each loop on a thread of its own), all at once. */
#ifndef CF_SYNCTEST_H
#define CF_SYNCTEST_H

#include "testutil.h"

typedef void (*actor_fn)(void *arg, int id);

typedef struct actor {
    actor_fn fn;
    void    *arg;
    int      id, ncoros;
} actor;

static void *actor_thread(void *p)
{
    actor *a = p;
    a->fn(a->arg, a->id);
    return NULL;
}

static void *actor_coro(void *p)
{
    actor *a = p;
    a->fn(a->arg, a->id);
    return NULL;
}

/* A thread running a loop of a->ncoros coroutines, ids a->id .. a->id + ncoros - 1. */
static void *loop_thread(void *p)
{
    actor *a = p;
    cf_loop *loop = cf_loop_new();
    ck_assert_ptr_nonnull(loop);
    actor *cs = calloc((size_t)a->ncoros, sizeof *cs);
    cf_future **fs = calloc((size_t)a->ncoros, sizeof *fs);
    for (int i = 0; i < a->ncoros; i++) {
        cs[i] = (actor){ a->fn, a->arg, a->id + i, 0 };
        fs[i] = cf_loop_spawn(loop, actor_coro, &cs[i]);
        ck_assert_ptr_nonnull(fs[i]);
    }
    ck_assert_int_eq(cf_loop_run(loop), 0);
    for (int i = 0; i < a->ncoros; i++) {
        ck_assert_int_eq(cf_future_result(fs[i], 0, NULL), 0);
        cf_future_unref(fs[i]);
    }
    cf_loop_free(loop);
    free(cs);
    free(fs);
    return NULL;
}

/* nthreads plain threads (ids 0..nthreads-1), then nloops loops of ncoros coroutines each (the
 * ids that follow), all running fn(arg, id) at once; returns when all are done. */
static inline int run_mixed(actor_fn fn, void *arg, int nthreads, int nloops, int ncoros)
{
    int n = nthreads + nloops;
    pthread_t *t = calloc((size_t)n, sizeof *t);
    actor *as = calloc((size_t)n, sizeof *as);
    int id = 0;
    for (int i = 0; i < n; i++) {
        bool loop = i >= nthreads;
        as[i] = (actor){ fn, arg, id, loop ? ncoros : 0 };
        id += loop ? ncoros : 1;
        ck_assert_int_eq(pthread_create(&t[i], NULL, loop ? loop_thread : actor_thread, &as[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
    free(as);
    return id;   /* how many actors ran */
}

/* A thread that takes a lock, holds it for ms milliseconds, and releases it. */
typedef struct holder {
    cf_lock   *l;
    double     ms;
    atomic_int held;
    pthread_t  t;
} holder;

static void *holder_main(void *p)
{
    holder *h = p;
    ck_assert_int_eq(cf_lock_acquire(h->l, -1), 0);
    atomic_store(&h->held, 1);
    sleep_ms(h->ms);
    ck_assert_int_eq(cf_lock_release(h->l), 0);
    return NULL;
}

/* Starts h's thread and returns once it holds the lock; join h->t afterwards. */
static inline void hold_in_thread(holder *h, cf_lock *l, double ms)
{
    h->l = l;
    h->ms = ms;
    atomic_init(&h->held, 0);
    ck_assert_int_eq(pthread_create(&h->t, NULL, holder_main, h), 0);
    while (!atomic_load(&h->held))
        sleep_ms(0.1);
}

/* Runs fn(arg) as a coroutine on a fresh loop of this thread, to completion; its result. */
static inline void *run_coro(cf_fn fn, void *arg)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, fn, arg);
    void *v = NULL;
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, &v), 0);
    cf_future_unref(f);
    cf_loop_free(loop);
    return v;
}

#endif
