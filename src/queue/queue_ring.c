/* SPDX-License-Identifier: MIT */
/* queue_ring.c: cf_queue for bounded FIFO queues: a lock-free ring (Dmitry Vyukov's bounded MPMC
 * queue) with Python's queue.Queue semantics on top.
 *
 * Design notes.
 * - Each cell carries a sequence number: cell i is free for the put at position p when
 *   seq == p, and holds that put's item when seq == p + 1; a get at position p frees it for
 *   p + capacity. Producers claim positions with a CAS on `enq`, consumers with a CAS on `deq`,
 *   then publish through the cell's seq (release/acquire). No lock anywhere; capacity is the
 *   next power of two >= max(maxsize, 2), and when they differ a put also checks
 *   enq - deq < maxsize.
 * - Shutdown sets CF__SHUT in `enq` itself: a put's CAS on enq fails once the bit is set, so no
 *   position is claimed after shutdown, and a get knows the queue is drained when
 *   deq == enq without the bit (a claimed slot still being written counts as not drained).
 * - Waiting: a thread that cannot proceed spins a little first (backoff.h: the peer is usually
 *   microseconds away); a coroutine does not (its peer may be a sibling on the same thread).
 *   Then it prepares on the side's eventcount (ecount.h), re-tries, and parks: a thread sleeps,
 *   a coroutine suspends and its loop goes on. The other side publishes its cell with a seq_cst
 *   store and then notifies (a seq_cst load of the waiter count): the Dekker pair that makes a
 *   lost wake-up impossible. Wakers pay for a wake only when somebody waits, and wake one.
 * - task_done/join: unfinished = puts - done, where puts is enq's position (every claimed
 *   position is one put) and done counts task_done calls and items dropped by an immediate
 *   shutdown. */
#include <errno.h>
#include <sched.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include "../common/backoff.h"
#include "../common/futex.h"
#include "../wait/ecount.h"
#include "queue.h"

#define CF__SHUT       ((size_t)1 << (sizeof(size_t) * 8 - 1))
#define CF__RSPIN_PAUSE 64
#define CF__RSPIN_YIELD 16

typedef struct cell {
    _Atomic size_t seq;
    void          *item;     /* published by seq */
} cell;

typedef struct ring_queue {
    cf_queue base;
    size_t   maxsize, mask;
    cell    *cells;
    atomic_bool immediate;
    alignas(64) _Atomic size_t enq;          /* next put position | CF__SHUT */
    alignas(64) _Atomic size_t deq;          /* next get position */
    alignas(64) cf__ecount     not_empty;    /* getters wait here */
    alignas(64) cf__ecount     not_full;     /* putters */
    alignas(64) _Atomic size_t done;         /* task_done calls + items dropped */
    cf__ecount                 all_done;     /* joiners */
} ring_queue;

static const cf__queue_ops ring_ops;

cf_queue *cf__queue_ring_new(size_t maxsize)
{
    size_t cap = 2;   /* with one cell, "full at p" and "free for p + 1" would look alike */
    while (cap < maxsize)
        cap <<= 1;
    ring_queue *q = aligned_alloc(64, (sizeof(ring_queue) + 63) / 64 * 64);
    cell *cells = malloc(cap * sizeof *cells);
    if (!q || !cells) {
        free(q);
        free(cells);
        errno = ENOMEM;
        return NULL;
    }
    *q = (ring_queue){ .base.ops = &ring_ops, .maxsize = maxsize, .mask = cap - 1, .cells = cells };
    for (size_t i = 0; i < cap; i++)
        atomic_init(&cells[i].seq, i);
    cf__ecount_init(&q->not_empty);
    cf__ecount_init(&q->not_full);
    cf__ecount_init(&q->all_done);
    return &q->base;
}

/* 0 | EAGAIN (full) | EPIPE */
static int try_put(ring_queue *q, void *item)
{
    size_t pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
    for (;;) {
        if (pos & CF__SHUT)
            return EPIPE;
        cell *c = &q->cells[pos & q->mask];
        intptr_t dif = (intptr_t)(atomic_load_explicit(&c->seq, memory_order_acquire) - pos);
        if (dif == 0) {
            if (q->maxsize != q->mask + 1 &&
                (intptr_t)(pos - atomic_load_explicit(&q->deq, memory_order_acquire)) >= (intptr_t)q->maxsize)
                return EAGAIN;
            if (atomic_compare_exchange_weak_explicit(&q->enq, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                c->item = item;
                atomic_store_explicit(&c->seq, pos + 1, memory_order_seq_cst);
                return 0;
            }
        } else if (dif < 0) {
            return EAGAIN;
        } else {
            pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
        }
    }
}

/* 0 | EAGAIN (nothing published at the head) */
static int try_get(ring_queue *q, void **item)
{
    size_t pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
    for (;;) {
        cell *c = &q->cells[pos & q->mask];
        intptr_t dif = (intptr_t)(atomic_load_explicit(&c->seq, memory_order_seq_cst) - (pos + 1));
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->deq, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                void *v = c->item;
                atomic_store_explicit(&c->seq, pos + q->mask + 1, memory_order_seq_cst);
                if (item)
                    *item = v;
                return 0;
            }
        } else if (dif < 0) {
            return EAGAIN;
        } else {
            pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
        }
    }
}

