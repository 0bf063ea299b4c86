/* SPDX-License-Identifier: MIT */
/* node_cache.c: where cf_lfqueue nodes come from: per-producer slabs of contiguous nodes.
 *
 * Design notes.
 * - Why slabs and not recycling: a recycled node was last read by a consumer on another core, so
 *   the producer's write to it waits for that core's cache to give the line up, once per node.
 *   Measured here: with nodes recycled through per-thread batches, 2 producers/2 consumers ran at
 *   0.3x-0.8x raw cds_wfcq (which enqueues a preallocated contiguous array); with fresh
 *   contiguous nodes, at par. So a producer carves nodes in order out of its own slab
 *   (CF__SLAB bytes, aligned to its size, so a node finds its slab by masking its address), and a
 *   slab is released whole (to the stash, below, or to malloc) once every node carved from it
 *   has been consumed.
 * - Counting: a slab's `live` starts at its node count plus one (the producer's hold, dropped
 *   when it has carved the last node or exits). Each consumed node is one decrement; whoever
 *   takes `live` to zero releases the slab. A consumer gathers its decrements per slab in a few
 *   thread-local entries (nodes arrive in carving order, one run per producer) and applies each
 *   with one atomic when the entry is needed for another slab or the thread exits, so the slab
 *   header is not a line every consumer writes per item.
 * - Memory ordering: the decrement is acq_rel, so every access to the slab's nodes by every
 *   thread happens before the free.
 * - Reuse: a slab whose last node is consumed goes to `stash`, a few process-wide slots, and the
 *   next producer to need a slab takes one from there before calling malloc. Without it every
 *   slab was fresh memory from mmap: 4M items cost 16,600 page faults (one per 4 KiB page
 *   carved), each a kernel entry and a page zeroed. The slots are taken with an exchange and
 *   filled with a CAS from NULL, so there is no ABA and no lock; a scan of CF__STASH slots
 *   happens once per slab (~8,000 nodes).
 * - Memory held: at most the slabs with a node still queued, plus CF__HELD pending slabs per
 *   consuming thread, one partly carved slab per producing thread, and CF__STASH slabs
 *   (2 MiB) kept for reuse by the process.
 * - Fork: there is no lock; a child keeps copies of its parent's slabs and stash.
 * - Sanitizer builds (CF_NO_CACHES) malloc and free every node, so AddressSanitizer sees every
 *   use-after-free. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "../common/tls.h"
#include "node_cache.h"

#define CF__SLAB  (128 * 1024)    /* bytes per slab, also its alignment (64 KiB and 256 KiB measured
                                    within the noise of this; 128 KiB bounds what a thread pins) */
#define CF__HELD  4               /* slabs a consumer collects decrements for */
#define CF__STASH 16              /* emptied slabs kept for reuse, process-wide */

#ifndef CF_NO_CACHES
typedef struct slab {
    _Atomic size_t live;          /* nodes not yet consumed, + 1 while the producer carves */
    char           pad[64 - sizeof(size_t)];
    cf__lfnode     nodes[];
} slab;

#define CF__SLAB_NODES ((CF__SLAB - sizeof(slab)) / sizeof(cf__lfnode))

static inline slab *slab_of(cf__lfnode *n) { return (slab *)((uintptr_t)n & ~(uintptr_t)(CF__SLAB - 1)); }

static slab *_Atomic stash[CF__STASH];

static void slab_drop(slab *s, size_t n)
{
    if (atomic_fetch_sub_explicit(&s->live, n, memory_order_acq_rel) != n)
        return;
    for (int i = 0; i < CF__STASH; i++) {
        slab *none = NULL;
        if (!atomic_load_explicit(&stash[i], memory_order_relaxed) &&
            atomic_compare_exchange_strong_explicit(&stash[i], &none, s, memory_order_release,
                                                    memory_order_relaxed))
            return;
    }
    free(s);
}

/* A slab for a producer: an emptied one if the stash has one (acquire: its last consumer's
 * reads happen before our writes), else a new one. */
static slab *slab_new(void)
{
    for (int i = 0; i < CF__STASH; i++) {
        if (!atomic_load_explicit(&stash[i], memory_order_relaxed))
            continue;
        slab *s = atomic_exchange_explicit(&stash[i], NULL, memory_order_acquire);
        if (s)
            return s;
    }
    return aligned_alloc(CF__SLAB, CF__SLAB);
}

typedef struct local {
    slab  *carving;               /* the producer's slab */
    size_t next;                  /* its next node */
    slab  *held[CF__HELD];        /* consumer side: pending decrements */
    size_t count[CF__HELD];
    bool   registered;
} local;
static CF__TLS local tls;

static pthread_key_t  exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* At thread exit: give up the hold on the slab being carved (with its uncarved nodes) and apply
 * the pending decrements. */
static void on_thread_exit(void *unused)
{
    (void)unused;
    if (tls.carving)
        slab_drop(tls.carving, CF__SLAB_NODES - tls.next + 1);
    for (int i = 0; i < CF__HELD; i++)
        if (tls.held[i])
            slab_drop(tls.held[i], tls.count[i]);
    tls = (local){ 0 };
}

static void make_key(void) { pthread_key_create(&exit_key, on_thread_exit); }

static void register_thread(void)
{
    pthread_once(&exit_once, make_key);
    pthread_setspecific(exit_key, &tls);
    tls.registered = true;
}
#endif

cf__lfnode *cf__lfnode_get(void)
{
#ifndef CF_NO_CACHES
    if (!tls.carving) {
        if (!tls.registered)
            register_thread();
        slab *s = slab_new();
        if (!s)
            return NULL;
        atomic_store_explicit(&s->live, CF__SLAB_NODES + 1, memory_order_relaxed);
        tls.carving = s;
        tls.next = 0;
    }
    cf__lfnode *n = &tls.carving->nodes[tls.next++];
    if (tls.next == CF__SLAB_NODES) {
        slab *s = tls.carving;
        tls.carving = NULL;
        slab_drop(s, 1);           /* all carved: the hold goes; consumers free it */
    }
    return n;
#else
    return malloc(sizeof(cf__lfnode));
#endif
}

void cf__lfnode_put(cf__lfnode *n)
{
#ifndef CF_NO_CACHES
    slab *s = slab_of(n);
    int free_i = -1;
    for (int i = 0; i < CF__HELD; i++) {
        if (tls.held[i] == s) {
            tls.count[i]++;
            return;
        }
        if (!tls.held[i] && free_i < 0)
            free_i = i;
    }
    if (!tls.registered)
        register_thread();
    if (free_i < 0) {              /* all entries busy: apply the oldest, reuse its entry */
        slab_drop(tls.held[0], tls.count[0]);
        for (int i = 1; i < CF__HELD; i++) {
            tls.held[i - 1] = tls.held[i];
            tls.count[i - 1] = tls.count[i];
        }
        free_i = CF__HELD - 1;
    }
    tls.held[free_i] = s;
    tls.count[free_i] = 1;
#else
    free(n);
#endif
}
