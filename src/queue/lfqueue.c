/* SPDX-License-Identifier: MIT */
/* lfqueue.c: cf_lfqueue, an unbounded MPMC queue of pointers: producers push onto an MPSC list
 * of nodes (mpsc.h: one xchg, wait-free), consumers take items from a batch without a lock.
 *
 * Design notes.
 * - The batch: up to BATCH items moved off the list, in order, into an array inside the queue,
 *   with one word `state` = generation | next index | count. A consumer takes item `next` with
 *   one CAS of state (next + 1); nothing else is written per pop, so a consumer that keeps up
 *   pays one uncontended CAS per item and no lock. Items are never held by a thread: whatever
 *   is in the batch is the queue's, any consumer takes it, cf_lfqueue_free frees it.
 * - The refill: a consumer that finds the batch used up takes `refilling` (a flag taken with
 *   one exchange, once per batch; the list's single-consumer side is what it guards), checks
 *   that nobody refilled meanwhile, pops up to BATCH + 1 nodes, keeps the first item for itself
 *   and publishes the rest as the next generation. When the list holds one item only (a
 *   consumer that keeps up with its producers), that item is returned without touching the
 *   batch. A consumer that finds the flag taken does not sleep on it: it pauses, then yields,
 *   and looks at the batch again, which the refill is about to fill (a mutex could put it to
 *   sleep in the kernel, and pop promises never to sleep).
 * - Why a reader may read a slot it then does not get: a consumer reads state (acquire), then
 *   batch[next] (relaxed, atomic), then CASes state. The refill writes slots only after it has
 *   seen the batch used up, i.e. after every CAS of the old generation, and publishes with a
 *   release store of a new generation, so a CAS that succeeds proves the slot it read was not
 *   rewritten since (the generation is 48 bits: it would take 2^48 refills during one pop to
 *   come back). A stale read is of memory the queue owns for its lifetime: no use after free.
 * - Empty: the batch used up and the list empty (tail == head), read without the flag or any
 *   RMW, so polling an empty queue costs three loads.
 * - Order: FIFO. The batch holds the oldest items and is refilled only when used up.
 * - Memory: nodes from node_cache.c, freed to it by the refill; the node whose item was taken
 *   last stays as the list's dummy until the next one is taken (mpsc.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "cfutures/queue.h"
#include "../common/backoff.h"
#include "../common/list.h"
#include "../common/race.h"
#include "node_cache.h"

enum { BATCH = 128 };

/* state: generation (bits 16-63) | next (bits 8-15) | count (bits 0-7). */
#define ST_NEXT1          ((uint64_t)1 << 8)
#define ST_GEN1           ((uint64_t)1 << 16)
#define ST_NEXT(s)        ((unsigned)((s) >> 8) & 0xff)
#define ST_COUNT(s)       ((unsigned)(s) & 0xff)

struct cf_lfqueue {
    cf__mpsc          list;                   /* producers' tail, then the refill's head */
    char              pad1[64];
    _Atomic uint64_t  state;                  /* consumers' word */
    _Atomic(void *)   batch[BATCH];
    char              pad2[64];
    atomic_bool       refilling;              /* guards list's consumer side */
    cf_free_fn        item_free;              /* for the items left at free; set before sharing */
};

CF_EXTERN cf_lfqueue *cf_lfqueue_new(void)
{
    cf_lfqueue *q = aligned_alloc(64, (sizeof(cf_lfqueue) + 63) / 64 * 64);
    if (!q) {
        errno = ENOMEM;
        return NULL;
    }
    cf__mpsc_init(&q->list);
    atomic_init(&q->state, 0);
    for (int i = 0; i < BATCH; i++)
        atomic_init(&q->batch[i], NULL);
    atomic_init(&q->refilling, false);
    q->item_free = NULL;
    return q;
}

CF_EXTERN int cf_lfqueue_push(cf_lfqueue *q, void *item)
{
    if (!q)
        return EINVAL;
    cf__lfnode *n = cf__lfnode_get();
    if (!n)
        return ENOMEM;
    n->item = item;
    cf__mpsc_push(&q->list, &n->node);
    return 0;
}

