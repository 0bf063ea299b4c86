/* SPDX-License-Identifier: MIT */
/* ecount.h (internal): an eventcount (Dmitry Vyukov's; folly's EventCount): how a lock-free
 * structure lets callers wait for "something changed" without a lock on its fast path.
 *
 *   waiter:  key = prepare(e); if (try()) { cancel(e); done } else wait(e, key, d); retry
 *   waker:   make the change visible; notify(e, n)
 *
 * prepare announces the waiter (seq_cst) before it re-tries; notify reads the announcements
 * (seq_cst) after the change: the Dekker pair that makes a lost wake-up impossible. With nobody
 * announced, notify is one load. Waiters park on a wait queue (threads and coroutines alike),
 * and wait returns at once if a notify came since prepare. A woken waiter re-tries; one that
 * lost the race prepares again, so a notify of one never strands an item. */
#ifndef CF__ECOUNT_H
#define CF__ECOUNT_H

#include "waitq.h"

typedef struct cf__ecount {
    _Atomic int      waiters;   /* between prepare and the end of wait (or cancel) */
    _Atomic uint32_t seq;       /* bumped by every notify that found waiters */
    cf__lock         lk;
    cf__waitq        q;
} cf__ecount;

static inline void cf__ecount_init(cf__ecount *e)
{
    atomic_init(&e->waiters, 0);
    atomic_init(&e->seq, 0);
    cf__lock_init(&e->lk);
    cf__waitq_init(&e->q);
}

static inline uint32_t cf__ecount_prepare(cf__ecount *e)
{
    atomic_fetch_add_explicit(&e->waiters, 1, memory_order_seq_cst);
    return atomic_load_explicit(&e->seq, memory_order_seq_cst);
}

/* The caller prepared but will not wait after all. */
static inline void cf__ecount_cancel(cf__ecount *e)
{
    atomic_fetch_sub_explicit(&e->waiters, 1, memory_order_relaxed);
}

/* Parks unless a notify came since prepare returned key; ends the announcement. 0 (notified, or
 * one came before: re-try) | ETIMEDOUT | ECANCELED (a cancelled coroutine; cancellable waits). */
int cf__ecount_wait(cf__ecount *e, uint32_t key, const cf__deadline *d, bool cancellable);
/* The slow half of notify: bumps seq and wakes up to n waiters (CF__WAKE_ALL: all). */
void cf__ecount_wake(cf__ecount *e, int n);

static inline void cf__ecount_notify(cf__ecount *e, int n)
{
    if (atomic_load_explicit(&e->waiters, memory_order_seq_cst) > 0)
        cf__ecount_wake(e, n);
}

#endif
