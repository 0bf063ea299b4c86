/* SPDX-License-Identifier: MIT */
/* queue.h (internal): cf_queue has two implementations behind one small vtable:
 *  - queue_ring.c: bounded FIFO queues (maxsize <= CF__RING_MAX), a lock-free ring, the fast path;
 *  - queue_locked.c: every other kind (unbounded, LIFO, priority), a lock around a store.
 * queue.c checks arguments once and dispatches. */
#ifndef CF__QUEUE_H
#define CF__QUEUE_H

#include "cfutures/queue.h"
#include "../common/deadline.h"

#define CF__RING_MAX 65536   /* larger bounded FIFOs use the locked store, which grows lazily */

typedef struct cf__queue_ops {
    int    (*put)(cf_queue *q, void *item, const cf__deadline *d);
    int    (*get)(cf_queue *q, const cf__deadline *d, void **item);
    size_t (*size)(cf_queue *q);
    int    (*task_done)(cf_queue *q);
    int    (*join)(cf_queue *q, const cf__deadline *d);
    void   (*shutdown)(cf_queue *q, bool immediate);
    void   (*destroy)(cf_queue *q);
} cf__queue_ops;

struct cf_queue {
    const cf__queue_ops *ops;
    cf_free_fn           item_free;   /* for dropped and left items; set before sharing */
};

cf_queue *cf__queue_ring_new(size_t maxsize);                          /* NULL + errno */
cf_queue *cf__queue_locked_new(int kind, size_t maxsize, cf_cmp_fn cmp); /* NULL + errno */

#endif
