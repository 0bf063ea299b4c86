/* SPDX-License-Identifier: MIT */
/* latch.h (internal): a one-shot flag that threads and coroutines wait for (a thread sleeps, a
 * coroutine suspends), for an executor's "started" and "finished": set once, never cleared.
 * The setter writes and wakes under lk, and a waiter takes lk before it returns, even when it
 * found the value already set: once cf__latch_wait returns, the setter is done with the latch,
 * and the waiter may free the memory it lives in. (The setter's unlock may still issue a futex
 * wake on the word: a wake reads nothing, and a stray wake is one every futex user tolerates.) */
#ifndef CF__LATCH_H
#define CF__LATCH_H

#include "waitq.h"

typedef struct cf__latch {
    cf__lock         lk;
    _Atomic uint32_t value;   /* 0 until set */
    cf__waitq        q;
} cf__latch;

static inline void cf__latch_init(cf__latch *l)
{
    cf__lock_init(&l->lk);
    atomic_init(&l->value, 0);
    cf__waitq_init(&l->q);
}

/* Sets the latch to v (non-zero) and wakes every waiter. */
static inline void cf__latch_set(cf__latch *l, uint32_t v)
{
    cf__lock_acquire(&l->lk);
    atomic_store_explicit(&l->value, v, memory_order_release);
    cf__waitq_wake_all(&l->q, 0);
    cf__lock_release(&l->lk);
}

static inline uint32_t cf__latch_peek(cf__latch *l)
{
    return atomic_load_explicit(&l->value, memory_order_acquire);
}

/* Waits until the latch is set, as long as it takes (no timeout, scope or cancel cuts it);
 * returns its value. */
static inline uint32_t cf__latch_wait(cf__latch *l)
{
    cf__waiter w;
    cf__waiter_init(&w, cf__parker_self());
    cf__lock_acquire(&l->lk);
    while (atomic_load_explicit(&l->value, memory_order_acquire) == 0)
        cf__waitq_sleep(&l->q, &w, &l->lk, &cf__forever, false, 0);
    uint32_t v = atomic_load_explicit(&l->value, memory_order_relaxed);
    cf__lock_release(&l->lk);
    return v;
}

#endif
