/* node_cache.c: recycles cf_lfqueue nodes so that a queue in steady state calls no malloc.
 *
 * Design notes. A node is freed by the consumer and needed by the producer, usually two threads,
 * so a per-thread cache alone would only move memory one way. Like tcmalloc's transfer cache:
 * each thread keeps a batch being filled or emptied and one spare full batch (no atomics at all);
 * a thread with a third full batch hands one to a global depot, and a thread with none takes a
 * whole batch back. A batch is an array of node pointers, not a list threaded through the nodes:
 * taking a node reads nothing from it, so a producer never waits for a cache line the consumer
 * just freed (a list walk would, once per node: it halved 2P2C throughput). The depot is a
 * mutex-protected stack of batches: one lock per CF__BATCH items, and no ABA problem as a
 * lock-free stack of nodes would have. It keeps at most CF__DEPOT_MAX batches; beyond that
 * nodes go back to malloc. Empty batch arrays are malloc'd and freed (one per CF__BATCH nodes).
 * A thread's batches are handed to the depot when the thread exits. Sanitizer builds
 * (CF_NO_CACHES) malloc and free every node, so AddressSanitizer sees every use-after-free. */
#include <pthread.h>
#include <stdlib.h>

#include "../common/tls.h"
#include "node_cache.h"

#define CF__BATCH     256
#define CF__DEPOT_MAX 8192   /* batches: 2M nodes, 48 MiB at most kept (arrays included) */

#ifndef CF_NO_CACHES
typedef struct batch {
    unsigned    n;
    cf__lfnode *nodes[CF__BATCH];
} batch;

/* A thread's nodes: `cur` is being filled or emptied; `spare` is NULL or one full batch, so that
 * batches move to and from the depot whole. */
typedef struct local {
    batch *cur, *spare;
} local;
static CF__TLS local tls;

static pthread_mutex_t depot_mu = PTHREAD_MUTEX_INITIALIZER;
static batch          *depot[CF__DEPOT_MAX];
static unsigned        depot_n;
static pthread_key_t   exit_key;
static pthread_once_t  exit_once = PTHREAD_ONCE_INIT;

static void make_key(void);

static void batch_free(batch *b)
{
    if (!b)
        return;
    for (unsigned i = 0; i < b->n; i++)
        free(b->nodes[i]);
    free(b);
}

static void depot_give(batch *b)
{
    pthread_mutex_lock(&depot_mu);
    if (depot_n < CF__DEPOT_MAX) {
        depot[depot_n++] = b;
        b = NULL;
    }
    pthread_mutex_unlock(&depot_mu);
    batch_free(b);                 /* the depot is full: back to malloc */
}

static batch *depot_take(void)
{
    pthread_once(&exit_once, make_key);    /* the fork handlers, before the first depot use */
    batch *b = NULL;
    pthread_mutex_lock(&depot_mu);
    if (depot_n)
        b = depot[--depot_n];
    pthread_mutex_unlock(&depot_mu);
    return b;
}

static void on_thread_exit(void *unused)
{
    (void)unused;
    if (tls.spare)
        depot_give(tls.spare);
    batch_free(tls.cur);           /* a partial batch: not worth a depot slot */
    tls = (local){ NULL, NULL };
}

/* Fork policy: the depot is the only lock here. A fork while another thread holds it would leave
 * it locked forever in the child, so it is taken around fork() (as libuv does for its pool). A
 * thread's own cache is plain thread-local data and needs nothing. */
static void depot_lock(void) { pthread_mutex_lock(&depot_mu); }
static void depot_unlock(void) { pthread_mutex_unlock(&depot_mu); }

static void make_key(void)
{
    pthread_key_create(&exit_key, on_thread_exit);
    pthread_atfork(depot_lock, depot_unlock, depot_unlock);
}
#endif

cf__lfnode *cf__lfnode_get(void)
{
#ifndef CF_NO_CACHES
    if (!tls.cur || tls.cur->n == 0) {
        batch *full = tls.spare;
        tls.spare = NULL;
        if (!full)
            full = depot_take();
        if (full) {
            free(tls.cur);         /* an empty array */
            tls.cur = full;
        }
    }
    if (tls.cur && tls.cur->n)
        return tls.cur->nodes[--tls.cur->n];
#endif
    return malloc(sizeof(cf__lfnode));
}

void cf__lfnode_put(cf__lfnode *n)
{
#ifndef CF_NO_CACHES
    if (!tls.cur && !tls.spare) {
        pthread_once(&exit_once, make_key);
        pthread_setspecific(exit_key, &tls);   /* hand this thread's nodes back when it exits */
    }
    if (!tls.cur || tls.cur->n == CF__BATCH) {
        batch *fresh = malloc(sizeof *fresh);
        if (!fresh) {
            free(n);               /* no memory for an array: the node goes back to malloc */
            return;
        }
        fresh->n = 0;
        if (tls.cur) {             /* cur is full: it becomes the spare */
            if (tls.spare)
                depot_give(tls.spare);
            tls.spare = tls.cur;
        }
        tls.cur = fresh;
    }
    tls.cur->nodes[tls.cur->n++] = n;
    return;
#endif
    free(n);
}
