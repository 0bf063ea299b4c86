/* SPDX-License-Identifier: MIT */
/* mpsc.h (internal): an intrusive multi-producer single-consumer list (D. Vyukov's algorithm),
 * inline, so that a push is one xchg in the caller's code and not a call into a shared library.
 *
 * Design notes.
 * - Producers: n->next = NULL, prev = xchg(tail, n), prev->next = n. Wait-free; between the xchg
 *   and the link store the list is cut at prev, and the consumer reports "not yet" there
 *   (CF__MPSC_BUSY) rather than wait for the producer.
 * - The consumer (one at a time: callers serialize pops) walks from head through a stub node
 *   that it re-appends when it reaches the tail, so a node is handed out only once its successor
 *   exists, and the node a producer links from (the old tail) is never one already handed out.
 * - Empty is tail == &stub: the consumer re-appends the stub before it hands out the last node,
 *   so the test needs no node pointer, only the producers' word; any thread may make it.
 * - Memory order: the xchg is acq_rel (a producer's link store follows the previous producer's
 *   n->next = NULL; its own node's contents are released to the next xchg), the link store is
 *   release and the consumer's load of next acquire: a node's contents, written before its push,
 *   are visible to the consumer that takes it. */
#ifndef CF__MPSC_H
#define CF__MPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cf__mpsc_node {
    struct cf__mpsc_node *_Atomic next;
} cf__mpsc_node;

typedef struct cf__mpsc {
    cf__mpsc_node *_Atomic tail;       /* producers' word */
    char                   pad[64 - sizeof(void *)];
    cf__mpsc_node         *head;       /* the consumer's */
    cf__mpsc_node          stub;
} cf__mpsc;

/* What cf__mpsc_pop returns for a list whose next node is still being linked by its producer. */
#define CF__MPSC_BUSY ((cf__mpsc_node *)1)

static inline void cf__mpsc_init(cf__mpsc *q)
{
    atomic_init(&q->stub.next, NULL);
    atomic_init(&q->tail, &q->stub);
    q->head = &q->stub;
}

static inline void cf__mpsc_push(cf__mpsc *q, cf__mpsc_node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    cf__mpsc_node *prev = atomic_exchange_explicit(&q->tail, n, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* A snapshot from any thread: true when no node is in the list (a push in progress counts as in
 * it). */
static inline bool cf__mpsc_empty(cf__mpsc *q)
{
    return atomic_load_explicit(&q->tail, memory_order_acquire) == &q->stub;
}

/* The oldest node, NULL when empty, CF__MPSC_BUSY when the next node's producer has not linked
 * it yet. One consumer at a time. */
static inline cf__mpsc_node *cf__mpsc_pop(cf__mpsc *q)
{
    cf__mpsc_node *head = q->head;
    cf__mpsc_node *next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (head == &q->stub) {
        if (!next)
            return cf__mpsc_empty(q) ? NULL : CF__MPSC_BUSY;
        q->head = head = next;
        next = atomic_load_explicit(&head->next, memory_order_acquire);
    }
    if (next) {
        q->head = next;
        return head;
    }
    if (atomic_load_explicit(&q->tail, memory_order_acquire) != head)
        return CF__MPSC_BUSY;          /* a producer swapped the tail, its link is coming */
    cf__mpsc_push(q, &q->stub);        /* head is the last node: put the stub behind it */
    next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (!next)
        return CF__MPSC_BUSY;          /* another push came between: it links to head soon */
    q->head = next;
    return head;
}

#endif
