/* queue.c: cf_queue, a blocking queue between threads with Python's queue.Queue semantics.
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
 *   lock not held): a wake-up costs ~20 us each way, and under a busy producer/consumer pair the
 *   item or the slot usually arrives within that. The spin is bounded; the wait itself sleeps.
 * - `count` mirrors store.count for cf_queue_size and the spin; written under the lock only. */
#include <errno.h>
#include <stdlib.h>

#include <urcu/arch.h>

#include "../common/deadline.h"
#include "../common/futex.h"
#include "../common/lock.h"
#include "cfutures/queue.h"
#include "queue_store.h"

#define CF__QSPIN 200

struct cf_queue {
    cf__lock         lock;
    bool             shut;
    size_t           maxsize;        /* 0: unbounded */
    size_t           unfinished;     /* put and not yet task_done */
    int              getters, putters, joiners;   /* sleeping (or about to), under lock */
    cf__qstore       store;
    _Atomic size_t   count;
    _Atomic uint32_t not_empty, not_full, all_done;
};

static cf_queue *queue_new(cf__qkind kind, size_t maxsize, cf_cmp_fn cmp)
{
    cf_queue *q = calloc(1, sizeof *q);
    if (!q) {
        errno = ENOMEM;
        return NULL;
    }
    cf__lock_init(&q->lock);
    q->maxsize = maxsize;
    cf__qstore_init(&q->store, kind, maxsize, cmp);
    return q;
}

CF_EXTERN cf_queue *cf_queue_new(size_t maxsize) { return queue_new(CF__FIFO, maxsize, NULL); }
CF_EXTERN cf_queue *cf_queue_new_lifo(size_t maxsize) { return queue_new(CF__LIFO, maxsize, NULL); }

CF_EXTERN cf_queue *cf_queue_new_priority(size_t maxsize, cf_cmp_fn cmp)
{
    if (!cmp) {
        errno = EINVAL;
        return NULL;
    }
    return queue_new(CF__PRIO, maxsize, cmp);
}

static bool full(const cf_queue *q) { return q->maxsize && q->store.count >= q->maxsize; }

static void bump(_Atomic uint32_t *seq) { atomic_fetch_add_explicit(seq, 1, memory_order_release); }

/* Sleeps on *seq (read under the lock by the caller) with the lock released, after a short spin
 * that ends early when `ready` would now hold. Returns with the lock held. 0 | ETIMEDOUT. */
static int sleep_on(cf_queue *q, _Atomic uint32_t *seq, uint32_t seen, bool want_items,
                    const cf__deadline *d)
{
    cf__lock_release(&q->lock);
    for (int i = 0; i < CF__QSPIN; i++) {
        if (atomic_load_explicit(seq, memory_order_relaxed) != seen)
            break;
        size_t n = atomic_load_explicit(&q->count, memory_order_relaxed);
        if (want_items ? n > 0 : (!q->maxsize || n < q->maxsize))
            break;
        caa_cpu_relax();
    }
    int r = 0;
    if (atomic_load_explicit(seq, memory_order_acquire) == seen)
        r = cf__futex_wait(seq, seen, d);
    cf__lock_acquire(&q->lock);
    return r;
}

CF_EXTERN int cf_queue_put(cf_queue *q, void *item, double timeout)
{
    cf__deadline d;
    if (!q || cf__deadline_init(&d, timeout))
        return EINVAL;
    bool timed_out = false;
    cf__lock_acquire(&q->lock);
    for (;;) {
        if (q->shut) {
            cf__lock_release(&q->lock);
            return EPIPE;
        }
        if (!full(q))
            break;
        if (d.poll || timed_out) {
            cf__lock_release(&q->lock);
            return d.poll ? EAGAIN : ETIMEDOUT;
        }
        q->putters++;
        uint32_t seen = atomic_load_explicit(&q->not_full, memory_order_relaxed);
        timed_out = sleep_on(q, &q->not_full, seen, false, &d) == ETIMEDOUT;
        q->putters--;
    }
    int r = cf__qstore_push(&q->store, item);
    bool wake = false;
    if (r == 0) {
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

CF_EXTERN int cf_queue_get(cf_queue *q, double timeout, void **item)
{
    cf__deadline d;
    if (!q || cf__deadline_init(&d, timeout))
        return EINVAL;
    bool timed_out = false;
    cf__lock_acquire(&q->lock);
    for (;;) {
        if (q->store.count > 0)
            break;
        if (q->shut) {
            cf__lock_release(&q->lock);
            return EPIPE;
        }
        if (d.poll || timed_out) {
            cf__lock_release(&q->lock);
            return d.poll ? EAGAIN : ETIMEDOUT;
        }
        q->getters++;
        uint32_t seen = atomic_load_explicit(&q->not_empty, memory_order_relaxed);
        timed_out = sleep_on(q, &q->not_empty, seen, true, &d) == ETIMEDOUT;
        q->getters--;
    }
    void *v = cf__qstore_pop(&q->store);
    atomic_store_explicit(&q->count, q->store.count, memory_order_relaxed);
    bool wake = q->putters > 0;
    if (wake)
        bump(&q->not_full);
    cf__lock_release(&q->lock);
    if (wake)
        cf__futex_wake(&q->not_full, 1);
    if (item)
        *item = v;
    return 0;
}

CF_EXTERN size_t cf_queue_size(cf_queue *q)
{
    return q ? atomic_load_explicit(&q->count, memory_order_relaxed) : 0;
}

CF_EXTERN int cf_queue_task_done(cf_queue *q)
{
    if (!q)
        return EINVAL;
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

CF_EXTERN int cf_queue_join(cf_queue *q, double timeout)
{
    cf__deadline d;
    if (!q || cf__deadline_init(&d, timeout))
        return EINVAL;
    int r = 0;
    cf__lock_acquire(&q->lock);
    while (q->unfinished > 0) {
        if (d.poll || r == ETIMEDOUT) {
            r = ETIMEDOUT;
            break;
        }
        q->joiners++;
        uint32_t seen = atomic_load_explicit(&q->all_done, memory_order_relaxed);
        cf__lock_release(&q->lock);
        r = cf__futex_wait(&q->all_done, seen, &d);
        cf__lock_acquire(&q->lock);
        q->joiners--;
    }
    if (q->unfinished == 0)
        r = 0;
    cf__lock_release(&q->lock);
    return r;
}

CF_EXTERN void cf_queue_shutdown(cf_queue *q, bool immediate)
{
    if (!q)
        return;
    cf__lock_acquire(&q->lock);
    q->shut = true;
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

CF_EXTERN void cf_queue_free(cf_queue *q)
{
    if (!q)
        return;
    cf__qstore_destroy(&q->store);
    free(q);
}
