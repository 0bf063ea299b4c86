/* SPDX-License-Identifier: MIT */
/* lfqueue.c: cf_lfqueue, an unbounded MPMC queue of pointers over liburcu's cds_wfcq.
 * Producers enqueue with one xchg (wait-free); consumers serialize on the head's mutex for a few
 * instructions (cds_wfcq requires mutual exclusion among dequeuers); nothing here waits for items.
 * cds_wfcq_dequeue_blocking checks for empty under the lock, as a raw cds_wfcq user would.
 * The item is published through the node with release/acquire (see node_cache.h). Nodes come
 * from and go back to node_cache.c. */
#include <errno.h>
#include <stdlib.h>

#include "cfutures/queue.h"
#include "../common/list.h"
#include "node_cache.h"

struct cf_lfqueue {
    struct cds_wfcq_head head;   /* consumers' side, with the dequeue mutex */
    char                 pad[64];
    struct cds_wfcq_tail tail;   /* producers' side */
    cf_free_fn           item_free;   /* for the items left at free; set before sharing */
};

CF_EXTERN cf_lfqueue *cf_lfqueue_new(void)
{
    cf_lfqueue *q = malloc(sizeof *q);
    if (!q) {
        errno = ENOMEM;
        return NULL;
    }
    cds_wfcq_init(&q->head, &q->tail);
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
    n->node.next = NULL;     /* cds_wfcq_node_init, without a call into liburcu */
    atomic_store_explicit(&n->item, item, memory_order_release);
    cds_wfcq_enqueue(&q->head, &q->tail, &n->node);
    return 0;
}

CF_EXTERN int cf_lfqueue_pop(cf_lfqueue *q, void **item)
{
    if (!q)
        return EINVAL;
    struct cds_wfcq_node *node = cds_wfcq_dequeue_blocking(&q->head, &q->tail);
    if (!node)
        return EAGAIN;
    cf__lfnode *n = cf__container_of(node, cf__lfnode, node);
    void *v = atomic_load_explicit(&n->item, memory_order_acquire);
    cf__lfnode_put(n);
    if (item)
        *item = v;
    return 0;
}

CF_EXTERN bool cf_lfqueue_empty(cf_lfqueue *q)
{
    return !q || cds_wfcq_empty(&q->head, &q->tail);
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
    struct cds_wfcq_node *node;
    while ((node = cds_wfcq_dequeue_blocking(&q->head, &q->tail))) {
        cf__lfnode *n = cf__container_of(node, cf__lfnode, node);
        if (q->item_free)
            q->item_free(atomic_load_explicit(&n->item, memory_order_acquire));
        cf__lfnode_put(n);
    }
    cds_wfcq_destroy(&q->head, &q->tail);
    free(q);
}
