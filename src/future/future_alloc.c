/* SPDX-License-Identifier: MIT */
/* future_alloc.c: where futures come from. A submit allocates exactly one object, the future,
 * taken from a small per-thread cache so that the steady state of a busy pool calls no malloc.
 * A future is returned to the cache of the thread that drops the last reference; each cache holds
 * at most CF__CACHE_MAX objects and is emptied when its thread exits (pthread key destructor).
 * Sanitizer builds define CF_NO_FUTURE_CACHE so that AddressSanitizer sees every use-after-free. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../common/tls.h"
#include "future.h"

#define CF__CACHE_MAX 256

#ifndef CF_NO_FUTURE_CACHE
typedef struct cache { cf_future *head; unsigned n; } cache;
static CF__TLS cache tls_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_drain(void *unused)
{
    (void)unused;
    cf_future *f = tls_cache.head;
    while (f) {
        cf_future *next = f->value;   /* cached objects link through `value` */
        free(f);
        f = next;
    }
    tls_cache.head = NULL;
    tls_cache.n = 0;
}

static void cache_key_make(void) { pthread_key_create(&cache_key, cache_drain); }
#endif

cf_future *cf__future_alloc(void)
{
    cf_future *f = NULL;
#ifndef CF_NO_FUTURE_CACHE
    if (tls_cache.head) {
        f = tls_cache.head;
        tls_cache.head = f->value;
        tls_cache.n--;
    }
#endif
    if (!f && !(f = malloc(sizeof *f))) {
        errno = ENOMEM;
        return NULL;
    }
    memset(f, 0, sizeof *f);
    cf__lock_init(&f->lock);
    cf__waitq_init(&f->listeners);
    cds_wfcq_node_init(&f->qnode);
    atomic_init(&f->refs, 1);
    atomic_init(&f->word, CF_PENDING);
    atomic_init(&f->cancel_requested, false);
    return f;
}

void cf__future_release(cf_future *f)
{
#ifndef CF_NO_FUTURE_CACHE
    if (tls_cache.n < CF__CACHE_MAX) {
        if (!tls_cache.head) {
            /* First object cached by this thread: arrange for the cache to be drained at exit. */
            pthread_once(&cache_once, cache_key_make);
            pthread_setspecific(cache_key, &tls_cache);
        }
        f->value = tls_cache.head;
        tls_cache.head = f;
        tls_cache.n++;
        return;
    }
#endif
    free(f);
}
