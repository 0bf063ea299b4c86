/* SPDX-License-Identifier: MIT */
/* ecount.c: the eventcount's slow paths (ecount.h). seq is compared under lk, and a notify bumps
 * it before it takes lk: a waiter that finds seq unchanged under lk is queued before the
 * notifier looks at the queue, so the notifier wakes it. */
#include <limits.h>

#include "../common/futex.h"
#include "ecount.h"

int cf__ecount_wait(cf__ecount *e, uint32_t key, const cf__deadline *d, bool cancellable)
{
    int r = 0;
    cf__lock_acquire(&e->lk);
    if (atomic_load_explicit(&e->seq, memory_order_relaxed) == key) {
        cf__waiter w;
        cf__waiter_init(&w, cf__parker_self());
        r = cf__waitq_sleep(&e->q, &w, &e->lk, d, cancellable, 0);
    }
    cf__lock_release(&e->lk);
    atomic_fetch_sub_explicit(&e->waiters, 1, memory_order_relaxed);
    return r;
}

void cf__ecount_wake(cf__ecount *e, int n)
{
    atomic_fetch_add_explicit(&e->seq, 1, memory_order_seq_cst);
    cf__lock_acquire(&e->lk);
    if (n == CF__WAKE_ALL)
        cf__waitq_wake_all(&e->q, 0);
    else
        while (n-- > 0 && cf__waitq_wake_one(&e->q, 0))
            ;
    cf__lock_release(&e->lk);
}
