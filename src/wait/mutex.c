/* SPDX-License-Identifier: MIT */
/* mutex.c: the library's mutex for threads and coroutines alike (cf_lock is one; cf_pipe's ends
 * use them too): FIFO hand-off, the holder a parker.
 *
 * Design notes.
 * - `owner` is the holder's parker (a coroutine's, or a plain thread's), 0 when free; bit 0 says
 *   "waiters are queued". Without waiters, acquire and release are one CAS each (0 <-> me), as
 *   cheap as a futex mutex; with waiters the bit makes the release's CAS fail, and the release
 *   takes the slow path under lk.
 * - The bit changes only under lk, and while it is set the word changes only under lk (both fast
 *   paths fail), so the slow paths read and write it with plain atomic loads and stores.
 * - Hand-off: a release with waiters makes the longest waiter the owner (before waking it; the
 *   waiter learns it from its wake, 0) and never frees the lock in between, so nobody barges in:
 *   the releaser's own acquire(0) right after is EAGAIN. A waiter whose wake is lost (its
 *   deadline or a cancel won first) is skipped: the next one gets the lock (waitq.h), so a
 *   cancelled waiter never ends up holding it and the lock is never lost.
 * - Memory order: the fast paths are acquire/release CASes; a hand-off publishes through the
 *   waiter's parker (its winning wake is acq_rel, read with acquire), after the old holder's
 *   release of lk. */
#include <errno.h>

#include "mutex.h"

#define WAITERS ((uintptr_t)1)

void cf__mutex_init(cf__mutex *l)
{
    atomic_init(&l->owner, 0);
    cf__lock_init(&l->lk);
    cf__waitq_init(&l->q);
}


/* user: a wait the caller asked for (cancellable, and EDEADLK for a thread's own lock). */
static int acquire_slow(cf__mutex *l, cf__parker *me, const cf__deadline *d, bool user)
{
    cf__lock_acquire(&l->lk);
    for (;;) {
        uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
        if (o == 0) {
            if (cf__mutex_trylock(l, me)) {
                cf__lock_release(&l->lk);
                return 0;
            }
            continue;
        }
        uintptr_t holder = o & ~WAITERS;
        int r = 0;
        if (holder == (uintptr_t)me)
            r = EDEADLK;
        else if (d->poll)
            r = EAGAIN;
        else if (user && d->forever && cf__in_coroutine() && holder == (uintptr_t)cf__parker_thread())
            r = EDEADLK;   /* its thread can release it only once the loop returns */
        if (r) {
            cf__lock_release(&l->lk);
            return r;
        }
        if (o & WAITERS || atomic_compare_exchange_weak_explicit(&l->owner, &o, o | WAITERS,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed))
            break;
    }
    cf__waiter w;
    cf__waiter_init(&w, me);
    int r = cf__waitq_sleep(&l->q, &w, &l->lk, d, user, 0);
    if (r && cf__waitq_empty(&l->q))   /* the last waiter gave up: the fast release works again */
        atomic_store_explicit(&l->owner,
                              atomic_load_explicit(&l->owner, memory_order_relaxed) & ~WAITERS,
                              memory_order_relaxed);
    cf__lock_release(&l->lk);
    return r;   /* 0: handed the lock | ETIMEDOUT | ECANCELED */
}

int cf__mutex_lock(cf__mutex *l, cf__parker *me, const cf__deadline *d, bool user)
{
    if (cf__mutex_trylock(l, me))
        return 0;
    return acquire_slow(l, me, d, user);
}

bool cf__mutex_held_by(cf__mutex *l, cf__parker *p)
{
    return (atomic_load_explicit(&l->owner, memory_order_relaxed) & ~WAITERS) == (uintptr_t)p;
}

void cf__mutex_unlock(cf__mutex *l, cf__parker *p)
{
    if (cf__mutex_unlock_fast(l, p))
        return;
    cf__lock_acquire(&l->lk);
    cf__waiter *w;
    while ((w = cf__waitq_pop(&l->q))) {
        uintptr_t more = cf__waitq_empty(&l->q) ? 0 : WAITERS;
        atomic_store_explicit(&l->owner, (uintptr_t)w->p | more, memory_order_release);
        if (w->func(w, 0))
            break;
    }
    if (!w)
        atomic_store_explicit(&l->owner, 0, memory_order_release);
    cf__lock_release(&l->lk);
}
