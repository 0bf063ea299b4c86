/* queue_locked.c: cf_queue for unbounded FIFO, LIFO and priority queues (and bounded FIFOs too
 * large for a preallocated ring): a lock around a growable store, Python's queue.Queue semantics.
 *
 * Design notes.
 * - One 4-byte futex lock guards the store and the counters. Each kind of waiter (getters,
 *   putters, joiners) sleeps on its own futex sequence word; a waiter reads the word under the
 *   lock, counts itself in, unlocks and sleeps on that value. A waker changes the word under the
 *   lock, so a waiter that has not fallen asleep yet sees the change and does not sleep, and calls
 *   futex_wake after unlocking, so the woken thread does not run into a held lock.
 * - Only waiters that can make progress are woken: a put wakes one getter and only if one waits;
 *   a get wakes one putter and only if one waits (only bounded queues have any); the last
 *   task_done wakes the joiners; shutdown wakes everyone.
 * - A getter that timed out still takes an item that arrived meanwhile, and a woken getter that
 *   lost the race for the item goes back to sleep; so an item never stays in the queue while a
 *   getter it was meant for sleeps on.
 * - Before sleeping, a waiter spins briefly (CF__QSPIN polls of an atomic mirror of the count,
 *   lock not held, not yet counted as a sleeper so no one pays a futex_wake for it): a wake-up
 *   costs ~20 us each way, and under a busy producer/consumer pair the item or the slot usually
 *   arrives within that. The spin is bounded; the wait itself sleeps.
 * - `count` mirrors store.count for cf_queue_size and the spin; written under the lock only. */
#include <errno.h>
#include <stdlib.h>

#include <urcu/arch.h>

#include "../common/deadline.h"
#include "../common/futex.h"
#include "../common/lock.h"
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
    int              getters, putters, joiners;   /* sleeping (or about to), under lock */
    cf__qstore       store;
    _Atomic size_t   count;
    _Atomic uint32_t not_empty, not_full, all_done;
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
    q->maxsize = maxsize;
    cf__qstore_init(&q->store, (cf__qkind)kind, maxsize, cmp);
    return &q->base;
}

static bool full(const locked_queue *q) { return q->maxsize && q->store.count >= q->maxsize; }

static void bump(_Atomic uint32_t *seq) { atomic_fetch_add_explicit(seq, 1, memory_order_release); }

/* Called with the lock held when the caller cannot proceed yet: releases it, polls an atomic
 * mirror of the count for a bounded while (without counting itself as a sleeper, so nobody pays
 * a futex_wake for it), and re-takes the lock. */
static void spin_for(locked_queue *q, bool want_items)
{
    cf__lock_release(&q->lock);
    for (int i = 0; i < CF__QSPIN; i++) {
        size_t n = atomic_load_explicit(&q->count, memory_order_relaxed);
        if (want_items ? n > 0 : n < q->maxsize)
            break;
        if (atomic_load_explicit(&q->shut_flag, memory_order_relaxed))
            break;
        caa_cpu_relax();
    }
    cf__lock_acquire(&q->lock);
}

/* Sleeps on *seq with the lock released; the caller has counted itself as a sleeper and read
 * `seen` under the lock. Returns with the lock held. 0 | ETIMEDOUT. */
static int sleep_on(locked_queue *q, _Atomic uint32_t *seq, uint32_t seen, const cf__deadline *d)
{
    cf__lock_release(&q->lock);
    int r = cf__futex_wait(seq, seen, d);
    cf__lock_acquire(&q->lock);
    return r;
}

/* With the lock held, waits until the caller can proceed: a put until there is room, a get
 * until there is an item. Spins once (lock released), then sleeps counted in the putters or
 * getters. Returns with the lock held: 0 | EPIPE | EAGAIN | ETIMEDOUT. A get still drains after
 * shutdown, a put fails at once. */
static int wait_turn(locked_queue *q, bool get, const cf__deadline *d)
{
    bool timed_out = false, spun = false;
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
        int *sleepers = get ? &q->getters : &q->putters;
        _Atomic uint32_t *seq = get ? &q->not_empty : &q->not_full;
        (*sleepers)++;
        uint32_t seen = atomic_load_explicit(seq, memory_order_relaxed);
        timed_out = sleep_on(q, seq, seen, d) == ETIMEDOUT;
        (*sleepers)--;
    }
}

static int lq_put(cf_queue *base, void *item, const cf__deadline *d)
{
    locked_queue *q = (locked_queue *)base;
    cf__lock_acquire(&q->lock);
    int r = wait_turn(q, false, d);
    bool wake = false;
    if (r == 0 && (r = cf__qstore_push(&q->store, item)) == 0) {
        atomic_store_explicit(&q->count, q->store.count, memory_order_relaxed);
        q->unfinished++;
        if ((wake = q->getters > 0))
            bump(&q->not_empty);
    }
    cf__lock_release(&q->lock);
    if (wake)
        cf__futex_wake(&q->not_empty, 1);
    return r;
}

static int lq_get(cf_queue *base, const cf__deadline *d, void **item)
{
    locked_queue *q = (locked_queue *)base;
    cf__lock_acquire(&q->lock);
    int r = wait_turn(q, true, d);
    void *v = NULL;
    bool wake = false;
    if (r == 0) {
        v = cf__qstore_pop(&q->store);
        atomic_store_explicit(&q->count, q->store.count, memory_order_relaxed);
        if ((wake = q->putters > 0))
            bump(&q->not_full);
    }
    cf__lock_release(&q->lock);
    if (wake)
        cf__futex_wake(&q->not_full, 1);
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
    bool wake = --q->unfinished == 0 && q->joiners > 0;
    if (wake)
        bump(&q->all_done);
    cf__lock_release(&q->lock);
    if (wake)
        cf__futex_wake(&q->all_done, CF__WAKE_ALL);
    return 0;
}

static int lq_join(cf_queue *base, const cf__deadline *d)
{
    locked_queue *q = (locked_queue *)base;
    int r = 0;
    cf__lock_acquire(&q->lock);
    while (q->unfinished > 0) {
        if (d->poll || r == ETIMEDOUT) {
            r = ETIMEDOUT;
            break;
        }
        q->joiners++;
        uint32_t seen = atomic_load_explicit(&q->all_done, memory_order_relaxed);
        cf__lock_release(&q->lock);
        r = cf__futex_wait(&q->all_done, seen, d);
        cf__lock_acquire(&q->lock);
        q->joiners--;
    }
    if (q->unfinished == 0)
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
        cf__qstore_clear(&q->store);
        atomic_store_explicit(&q->count, 0, memory_order_relaxed);
        q->unfinished = dropped < q->unfinished ? q->unfinished - dropped : 0;
    }
    bump(&q->not_empty);
    bump(&q->not_full);
    if (q->unfinished == 0)
        bump(&q->all_done);
    cf__lock_release(&q->lock);
    cf__futex_wake(&q->not_empty, CF__WAKE_ALL);
    cf__futex_wake(&q->not_full, CF__WAKE_ALL);
    cf__futex_wake(&q->all_done, CF__WAKE_ALL);
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
