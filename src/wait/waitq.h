/* SPDX-License-Identifier: MIT */
/* waitq.h (internal): a wait queue (the kernel's wait_queue_head): a FIFO of waiters, each with
 * its own wake function, under a lock that belongs to the structure waited on (its state and its
 * waiters change together). Whatever can be waited on embeds one and knows nothing of who waits:
 * a thread, a coroutine, or a callback.
 *
 * Rules. Waiters are added, woken and removed with the owner's lock held; a wake function runs
 * under it, so it must be short and take no lock that is ever held while taking the owner's.
 * A waiter that returns from its wait takes the lock first, so nothing touches it afterwards
 * and it may live on the waiter's stack. */
#ifndef CF__WAITQ_H
#define CF__WAITQ_H

#include <stdint.h>

#include "../common/deadline.h"
#include "../common/list.h"
#include "../common/lock.h"
#include "parker.h"

typedef struct cf__waiter cf__waiter;
struct cf__waiter {
    cf__list    link;
    /* The wake: true if the waiter took it (a parker that a timer or a cancel already won
     * says false, and a wake-one goes on to the next). */
    bool      (*func)(cf__waiter *w, int reason);
    cf__parker *p;
    uintptr_t   data;   /* the waker's word for the waiter (a barrier's verdict, ...) */
};

typedef struct cf__waitq {
    cf__list head;
} cf__waitq;

/* Wakes w->p (the default func). */
bool cf__waiter_wake_parker(cf__waiter *w, int reason);

static inline void cf__waiter_init(cf__waiter *w, cf__parker *p)
{
    cf__list_init(&w->link);
    w->func = cf__waiter_wake_parker;
    w->p = p;
    w->data = 0;
}

static inline void cf__waitq_init(cf__waitq *q) { cf__list_init(&q->head); }
static inline bool cf__waitq_empty(const cf__waitq *q) { return cf__list_empty(&q->head); }
static inline void cf__waitq_add(cf__waitq *q, cf__waiter *w) { cf__list_push_back(&q->head, &w->link); }
static inline void cf__waitq_del(cf__waiter *w) { cf__list_remove(&w->link); }
static inline cf__waiter *cf__waitq_pop(cf__waitq *q)
{
    cf__list *n = cf__list_pop_front(&q->head);
    return n ? cf__container_of(n, cf__waiter, link) : NULL;
}

/* With *lk held: hangs w (initialized for the calling parker) at the back of q, arms the parker,
 * releases lk, parks until a wake, d or (cancellable) a cancel, takes lk again and takes w off q
 * if no waker did. Returns with lk held: the park's reason (0: a waker took w off and woke it). */
int cf__waitq_sleep(cf__waitq *q, cf__waiter *w, cf__lock *lk, const cf__deadline *d,
                    bool cancellable, unsigned flags);
/* With the lock held: takes waiters off the front until one takes the wake; that one, or NULL. */
cf__waiter *cf__waitq_wake_one(cf__waitq *q, int reason);
/* With the lock held: takes every waiter off and wakes it. How many took the wake. */
size_t cf__waitq_wake_all(cf__waitq *q, int reason);

#endif