/* Drained after shutdown: every claimed position was consumed. */
static bool drained(ring_queue *q)
{
    size_t e = atomic_load(&q->enq);
    return (e & CF__SHUT) && atomic_load(&q->deq) == (e & ~CF__SHUT);
}

/* One attempt: 0 (done) | EAGAIN (must wait) | a final error. */
typedef int (*attempt_fn)(ring_queue *q, void *arg);

static int attempt_put(ring_queue *q, void *item) { return try_put(q, item); }

static int attempt_get(ring_queue *q, void *out)
{
    if (atomic_load_explicit(&q->immediate, memory_order_relaxed))
        return EPIPE;
    if (try_get(q, out) == 0)
        return 0;
    return drained(q) ? EPIPE : EAGAIN;
}

/* Repeats the attempt while it says EAGAIN: spinning first (threads), then parking on e,
 * re-trying once after preparing (the Dekker pair with the notify). */
static int until_done(ring_queue *q, attempt_fn attempt, void *arg, cf__ecount *e,
                      const cf__deadline *d)
{
    int r = attempt(q, arg);
    if (r != EAGAIN || d->poll)
        return r;
    if (!cf__in_coroutine()) {
        cf__backoff b = cf__backoff_new(CF__RSPIN_PAUSE, CF__RSPIN_YIELD);
        while (cf__backoff_step(&b))
            if ((r = attempt(q, arg)) != EAGAIN)
                return r;
    }
    for (bool timed_out = false;;) {
        uint32_t key = cf__ecount_prepare(e);
        if ((r = attempt(q, arg)) != EAGAIN || timed_out) {
            cf__ecount_cancel(e);
            return r == EAGAIN ? ETIMEDOUT : r;
        }
        r = cf__ecount_wait(e, key, d, true);
        if (r == ECANCELED)
            return r;
        timed_out = r == ETIMEDOUT;   /* one last try: an item that came meanwhile is taken */
    }
}

static int rq_put(cf_queue *base, void *item, const cf__deadline *d)
{
    ring_queue *q = (ring_queue *)base;
    int r = until_done(q, attempt_put, item, &q->not_full, d);
    if (r == 0)
        cf__ecount_notify(&q->not_empty, 1);
    return r;
}

static int rq_get(cf_queue *base, const cf__deadline *d, void **item)
{
    ring_queue *q = (ring_queue *)base;
    int r = until_done(q, attempt_get, item, &q->not_empty, d);
    if (r == 0)
        cf__ecount_notify(&q->not_full, 1);
    return r;
}

static size_t rq_size(cf_queue *base)
{
    ring_queue *q = (ring_queue *)base;
    size_t dq = atomic_load(&q->deq), e = atomic_load(&q->enq) & ~CF__SHUT;
    size_t n = e > dq ? e - dq : 0;
    return n > q->maxsize ? q->maxsize : n;
}

static size_t puts_so_far(ring_queue *q) { return atomic_load(&q->enq) & ~CF__SHUT; }

static int rq_task_done(cf_queue *base)
{
    ring_queue *q = (ring_queue *)base;
    size_t total, n = atomic_load(&q->done);
    do {
        total = puts_so_far(q);          /* afresh on each try: puts go on meanwhile */
        if (n >= total)
            return EINVAL;
    } while (!atomic_compare_exchange_weak(&q->done, &n, n + 1));
    if (n + 1 == total)
        cf__ecount_notify(&q->all_done, CF__WAKE_ALL);
    return 0;
}

static int rq_join(cf_queue *base, const cf__deadline *d)
{
    ring_queue *q = (ring_queue *)base;
    for (;;) {
        if (atomic_load(&q->done) >= puts_so_far(q))
            return 0;
        if (d->poll || cf__deadline_passed(d))
            return ETIMEDOUT;
        uint32_t key = cf__ecount_prepare(&q->all_done);
        if (atomic_load(&q->done) >= puts_so_far(q)) {
            cf__ecount_cancel(&q->all_done);
            return 0;
        }
        if (cf__ecount_wait(&q->all_done, key, d, true) == ECANCELED)
            return ECANCELED;
    }
}

static void rq_shutdown(cf_queue *base, bool immediate)
{
    ring_queue *q = (ring_queue *)base;
    if (immediate)
        atomic_store(&q->immediate, true);
    atomic_fetch_or(&q->enq, CF__SHUT);
    if (immediate) {
        /* Drop what is left; a slot claimed but still being written is waited for (a put is
         * a few instructions past its CAS). Dropped items count as done. */
        size_t dropped = 0;
        while (!drained(q)) {
            void *item;
            if (try_get(q, &item) == 0) {
                dropped++;
                if (q->base.item_free)
                    q->base.item_free(item);
            } else {
                sched_yield();
            }
        }
        atomic_fetch_add(&q->done, dropped);
        cf__ecount_notify(&q->all_done, CF__WAKE_ALL);
    }
    cf__ecount_notify(&q->not_empty, CF__WAKE_ALL);
    cf__ecount_notify(&q->not_full, CF__WAKE_ALL);
}

static void rq_destroy(cf_queue *base)
{
    ring_queue *q = (ring_queue *)base;
    free(q->cells);
    free(q);
}

static const cf__queue_ops ring_ops = {
    .put = rq_put,
    .get = rq_get,
    .size = rq_size,
    .task_done = rq_task_done,
    .join = rq_join,
    .shutdown = rq_shutdown,
    .destroy = rq_destroy,
};
