/* SPDX-License-Identifier: MIT */
/* mpsc.h (internal): a multi-producer single-consumer list of nodes (D. Vyukov's non-intrusive
 * MPSC queue), inline, so that a push is one xchg in the caller's code and not a call into a
 * shared library.
 *
 * Design notes.
 * - Producers: n->next = NULL, prev = xchg(tail, n), prev->next = n. Wait-free; between the xchg
 *   and the link store the list is cut at prev, and the consumer reports "not yet" there
 *   (CF__MPSC_BUSY) rather than wait for the producer.
 * - The consumer (one at a time: callers serialize pops) keeps a dummy at head: the node whose
 *   contents it took last (at first, the stub). A pop moves head to head->next, takes that
 *   node's contents and retires the old dummy, which no producer touches any more (a producer
 *   links only from the tail, and the old dummy has a successor). So the consumer never writes
 *   the producers' word: taking the last node costs no xchg on the tail, which matters when the
 *   consumer keeps up with a producer and the list holds one node most of the time.
 * - Empty is tail == head, read from any thread without dereferencing a node.
 * - Memory order: the xchg is acq_rel (a producer's link store follows the previous producer's
 *   n->next = NULL; its own node's contents are released to the next xchg), the link store is
 *   release and the consumer's load of next acquire: a node's contents, written before its push,
 *   are visible to the consumer that takes it. */
#ifndef CF__MPSC_H
#define CF__MPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "race.h"

typedef struct cf__mpsc_node {
    struct cf__mpsc_node *_Atomic next;
} cf__mpsc_node;

typedef struct cf__mpsc {
    cf__mpsc_node *_Atomic tail;       /* producers' word */
    char                   pad[64 - sizeof(void *)];
    cf__mpsc_node *_Atomic head;       /* the consumer's dummy; others only compare it */
    cf__mpsc_node          stub;       /* the first dummy */
} cf__mpsc;

/* What cf__mpsc_pop returns for a list whose next node is still being linked by its producer. */
#define CF__MPSC_BUSY ((cf__mpsc_node *)1)

static inline void cf__mpsc_init(cf__mpsc *q)
{
    atomic_init(&q->stub.next, NULL);
    atomic_init(&q->tail, &q->stub);
    atomic_init(&q->head, &q->stub);
}

static inline void cf__mpsc_push(cf__mpsc *q, cf__mpsc_node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    cf__mpsc_node *prev = atomic_exchange_explicit(&q->tail, n, memory_order_acq_rel);
    CF__RACE_WINDOW();                 /* the list is cut at prev until the store */
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* A snapshot from any thread: true when no node is in the list (a push in progress counts as in
 * it). */
static inline bool cf__mpsc_empty(cf__mpsc *q)
{
    return atomic_load_explicit(&q->tail, memory_order_acquire) ==
           atomic_load_explicit(&q->head, memory_order_acquire);
}

/* The oldest node, whose contents the caller takes now: it stays in the list as the dummy until
 * the next pop. *retired: the previous dummy, the caller's to free (NULL for the stub). Returns
 * NULL when empty, CF__MPSC_BUSY when the next node's producer has not linked it yet. One
 * consumer at a time. */
static inline cf__mpsc_node *cf__mpsc_pop(cf__mpsc *q, cf__mpsc_node **retired)
{
    cf__mpsc_node *head = atomic_load_explicit(&q->head, memory_order_relaxed);
    cf__mpsc_node *next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (!next)
        return atomic_load_explicit(&q->tail, memory_order_acquire) == head ? NULL : CF__MPSC_BUSY;
    atomic_store_explicit(&q->head, next, memory_order_release);
    *retired = head == &q->stub ? NULL : head;
    return next;
}

/* The dummy left at the end, for the caller to free (NULL: the stub). Consumer side. */
static inline cf__mpsc_node *cf__mpsc_dummy(cf__mpsc *q)
{
    cf__mpsc_node *head = atomic_load_explicit(&q->head, memory_order_relaxed);
    return head == &q->stub ? NULL : head;
}

#endif
