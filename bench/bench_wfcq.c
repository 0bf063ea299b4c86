/* SPDX-License-Identifier: MIT */
/* bench_wfcq.c: raw cds_wfcq at its best, the peer of cf_lfqueue: liburcu's operations inlined
 * (_LGPL_SOURCE: this file is compiled into the benchmark only, never into the library, so the
 * LGPL-2.1 inline code does not reach what cfutures ships), every node preallocated and
 * initialized before the clock starts, and
 *  - 1P1C: one consumer with no lock (__cds_wfcq_dequeue_nonblocking: liburcu lets a single
 *    dequeuer skip the mutex);
 *  - 2P2C: consumers serialized by cds_wfcq's own mutex (a raw cds_wfcq user with two consumers
 *    has to), with the operations still inlined.
 * Consumers poll, as cf_lfqueue's do. The producers' items are their node indices + 1, so the
 * sum checks that every item came out once. */
#define _LGPL_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <urcu/wfcqueue.h>

#include "bench.h"

enum { WITEMS = 4000000 };

static struct {
    _Alignas(64) struct cds_wfcq_head head;          /* each on its own line */
    _Alignas(64) struct cds_wfcq_tail tail;
    _Alignas(64) struct cds_wfcq_node *nodes;
    int                  producers;
    bool                 locked;
    _Alignas(64) _Atomic long consumed;   /* its own line, as in bench.c */
    char                 pad2[64];
    _Atomic intptr_t     sum;
} W;

static void w_prod(long id)
{
    long per = WITEMS / W.producers;
    for (long i = id * per; i < (id + 1) * per; i++)
        cds_wfcq_enqueue(&W.head, &W.tail, &W.nodes[i]);
}

static void w_cons(void)
{
    intptr_t sum = 0;
    long mine = 0, n = WITEMS / W.producers * W.producers;
    for (;;) {
        struct cds_wfcq_node *node;
        if (W.locked) {
            node = cds_wfcq_dequeue_blocking(&W.head, &W.tail);
        } else {
            node = __cds_wfcq_dequeue_nonblocking(&W.head, &W.tail);
            if (node == CDS_WFCQ_WOULDBLOCK)
                node = NULL;
        }
        if (!node) {               /* only now is the local count published */
            if (atomic_fetch_add_explicit(&W.consumed, mine, memory_order_relaxed) + mine >= n)
                break;
            mine = 0;
            continue;
        }
        mine++;
        sum += node - W.nodes + 1;
    }
    atomic_fetch_add(&W.sum, sum);
}

/* Threads 0..producers-1 produce, the rest consume. */
static void *w_thread(int i, void *unused)
{
    (void)unused;
    if (i < W.producers)
        w_prod(i);
    else
        w_cons();
    return NULL;
}

static double run(int producers, int consumers)
{
    W.producers = producers;
    W.locked = consumers > 1;
    atomic_store(&W.consumed, 0);
    atomic_store(&W.sum, 0);
    cds_wfcq_init(&W.head, &W.tail);
    W.nodes = malloc(WITEMS * sizeof *W.nodes);
    check(W.nodes != NULL, "nodes");
    for (long i = 0; i < WITEMS; i++)
        cds_wfcq_node_init(&W.nodes[i]);
    double secs = run_threads(producers + consumers, w_thread, NULL);
    long n = WITEMS / producers * producers;
    check(atomic_load(&W.sum) == (intptr_t)n * (n + 1) / 2, "raw cds_wfcq sum");
    cds_wfcq_destroy(&W.head, &W.tail);
    free(W.nodes);
    return n / secs;
}

double wfcq_best_1p1c(void) { return run(1, 1); }
double wfcq_best_2p2c(void) { return run(2, 2); }
