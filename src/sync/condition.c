/* SPDX-License-Identifier: MIT */
/* condition.c: cf_condition over a cf_lock.
 *
 * A waiter queues itself (under lk) and arms its parker before it lets the user's lock go: a
 * notify needs that lock, so any notify after the waiter's release finds it queued and armed,
 * and none is missed. After the wait, whatever ended it (notify, deadline, cancel), it takes the
 * lock again with no deadline and no cancel, so nothing cuts it: the caller holds the lock on every
 * return. A notified waiter that is cancelled while it re-takes the lock returns 0 and keeps the
 * cancel for its next wait, so a notify is never swallowed by a cancel.
 * Lock order: the user's lock (held) -> lk. */
#include <errno.h>
#include <stdlib.h>

#include "../wait/waitq.h"
#include "lock.h"

struct cf_condition {
    cf_lock  *lock;
    bool      own;   /* lock is the condition's own */
    cf__lock  lk;
    cf__waitq q;
};

CF_EXTERN cf_condition *cf_condition_new(cf_lock *lock)
{
    cf_condition *c = malloc(sizeof *c);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    c->own = !lock;
    if (!lock && !(lock = cf_lock_new())) {
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    c->lock = lock;
    cf__lock_init(&c->lk);
    cf__waitq_init(&c->q);
    return c;
}

CF_EXTERN void cf_condition_free(cf_condition *c)
{
    if (!c)
        return;
    if (c->own)
        cf_lock_free(c->lock);
    free(c);
}

CF_EXTERN cf_lock *cf_condition_lock(cf_condition *c)
{
    return c ? c->lock : NULL;
}

CF_EXTERN int cf_condition_wait(cf_condition *c, double timeout)
{
    cf__deadline d;
    if (!c || cf__wait_deadline(&d, timeout))
        return EINVAL;
    cf__parker *me = cf__parker_self();
    cf__mutex *m = cf__lock_mutex(c->lock);
    if (!cf__mutex_held_by(m, me))
        return EPERM;
    if (cf__parker_take_cancel(me))
        return ECANCELED;   /* the lock was never let go */
    cf__waiter w;
    cf__waiter_init(&w, me);
    cf__lock_acquire(&c->lk);
    cf__waitq_add(&c->q, &w);
    cf__parker_arm(me, true);
    cf__lock_release(&c->lk);
    cf__mutex_unlock(m, me);
    int r = cf__parker_park(me, &d, 0);
    cf__lock_acquire(&c->lk);
    cf__waitq_del(&w);
    cf__lock_release(&c->lk);
    cf__mutex_lock(m, me, &cf__forever, false);
    return r;
}

static int notify(cf_condition *c, size_t n)
{
    if (!c)
        return EINVAL;
    if (!cf__mutex_held_by(cf__lock_mutex(c->lock), cf__parker_self()))
        return EPERM;
    cf__lock_acquire(&c->lk);
    while (n > 0 && cf__waitq_wake_one(&c->q, 0))
        n--;
    cf__lock_release(&c->lk);
    return 0;
}

CF_EXTERN int cf_condition_notify(cf_condition *c, size_t n)
{
    return notify(c, n);
}

CF_EXTERN int cf_condition_notify_all(cf_condition *c)
{
    return notify(c, SIZE_MAX);
}
