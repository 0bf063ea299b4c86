/* node_cache.c: recycles cf_lfqueue nodes so that a queue in steady state calls no malloc.
 *
 * Design notes. A node is freed by the consumer and needed by the producer, usually two threads,
 * so a per-thread cache alone would only move memory one way. Like tcmalloc's transfer cache:
 * each thread keeps a batch being filled or emptied and one spare full batch (no atomics at all);
 * a thread with a third full batch hands one to a global depot, and a thread with none takes a
 * whole batch back. Batches move whole, never walked. The depot is a mutex-protected stack of batches: one lock per CF__BATCH
 * items, and no ABA problem as a lock-free stack of nodes would have. The depot keeps at most
 * CF__DEPOT_MAX batches; beyond that nodes go back to malloc. A thread's list is handed to the
 * depot when the thread exits. Sanitizer builds (CF_NO_CACHES) malloc and free every node, so
 * AddressSanitizer sees every use-after-free. */
#include <pthread.h>
#include <stdlib.h>

#include "../common/tls.h"
#include "node_cache.h"

#define CF__BATCH     256
#define CF__DEPOT_MAX 1024  /* batches: 256K nodes, 4 MiB at most kept */

/* Free nodes link through node.next. */
static inline cf__lfnode *next_of(cf__lfnode *n) { return (cf__lfnode *)n->node.next; }
static inline void set_next(cf__lfnode *n, cf__lfnode *next) { n->node.next = &next->node; }

#ifndef CF_NO_CACHES
/* A thread's nodes: `cur` is being filled or emptied one node at a time; `spare` is one complete
 * batch, so that batches move to and from the depot whole, without walking a list. */
typedef struct local {
    cf__lfnode *cur, *spare;
    unsigned    n;            /* nodes in cur */
} local;
static CF__TLS local tls;

static pthread_mutex_t depot_mu = PTHREAD_MUTEX_INITIALIZER;
static cf__lfnode     *depot[CF__DEPOT_MAX];
static unsigned        depot_n;
static pthread_key_t   exit_key;
static pthread_once_t  exit_once = PTHREAD_ONCE_INIT;

static void make_key(void);

static void free_chain(cf__lfnode *n)
{
    while (n) {
        cf__lfnode *next = next_of(n);
        free(n);
        n = next;
    }
}

static void depot_give(cf__lfnode *batch)
{
    pthread_mutex_lock(&depot_mu);
    if (depot_n < CF__DEPOT_MAX) {
        depot[depot_n++] = batch;
        batch = NULL;
    }
    pthread_mutex_unlock(&depot_mu);
    free_chain(batch);             /* the depot is full: back to malloc */
}

static cf__lfnode *depot_take(void)
{
    pthread_once(&exit_once, make_key);    /* the fork handlers, before the first depot use */
    cf__lfnode *batch = NULL;
    pthread_mutex_lock(&depot_mu);
    if (depot_n)
        batch = depot[--depot_n];
    pthread_mutex_unlock(&depot_mu);
    return batch;
}

static void on_thread_exit(void *unused)
{
    (void)unused;
    if (tls.spare)
        depot_give(tls.spare);
    free_chain(tls.cur);           /* a partial batch: not worth a depot slot */
    tls = (local){ NULL, NULL, 0 };
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
    if (!tls.cur) {
        if (tls.spare) {
            tls.cur = tls.spare;
            tls.spare = NULL;
        } else {
            tls.cur = depot_take();
        }
        tls.n = tls.cur ? CF__BATCH : 0;
    }
    if (tls.cur) {
        cf__lfnode *n = tls.cur;
        tls.cur = next_of(n);
        tls.n--;
        return n;
    }
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
    if (tls.n == CF__BATCH) {      /* cur is a full batch: it becomes the spare */
        if (tls.spare)
            depot_give(tls.spare);
        tls.spare = tls.cur;
        tls.cur = NULL;
        tls.n = 0;
    }
    set_next(n, tls.cur);
    tls.cur = n;
    tls.n++;
    return;
#endif
    free(n);
}