/* The next item off the list, under `refilling`: false when none is there yet. */
static bool list_take(cf_lfqueue *q, void **item)
{
    cf__mpsc_node *retired;
    cf__mpsc_node *node = cf__mpsc_pop(&q->list, &retired);
    if (!node || node == CF__MPSC_BUSY)
        return false;
    *item = cf__container_of(node, cf__lfnode, node)->item;
    if (retired)
        cf__lfnode_put(cf__container_of(retired, cf__lfnode, node));
    return true;
}

static bool refill_trylock(cf_lfqueue *q)
{
    return !atomic_load_explicit(&q->refilling, memory_order_relaxed) &&
           !atomic_exchange_explicit(&q->refilling, true, memory_order_acquire);
}

static void refill_unlock(cf_lfqueue *q)
{
    atomic_store_explicit(&q->refilling, false, memory_order_release);
}

/* With the batch used up: takes the oldest item and moves the next ones into the batch. EBUSY:
 * another consumer is refilling; EINTR: one just did. */
static int refill(cf_lfqueue *q, uint64_t seen, void **item)
{
    if (!refill_trylock(q))
        return EBUSY;
    uint64_t s = atomic_load_explicit(&q->state, memory_order_relaxed);
    if (s != seen) {
        refill_unlock(q);
        return EINTR;
    }
    if (!list_take(q, item)) {
        refill_unlock(q);
        return EAGAIN;
    }
    unsigned k = 0;
    void *v;
    while (k < BATCH && list_take(q, &v))
        atomic_store_explicit(&q->batch[k++], v, memory_order_relaxed);
    CF__RACE_WINDOW();                     /* other consumers find the refill in progress */
    if (k)
        atomic_store_explicit(&q->state, ((s >> 16) + 1) * ST_GEN1 | k, memory_order_release);
    refill_unlock(q);
    return 0;
}

CF_EXTERN int cf_lfqueue_pop(cf_lfqueue *q, void **item)
{
    if (!q)
        return EINVAL;
    void *v;
    cf__backoff b = cf__backoff_new(8, UINT32_MAX - 8);   /* yields without end */
    for (;;) {
        uint64_t s = atomic_load_explicit(&q->state, memory_order_acquire);
        unsigned next = ST_NEXT(s);
        if (next < ST_COUNT(s)) {
            v = atomic_load_explicit(&q->batch[next], memory_order_relaxed);
            CF__RACE_WINDOW();             /* the slot may be taken and refilled meanwhile */
            if (atomic_compare_exchange_weak_explicit(&q->state, &s, s + ST_NEXT1,
                                                      memory_order_acq_rel, memory_order_relaxed))
                break;
            continue;
        }
        if (cf__mpsc_empty(&q->list))
            return EAGAIN;
        int rc = refill(q, s, &v);
        if (rc == EBUSY)
            cf__backoff_step(&b);          /* pause, then yield: the refill is short */
        if (rc == EBUSY || rc == EINTR)
            continue;
        if (rc)
            return rc;
        break;
    }
    if (item)
        *item = v;
    return 0;
}

CF_EXTERN bool cf_lfqueue_empty(cf_lfqueue *q)
{
    if (!q)
        return true;
    uint64_t s = atomic_load_explicit(&q->state, memory_order_acquire);
    return ST_NEXT(s) >= ST_COUNT(s) && cf__mpsc_empty(&q->list);
}

CF_EXTERN int cf_lfqueue_set_item_free(cf_lfqueue *q, cf_free_fn item_free)
{
    if (!q)
        return EINVAL;
    q->item_free = item_free;
    return 0;
}

CF_EXTERN void cf_lfqueue_free(cf_lfqueue *q)
{
    if (!q)
        return;
    void *v;
    while (cf_lfqueue_pop(q, &v) == 0)        /* no push is in progress: free is the last call */
        if (q->item_free)
            q->item_free(v);
    cf__mpsc_node *dummy = cf__mpsc_dummy(&q->list);
    if (dummy)
        cf__lfnode_put(cf__container_of(dummy, cf__lfnode, node));
    free(q);
}
