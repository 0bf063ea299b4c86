/* node_cache.c: recycles cf_lfqueue nodes so that a queue in steady state calls no malloc.
 *
 * Design notes. A node is freed by the consumer and needed by the producer, usually two threads,
 * so a per-thread cache alone would only move memory one way. Like tcmalloc's transfer cache:
 * each thread keeps a small list (no atomics at all); a thread whose list grows past two batches
 * hands one batch of CF__BATCH nodes to a global depot, and a thread whose list is empty takes a
 * whole batch back. The depot is a mutex-protected stack of batches: one lock per CF__BATCH
 * items, and no ABA problem as a lock-free stack of nodes would have. The depot keeps at most
 * CF__DEPOT_MAX batches; beyond that nodes go back to malloc. A thread's list is handed to the
 * depot when the thread exits. Sanitizer builds (CF_NO_CACHES) malloc and free every node, so
 * AddressSanitizer sees every use-after-free. */
#include <pthread.h>
#include <stdlib.h>

#include "node_cache.h"

#define CF__BATCH     256
#define CF__DEPOT_MAX 256   /* batches: 64K nodes, 1 MiB at most kept */

/* Free nodes link through node.next. */
static inline cf__lfnode *next_of(cf__lfnode *n) { return (cf__lfnode *)n->node.next; }
static inline void set_next(cf__lfnode *n, cf__lfnode *next) { n->node.next = &next->node; }

#ifndef CF_NO_CACHES
typedef struct local { cf__lfnode *head; unsigned n; } local;
static _Thread_local local tls;

static pthread_mutex_t depot_mu = PTHREAD_MUTEX_INITIALIZER;
static cf__lfnode     *depot[CF__DEPOT_MAX];
static unsigned        depot_n;
static pthread_key_t   exit_key;
static pthread_once_t  exit_once = PTHREAD_ONCE_INIT;

static void free_chain(cf__lfnode *n, unsigned count)
{
    while (n && count--) {
        cf__lfnode *next = next_of(n);
        free(n);
        n = next;
    }
}

/* Cuts CF__BATCH nodes off the thread's list and gives them to the depot (or to free). */
static void give_batch(void)
{
    cf__lfnode *first = tls.head, *last = first;
    for (unsigned i = 1; i < CF__BATCH; i++)
        last = next_of(last);
    tls.head = next_of(last);
    tls.n -= CF__BATCH;
    set_next(last, NULL);
    pthread_mutex_lock(&depot_mu);
    if (depot_n < CF__DEPOT_MAX) {
        depot[depot_n++] = first;
        first = NULL;
    }
    pthread_mutex_unlock(&depot_mu);
    free_chain(first, CF__BATCH);
}

static void on_thread_exit(void *unused)
{
    (void)unused;
    while (tls.n >= CF__BATCH)
        give_batch();
    free_chain(tls.head, tls.n);
    tls.head = NULL;
    tls.n = 0;
}

static void make_key(void) { pthread_key_create(&exit_key, on_thread_exit); }
#endif

cf__lfnode *cf__lfnode_get(void)
{
#ifndef CF_NO_CACHES
    if (!tls.head) {
        pthread_mutex_lock(&depot_mu);
        if (depot_n) {
            tls.head = depot[--depot_n];
            tls.n = CF__BATCH;
        }
        pthread_mutex_unlock(&depot_mu);
    }
    if (tls.head) {
        cf__lfnode *n = tls.head;
        tls.head = next_of(n);
        tls.n--;
        return n;
    }
#endif
    return malloc(sizeof(cf__lfnode));
}

void cf__lfnode_put(cf__lfnode *n)
{
#ifndef CF_NO_CACHES
    if (tls.n == 0) {
        pthread_once(&exit_once, make_key);
        pthread_setspecific(exit_key, &tls);   /* drain this thread's list when it exits */
    }
    set_next(n, tls.head);
    tls.head = n;
    if (++tls.n >= 2 * CF__BATCH)
        give_batch();
    return;
#endif
    free(n);
}
