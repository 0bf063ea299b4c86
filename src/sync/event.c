/* SPDX-License-Identifier: MIT */
/* event.c: cf_event, a flag that waiters wait to see set.
 *
 * `set` is read without the lock on the fast path (acquire: what the setter wrote before the set
 * is visible); waiters check it again under lk before they queue, and cf_event_set raises it
 * and wakes the queue in one hold of lk, so a set is never missed, and it wakes only waiters
 * that queued before it: raised before lk was taken, a set that lost the CPU in between could
 * be seen, cleared and waited on again, and its late wake then released that new wait, which no
 * set had answered (test_event's a_wake_belongs_to_a_set_after_the_clear). A woken waiter
 * returns 0 without looking at the flag again: a set followed at once by a clear still releases
 * everyone who was waiting (threading.Event's promise). */
#include <errno.h>
#include <stdlib.h>

#include "cfutures/sync.h"
#include "../common/race.h"
#include "../wait/waitq.h"

struct cf_event {
    atomic_bool set;
    cf__lock    lk;
    cf__waitq   q;
};

CF_EXTERN cf_event *cf_event_new(void)
{
    cf_event *e = malloc(sizeof *e);
    if (!e) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&e->set, false);
    cf__lock_init(&e->lk);
    cf__waitq_init(&e->q);
    return e;
}

CF_EXTERN void cf_event_free(cf_event *e)
{
    free(e);
}

CF_EXTERN void cf_event_set(cf_event *e)
{
    if (!e)
        return;
    cf__lock_acquire(&e->lk);
    atomic_store_explicit(&e->set, true, memory_order_release);
    CF__RACE_WINDOW();
    cf__waitq_wake_all(&e->q, 0);
    cf__lock_release(&e->lk);
}

CF_EXTERN void cf_event_clear(cf_event *e)
{
    if (e)
        atomic_store_explicit(&e->set, false, memory_order_relaxed);
}

CF_EXTERN bool cf_event_is_set(cf_event *e)
{
    return e && atomic_load_explicit(&e->set, memory_order_acquire);
}

CF_EXTERN int cf_event_wait(cf_event *e, double timeout)
{
    cf__deadline d;
    if (!e || cf__wait_deadline(&d, timeout))
        return EINVAL;
    cf__parker *me = cf__parker_self();
    if (cf__parker_take_cancel(me))
        return ECANCELED;
    if (atomic_load_explicit(&e->set, memory_order_acquire))
        return 0;
    if (d.poll)
        return EAGAIN;
    cf__lock_acquire(&e->lk);
    int r = 0;
    if (!atomic_load_explicit(&e->set, memory_order_acquire)) {
        cf__waiter w;
        cf__waiter_init(&w, me);
        r = cf__waitq_sleep(&e->q, &w, &e->lk, &d, true, 0);
    }
    cf__lock_release(&e->lk);
    return r;
}
