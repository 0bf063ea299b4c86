/* SPDX-License-Identifier: MIT */
/* queue_locked.c: cf_queue for unbounded FIFO, LIFO and priority queues (and bounded FIFOs too
 * large for a preallocated ring): a lock around a growable store, Python's queue.Queue semantics.
 *
 * Design notes.
 * - One 4-byte futex lock guards the store, the counters and three wait queues (waitq.h):
 *   getters, putters, joiners, threads and coroutines alike. A waiter queues itself and parks
 *   with the lock let go; a waker wakes under the lock, so nobody is missed.
 * - Only waiters that can make progress are woken: a put wakes one getter and only if one waits;
 *   a get wakes one putter and only if one waits (only bounded queues have any); the last
 *   task_done wakes the joiners; shutdown wakes everyone.
 * - A getter that timed out still takes an item that arrived meanwhile, and a woken getter that
 *   lost the race for the item goes back to sleep; so an item never stays in the queue while a
 *   getter it was meant for sleeps on.
 * - Before sleeping, a thread spins briefly (CF__QSPIN polls of an atomic mirror of the count,
 *   lock not held, not yet queued so no one pays a wake for it): a wake-up costs ~20 us each
 *   way, and under a busy producer/consumer pair the item or the slot usually arrives within
 *   that. A coroutine does not spin: its peer may be a sibling on the same thread.
 * - `count` mirrors store.count for cf_queue_size and the spin; written under the lock only. */
#include <errno.h>
#include <stdlib.h>

#include "../common/backoff.h"
#include "../common/deadline.h"
#include "../common/lock.h"
#include "../wait/waitq.h"
#include "cfutures/queue.h"
#include "queue.h"
#include "queue_store.h"

#define CF__QSPIN 200

typedef struct locked_queue {
    cf_queue         base;
    cf__lock         lock;
    bool             shut;
    atomic_bool      shut_flag;      /* mirror of shut for the lock-free spin */
    size_t           maxsize;        /* 0: unbounded */
    size_t           unfinished;     /* put and not yet task_done */
    cf__waitq        getters, putters, joiners;   /* under lock */
    cf__qstore       store;
    _Atomic size_t   count;
} locked_queue;

static const cf__queue_ops locked_ops;

cf_queue *cf__queue_locked_new(int kind, size_t maxsize, cf_cmp_fn cmp)
{
    locked_queue *q = calloc(1, sizeof *q);
    if (!q) {
        errno = ENOMEM;
        return NULL;
    }
    q->base.ops = &locked_ops;
    cf__lock_init(&q->lock);
    cf__waitq_init(&q->getters);
    cf__waitq_init(&q->putters);
    cf__waitq_init(&q->joiners);
    q->maxsize = maxsize;
    cf__qstore_init(&q->store, (cf__qkind)kind, maxsize, cmp);
    return &q->base;
}

static bool full(const locked_queue *q) { return q->maxsize && q->store.count >= q->maxsize; }

/* Called with the lock held when the caller cannot proceed yet: releases it, polls an atomic
 * mirror of the count for a bounded while (without counting itself as a sleeper, so nobody pays
 * a wake for it), and re-takes the lock. */
static void spin_for(locked_queue *q, bool want_items)
{
    cf__lock_release(&q->lock);
    cf__backoff b = cf__backoff_new(CF__QSPIN, 0);
    while (cf__backoff_step(&b)) {
        size_t n = atomic_load_explicit(&q->count, memory_order_relaxed);
        if (want_items ? n > 0 : n < q->maxsize)
            break;
        if (atomic_load_explicit(&q->shut_flag, memory_order_relaxed))
            break;
    }
    cf__lock_acquire(&q->lock);
}

/* With the lock held, waits until the caller can proceed: a put until there is room, a get
 * until there is an item. A thread spins once (lock released), then it parks on the putters or
 * getters. Returns with the lock held: 0 | EPIPE | EAGAIN | ETIMEDOUT | ECANCELED. A get still
 * drains after shutdown, a put fails at once. */
