/* SPDX-License-Identifier: MIT */
/* waitq.c: sleeping on and waking a wait queue (waitq.h).
 *
 * A waiter is off the queue exactly when a waker has tried it: the waker takes it off before
 * calling its wake function, under the lock, so a wake is tried on each waiter at most once and
 * a wake-one goes on until a waiter takes it. The sleeper, back with the lock, finds itself
 * still queued only if no waker tried it (its deadline or a cancel won), and takes itself off. */
#include "waitq.h"

bool cf__waiter_wake_parker(cf__waiter *w, int reason)
{
    return cf__parker_wake(w->p, reason);
}

int cf__waitq_sleep(cf__waitq *q, cf__waiter *w, cf__lock *lk, const cf__deadline *d,
                    bool cancellable, unsigned flags)
{
    cf__waitq_add(q, w);
    cf__parker_arm(w->p, cancellable);   /* before lk is let go: a wake from then on counts */
    cf__lock_release(lk);
    int r = cf__parker_park(w->p, d, flags);
    cf__lock_acquire(lk);
    cf__waitq_del(w);                    /* no-op when a waker took it off */
    return r;
}

cf__waiter *cf__waitq_wake_one(cf__waitq *q, int reason)
{
    cf__waiter *w;
    while ((w = cf__waitq_pop(q)))
        if (w->func(w, reason))
            return w;
    return NULL;
}

size_t cf__waitq_wake_all(cf__waitq *q, int reason)
{
    size_t n = 0;
    cf__waiter *w;
    while ((w = cf__waitq_pop(q)))
        n += w->func(w, reason);
    return n;
}
