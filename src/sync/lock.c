/* SPDX-License-Identifier: MIT */
/* lock.c: cf_lock, the public face of the wait layer's mutex (wait/mutex.h: FIFO hand-off, the
 * holder a coroutine or a plain thread). A cancel pending for a coroutine is delivered by its
 * next acquire, even one that would not wait. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "lock.h"

struct cf_lock {
    cf__mutex m;
};

CF_EXTERN cf_lock *cf_lock_new(void)
{
    cf_lock *l = malloc(sizeof *l);
    if (!l) {
        errno = ENOMEM;
        return NULL;
    }
    cf__mutex_init(&l->m);
    return l;
}

CF_EXTERN void cf_lock_free(cf_lock *l)
{
    free(l);
}

CF_EXTERN int cf_lock_acquire(cf_lock *l, double timeout)
{
    cf__deadline d;
    if (!l || isnan(timeout))
        return EINVAL;
    cf__parker *me = cf__parker_self();
    if (cf__parker_take_cancel(me))
        return ECANCELED;
    if (cf__mutex_trylock(&l->m, me))
        return 0;                     /* free: no deadline to compute */
    cf__wait_deadline(&d, timeout);
    return cf__mutex_lock(&l->m, me, &d, true);
}

CF_EXTERN int cf_lock_release(cf_lock *l)
{
    if (!l)
        return EINVAL;
    cf__parker *me = cf__parker_self();
    if (cf__mutex_unlock_fast(&l->m, me))
        return 0;
    if (!cf__mutex_held_by(&l->m, me))
        return EPERM;
    cf__mutex_unlock(&l->m, me);
    return 0;
}

cf__mutex *cf__lock_mutex(cf_lock *l) { return &l->m; }