static int wait_turn(locked_queue *q, bool get, const cf__deadline *d)
{
    bool timed_out = false, spun = cf__in_coroutine();
    cf__waiter w;
    cf__waiter_init(&w, cf__parker_self());
    for (;;) {
        if (get ? q->store.count > 0 : !q->shut && !full(q))
            return 0;
        if (q->shut)
            return EPIPE;
        if (d->poll || timed_out)
            return d->poll ? EAGAIN : ETIMEDOUT;
        if (!spun) {
            spin_for(q, get);
            spun = true;
            continue;
        }
        int r = cf__waitq_sleep(get ? &q->getters : &q->putters, &w, &q->lock, d, true, 0);
        if (r == ECANCELED)
            return r;
        timed_out = r == ETIMEDOUT;
    }
}

static int lq_put(cf_queue *base, void *item, const cf__deadline *d)
{
    locked_queue *q = (locked_queue *)base;
    cf__lock_acquire(&q->lock);
    int r = wait_turn(q, false, d);
    if (r == 0 && (r = cf__qstore_push(&q->store, item)) == 0) {
        atomic_store_explicit(&q->count, q->store.count, memory_order_relaxed);
        q->unfinished++;
        cf__waitq_wake_one(&q->getters, 0);
    }
    cf__lock_release(&q->lock);
    return r;
}

static int lq_get(cf_queue *base, const cf__deadline *d, void **item)
{
    locked_queue *q = (locked_queue *)base;
    cf__lock_acquire(&q->lock);
    int r = wait_turn(q, true, d);
    void *v = NULL;
    if (r == 0) {
        v = cf__qstore_pop(&q->store);
        atomic_store_explicit(&q->count, q->store.count, memory_order_relaxed);
        cf__waitq_wake_one(&q->putters, 0);
    }
    cf__lock_release(&q->lock);
    if (r == 0 && item)
        *item = v;
    return r;
}

static size_t lq_size(cf_queue *base)
{
    return atomic_load_explicit(&((locked_queue *)base)->count, memory_order_relaxed);
}

static int lq_task_done(cf_queue *base)
{
    locked_queue *q = (locked_queue *)base;
    cf__lock_acquire(&q->lock);
    if (q->unfinished == 0) {
        cf__lock_release(&q->lock);
        return EINVAL;
    }
    if (--q->unfinished == 0)
        cf__waitq_wake_all(&q->joiners, 0);
    cf__lock_release(&q->lock);
    return 0;
}

static int lq_join(cf_queue *base, const cf__deadline *d)
{
    locked_queue *q = (locked_queue *)base;
    int r = 0;
    cf__waiter w;
    cf__waiter_init(&w, cf__parker_self());
    cf__lock_acquire(&q->lock);
    while (q->unfinished > 0) {
        if (d->poll || r) {
            r = r ? r : ETIMEDOUT;   /* or ECANCELED */
            break;
        }
        r = cf__waitq_sleep(&q->joiners, &w, &q->lock, d, true, 0);
    }
    if (q->unfinished == 0 && r != ECANCELED)
        r = 0;
    cf__lock_release(&q->lock);
    return r;
}

static void lq_shutdown(cf_queue *base, bool immediate)
{
    locked_queue *q = (locked_queue *)base;
    cf__lock_acquire(&q->lock);
    q->shut = true;
    atomic_store_explicit(&q->shut_flag, true, memory_order_relaxed);
    if (immediate) {
        /* Python 3.13: drop what is left, counting each dropped item as done. */
        size_t dropped = q->store.count;
        if (q->base.item_free)     /* under the lock: item_free must not call this queue */
            while (q->store.count)
                q->base.item_free(cf__qstore_pop(&q->store));
        cf__qstore_clear(&q->store);
        atomic_store_explicit(&q->count, 0, memory_order_relaxed);
        q->unfinished = dropped < q->unfinished ? q->unfinished - dropped : 0;
    }
    cf__waitq_wake_all(&q->getters, 0);
    cf__waitq_wake_all(&q->putters, 0);
    if (q->unfinished == 0)
        cf__waitq_wake_all(&q->joiners, 0);
    cf__lock_release(&q->lock);
}

static void lq_destroy(cf_queue *base)
{
    locked_queue *q = (locked_queue *)base;
    cf__qstore_destroy(&q->store);
    free(q);
}

static const cf__queue_ops locked_ops = {
    .put = lq_put,
    .get = lq_get,
    .size = lq_size,
    .task_done = lq_task_done,
    .join = lq_join,
    .shutdown = lq_shutdown,
    .destroy = lq_destroy,
};
