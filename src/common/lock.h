/* SPDX-License-Identifier: MIT */
/* lock.h: a 4-byte mutex on a futex (Drepper's "Futexes Are Tricky", mutex #3), so that a future
 * fits in two cache lines. 0: free, 1: locked, 2: locked and someone may sleep. Uncontended
 * acquire and release are one atomic each; a contended acquire sleeps, never spins. The acquire
 * and release orders on `v` are what ThreadSanitizer sees, so it understands this lock. */
#ifndef CF__LOCK_H
#define CF__LOCK_H

#include "futex.h"

typedef struct cf__lock {
    _Atomic uint32_t v;
} cf__lock;

static inline void cf__lock_init(cf__lock *l) { atomic_init(&l->v, 0); }

static inline void cf__lock_acquire(cf__lock *l)
{
    uint32_t c = 0;
    if (atomic_compare_exchange_strong_explicit(&l->v, &c, 1, memory_order_acquire,
                                                memory_order_relaxed))
        return;
    if (c != 2)
        c = atomic_exchange_explicit(&l->v, 2, memory_order_acquire);
    while (c != 0) {
        cf__futex_wait(&l->v, 2, NULL);
        c = atomic_exchange_explicit(&l->v, 2, memory_order_acquire);
    }
}

static inline void cf__lock_release(cf__lock *l)
{
    if (atomic_exchange_explicit(&l->v, 0, memory_order_release) == 2)
        cf__futex_wake(&l->v, 1);
}

#endif
