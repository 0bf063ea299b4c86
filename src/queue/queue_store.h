/* SPDX-License-Identifier: MIT */
/* queue_store.h (internal): where a cf_queue keeps its items: a growable ring (FIFO), a stack
 * (LIFO) or a binary heap (priority). Not thread-safe: the queue's lock guards it. The process
 * pool's manager keeps its unsent futures in a FIFO one, too. */
#ifndef CF__QUEUE_STORE_H
#define CF__QUEUE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/export.h"
#include "cfutures/queue.h"

typedef enum cf__qkind { CF__FIFO, CF__LIFO, CF__PRIO } cf__qkind;

typedef struct cf__pentry {
    void    *item;
    uint64_t seq;     /* insertion order: ties in cmp come out first-in first-out */
} cf__pentry;

typedef struct cf__qstore {
    cf__qkind  kind;
    cf_cmp_fn  cmp;
    size_t     max;          /* 0: unbounded; storage never grows past it */
    size_t     cap, head, count;
    void     **ring;         /* FIFO: items at (head + i) % cap; LIFO: ring[0..count) */
    cf__pentry *heap;        /* PRIO */
    uint64_t   seq;
} cf__qstore;

CF__SHARED void  cf__qstore_init(cf__qstore *s, cf__qkind kind, size_t max, cf_cmp_fn cmp);
CF__SHARED int   cf__qstore_push(cf__qstore *s, void *item);   /* 0 | ENOMEM; caller keeps count < max */
CF__SHARED void *cf__qstore_pop(cf__qstore *s);                /* caller ensures count > 0 */
/* FIFO only: put an item back at the front (it comes out next); the next item, not taken. */
int   cf__qstore_push_front(cf__qstore *s, void *item);   /* 0 | ENOMEM */
CF__SHARED void *cf__qstore_peek(const cf__qstore *s);         /* caller ensures count > 0 */
void  cf__qstore_clear(cf__qstore *s);              /* drops the items, keeps the storage */
CF__SHARED void  cf__qstore_destroy(cf__qstore *s);

#endif
