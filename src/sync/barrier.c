/* SPDX-License-Identifier: MIT */
/* barrier.c: cf_barrier, Python's threading.Barrier for threads and coroutines.
 *
 * count arrivals under lk; the last of a cycle releases the others and starts the next cycle at
 * once (count 0), so a fast waiter may arrive for the next cycle before a slow one has left the
 * last. The waker writes each waiter's verdict (RELEASED or BROKEN) in its waiter before trying
 * to wake it, so a waiter whose own deadline or cancel won that race still learns the verdict
 * and keeps it: one counted in a cycle that completed passes with it. A waiter that gives up
 * without a verdict breaks the barrier for everyone (threading's rule). */
#include <errno.h>
#include <stdlib.h>

#include "cfutures/sync.h"
#include "../wait/waitq.h"

enum { NO_VERDICT = 0, RELEASED = 1, BROKEN = 2 };

struct cf_barrier {
    size_t    parties, count;
    bool      broken;
    cf__lock  lk;
    cf__waitq q;
};

CF_EXTERN cf_barrier *cf_barrier_new(size_t parties)
{
    if (parties == 0) {
        errno = EINVAL;
        return NULL;
    }
    cf_barrier *b = malloc(sizeof *b);
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    b->parties = parties;
    b->count = 0;
    b->broken = false;
    cf__lock_init(&b->lk);
    cf__waitq_init(&b->q);
    return b;
}

CF_EXTERN void cf_barrier_free(cf_barrier *b)
{
    free(b);
}

/* With lk held: every waiter leaves with verdict v; the cycle starts again. */
static void release_all(cf_barrier *b, uintptr_t v)
{
    cf__waiter *w;
    while ((w = cf__waitq_pop(&b->q))) {
        w->data = v;
        w->func(w, 0);
    }
    b->count = 0;
}

CF_EXTERN int cf_barrier_wait(cf_barrier *b, double timeout, size_t *index)
{
    cf__deadline d;
    if (!b || cf__wait_deadline(&d, timeout))
        return EINVAL;
    cf__parker *me = cf__parker_self();
    bool cancelled = cf__parker_take_cancel(me);
    cf__lock_acquire(&b->lk);
    int r = 0;
    if (b->broken) {
        r = EPIPE;
    } else if (cancelled) {
        b->broken = true;
        release_all(b, BROKEN);
        r = ECANCELED;
    } else {
        size_t i = b->count++;
        if (index)
            *index = i;
        if (b->count == b->parties) {
            release_all(b, RELEASED);
        } else {
            cf__waiter w;
            cf__waiter_init(&w, me);
            r = d.poll ? ETIMEDOUT : cf__waitq_sleep(&b->q, &w, &b->lk, &d, true, 0);
            if (w.data == RELEASED) {
                r = 0;
            } else if (w.data == BROKEN) {
                r = EPIPE;
            } else {                  /* gave up first (r is ETIMEDOUT or ECANCELED) */
                b->broken = true;
                release_all(b, BROKEN);
            }
        }
    }
    cf__lock_release(&b->lk);
    return r;
}

CF_EXTERN void cf_barrier_abort(cf_barrier *b)
{
    if (!b)
        return;
    cf__lock_acquire(&b->lk);
    b->broken = true;
    release_all(b, BROKEN);
    cf__lock_release(&b->lk);
}

CF_EXTERN int cf_barrier_reset(cf_barrier *b)
{
    if (!b)
        return EINVAL;
    cf__lock_acquire(&b->lk);
    release_all(b, BROKEN);
    b->broken = false;
    cf__lock_release(&b->lk);
    return 0;
}
