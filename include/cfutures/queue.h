/* SPDX-License-Identifier: MIT */
/** @file
 * Queues between threads.
 *  - cf_lfqueue: unbounded multi-producer multi-consumer queue of pointers, non-blocking for
 *    everyone: a push is one atomic exchange (wait-free), a pop takes the next item of a batch
 *    with one compare-and-swap, and one pop in 128 refills the batch from the producers' list;
 *    pop returns EAGAIN when empty. Nodes are carved from per-thread slabs (one per ~8,000
 *    pushes), which go back to a small process-wide stash for reuse once consumed.
 *  - cf_queue: a blocking queue with Python's queue.Queue semantics: FIFO (bounded or not),
 *    LIFO, priority; put/get with timeouts, task_done/join, and shutdown as in Python 3.13.
 *
 * Which calls may run concurrently with which (same queue; "yes" = safe, no external lock):
 *
 *                     | push | pop | empty | free
 *   cf_lfqueue_push   | yes  | yes | yes   | no
 *   cf_lfqueue_pop    | yes  | yes | yes   | no
 *   cf_lfqueue_empty  | yes  | yes | yes   | no
 *
 *                     | put | get | size | task_done | join | shutdown | free
 *   cf_queue_*        | yes | yes | yes  | yes       | yes  | yes      | no
 *
 * free must be the last call on a queue: no other thread may be inside, or blocked in, a call on
 * it. Items left in a queue are the caller's pointers: the queue frees them only when given an
 * item destructor (cf_queue_set_item_free, cf_lfqueue_set_item_free).
 *
 * In a coroutine (loop.h), a put, get or join that has to wait suspends the coroutine instead of
 * blocking its loop, and the peer operation wakes it (threads and coroutines wait in one line,
 * served in the order they came), so coroutines of one loop feed each other through a queue at
 * the cost of a context switch. It returns ECANCELED if the coroutine is cancelled meanwhile. */
#ifndef CFUTURES_QUEUE_H
#define CFUTURES_QUEUE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An unbounded lock-free queue of pointers (opaque): see cf_lfqueue_new. */
typedef struct cf_lfqueue cf_lfqueue;
/** A new empty queue. NULL + errno ENOMEM. */
CF_EXTERN cf_lfqueue *cf_lfqueue_new(void);
/** Appends item (any pointer, NULL included). Wait-free except when a node must be allocated.
 * 0 | ENOMEM | EINVAL (NULL q). */
CF_EXTERN int   cf_lfqueue_push(cf_lfqueue *q, void *item);
/** Takes the oldest item. Never sleeps: lock-free while the consumers' batch holds items; the
 * consumer that finds it used up refills it (up to 129 nodes), and one that finds another
 * consumer refilling pauses, then yields its CPU, until the batch is there.
 * 0 | EAGAIN when empty (a push still in progress may count as not there yet) | EINVAL. */
CF_EXTERN int   cf_lfqueue_pop(cf_lfqueue *q, void **item);
/** A snapshot: true when no item is there. NULL q reads as empty. */
CF_EXTERN bool  cf_lfqueue_empty(cf_lfqueue *q);
/** Gives the queue a destructor for the items still in it at cf_lfqueue_free (GLib's
 * g_async_queue_new_full). Call it before the queue is shared; NULL: none (the default).
 * 0 | EINVAL (NULL q). */
CF_EXTERN int   cf_lfqueue_set_item_free(cf_lfqueue *q, cf_free_fn item_free);
/** Frees the queue and its nodes, passing each item left to the item destructor if one was set.
 * NULL: no-op. */
CF_EXTERN void  cf_lfqueue_free(cf_lfqueue *q);

/** A blocking queue of pointers: FIFO, LIFO or priority, bounded or not (opaque). */
typedef struct cf_queue cf_queue;
/** A priority queue's order: < 0 when a comes out before b. */
typedef int (*cf_cmp_fn)(const void *a, const void *b);
/** A FIFO queue; maxsize 0 = unbounded. NULL + errno ENOMEM. A bounded FIFO of up to 65,536
 * items is a preallocated lock-free ring (16 bytes a slot: 1 MiB for 65,536); every other
 * queue's storage grows on demand, never past maxsize slots. */
CF_EXTERN cf_queue *cf_queue_new(size_t maxsize);
/** A LIFO queue (a stack); maxsize 0 = unbounded. NULL + errno ENOMEM. */
CF_EXTERN cf_queue *cf_queue_new_lifo(size_t maxsize);
/** Priority queue: the item for which cmp says "first" comes out first; equal items come out in
 * insertion order. cmp receives the item pointers themselves. NULL + errno ENOMEM | EINVAL
 * (NULL cmp). */
CF_EXTERN cf_queue *cf_queue_new_priority(size_t maxsize, cf_cmp_fn cmp);
/** Adds item, waiting up to timeout while the queue is full (a coroutine suspends until a get makes
 * room). Wakes one waiting getter, thread or coroutine, in the order they came.
 * 0 | EAGAIN (timeout 0, full) | ETIMEDOUT | ECANCELED (the calling coroutine was cancelled) |
 * EPIPE (shut down; takes precedence) | ENOMEM (growing storage) | EINVAL. */
CF_EXTERN int    cf_queue_put(cf_queue *q, void *item, double timeout);
/** Removes the next item, waiting up to timeout while the queue is empty (a coroutine suspends
 * until a put wakes it: no polling, no wake-ups while idle). Wakes one waiting putter. After
 * shutdown it still drains what is left, then returns EPIPE. 0 | EAGAIN (timeout 0, empty) |
 * ETIMEDOUT | ECANCELED (the calling coroutine was cancelled) | EPIPE (shut down and drained) |
 * EINVAL. */
CF_EXTERN int    cf_queue_get(cf_queue *q, double timeout, void **item);
/** Items in the queue now (0 for NULL). */
CF_EXTERN size_t cf_queue_size(cf_queue *q);
/** One item taken by get is fully processed (Python's task_done). Wakes joiners at zero.
 * 0 | EINVAL when called more times than items were put (or NULL q). */
CF_EXTERN int    cf_queue_task_done(cf_queue *q);
/** Waits until every item put has been marked task_done (a coroutine suspends).
 * 0 | ETIMEDOUT | ECANCELED (the calling coroutine was cancelled) | EINVAL. */
CF_EXTERN int    cf_queue_join(cf_queue *q, double timeout);
/** Python 3.13's shutdown: later puts fail with EPIPE; gets drain what is left, then EPIPE.
 * immediate: what is left is dropped at once (and counted as task_done, which may release
 * joiners; passed to the item destructor, if set) and gets fail with EPIPE at once. Every
 * blocked put and get wakes. Idempotent;
 * a later immediate shutdown still drops. */
CF_EXTERN void   cf_queue_shutdown(cf_queue *q, bool immediate);
/** Gives the queue a destructor for the items it discards: those an immediate shutdown drops (it
 * runs there, under the queue's lock: it must not call this queue) and those still in it at
 * cf_queue_free. Items taken by get are the taker's. Call it before the queue is shared; NULL:
 * none (the default). 0 | EINVAL (NULL q). */
CF_EXTERN int    cf_queue_set_item_free(cf_queue *q, cf_free_fn item_free);
/** Frees the queue (NULL: no-op), passing each item left to the item destructor if one was set. */
CF_EXTERN void   cf_queue_free(cf_queue *q);

#ifdef __cplusplus
}
#endif
#endif
