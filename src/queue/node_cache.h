/* SPDX-License-Identifier: MIT */
/* node_cache.h (internal): the nodes of cf_lfqueue and where they come from (per-producer slabs
 * of fresh nodes, node_cache.c). */
#ifndef CF__NODE_CACHE_H
#define CF__NODE_CACHE_H

#include <stdatomic.h>
#include <urcu/wfcqueue.h>

typedef struct cf__lfnode {
    struct cds_wfcq_node node;
    /* Written with release before the enqueue, read with acquire after the dequeue: the queue
     * lives in an uninstrumented library, and this is the edge ThreadSanitizer sees. */
    _Atomic(void *)      item;
} cf__lfnode;

cf__lfnode *cf__lfnode_get(void);         /* NULL on ENOMEM */
void        cf__lfnode_put(cf__lfnode *n);

#endif
