/* SPDX-License-Identifier: MIT */
/* semaphore.c: cf_semaphore, counting and (max > 0) bounded.
 *
 * value and the waiters change together under lk. A release with waiters hands its unit to the
 * longest waiter instead of raising value (the waiter learns it from its wake, 0), so value > 0
 * only while nobody waits and an acquire never barges ahead of a waiter. A waiter whose wake is
 * lost (deadline or cancel first) is skipped and the unit goes to the next (waitq.h). value is
 * atomic only so that cf_semaphore_value may read it without the lock. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "cfutures/sync.h"
#include "../wait/waitq.h"

struct cf_semaphore {
    _Atomic unsigned value;
    unsigned         max;    /* 0: unbounded */
    cf__lock         lk;
    cf__waitq        q;
};

CF_EXTERN cf_semaphore *cf_semaphore_new(unsigned value, unsigned max)
{
    if (max > 0 && value > max) {
        errno = EINVAL;
        return NULL;
    }
    cf_semaphore *s = malloc(sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&s->value, value);
    s->max = max;
    cf__lock_init(&s->lk);
    cf__waitq_init(&s->q);
    return s;
}

CF_EXTERN void cf_semaphore_free(cf_semaphore *s)
{
    free(s);
}

CF_EXTERN unsigned cf_semaphore_value(cf_semaphore *s)
{
    return s ? atomic_load_explicit(&s->value, memory_order_relaxed) : 0;
}

CF_EXTERN int cf_semaphore_acquire(cf_semaphore *s, double timeout)
{
    cf__deadline d;
    if (!s || cf__wait_deadline(&d, timeout))
        return EINVAL;
    cf__parker *me = cf__parker_self();
    if (cf__parker_take_cancel(me))
        return ECANCELED;
    cf__lock_acquire(&s->lk);
    unsigned v = atomic_load_explicit(&s->value, memory_order_relaxed);
    int r;
    if (v > 0) {
        atomic_store_explicit(&s->value, v - 1, memory_order_relaxed);
        r = 0;
    } else if (d.poll) {
        r = EAGAIN;
    } else {
        cf__waiter w;
        cf__waiter_init(&w, me);
        r = cf__waitq_sleep(&s->q, &w, &s->lk, &d, true, 0);   /* 0: handed a unit */
    }
    cf__lock_release(&s->lk);
    return r;
}

CF_EXTERN int cf_semaphore_release(cf_semaphore *s)
{
    if (!s)
        return EINVAL;
    int r = 0;
    cf__lock_acquire(&s->lk);
    if (!cf__waitq_wake_one(&s->q, 0)) {
        unsigned v = atomic_load_explicit(&s->value, memory_order_relaxed);
        if ((s->max > 0 && v >= s->max) || v == UINT_MAX)
            r = EOVERFLOW;
        else
            atomic_store_explicit(&s->value, v + 1, memory_order_relaxed);
    }
    cf__lock_release(&s->lk);
    return r;
}
