/* SPDX-License-Identifier: MIT */
/* node_cache.h (internal): the nodes of cf_lfqueue and where they come from (per-producer slabs
 * of fresh nodes, node_cache.c). */
#ifndef CF__NODE_CACHE_H
#define CF__NODE_CACHE_H

#include "../common/mpsc.h"

typedef struct cf__lfnode {
    cf__mpsc_node node;
    void         *item;      /* written before the push, read after the pop (mpsc.h's order) */
} cf__lfnode;

cf__lfnode *cf__lfnode_get(void);         /* NULL on ENOMEM */
void        cf__lfnode_put(cf__lfnode *n);

#endif
