/* SPDX-License-Identifier: MIT */
/* resolve.c: cf_getaddrinfo, getaddrinfo on the library's resolver threads.
 *
 * getaddrinfo blocks (files, DNS, NSS modules) and has no non-blocking form, so each lookup is a
 * task on a small thread pool of the library's own, made on first use (and made again in a
 * forked child, where the parent's threads do not exist), and the caller waits for its future:
 * a coroutine suspends, a thread sleeps. A caller that gives up (timeout, cancel) leaves the
 * lookup running: the lookup and the caller each hold a reference to it, and whoever lets go last
 * frees it, the answer included when nobody took it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfutures/executor.h"
#include "cfutures/future.h"
#include "cfutures/io.h"
#include "../wait/parker.h"

#define RESOLVERS 4

typedef struct lookup {
    _Atomic int      refs;
    char            *host, *port;
    struct addrinfo  hints, *hp;
    int              rc, sys_errno;
    struct addrinfo *res;
} lookup;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static cf_executor *pool;
static pid_t pool_pid;

static cf_executor *resolver_pool(void)
{
    pthread_mutex_lock(&pool_mu);
    if (!pool || pool_pid != getpid()) {
        /* A forked child inherits the handle but not the threads: a new pool (the old handle's
         * memory is the parent's copy, left alone). */
        cf_pool_opts o = { .max_workers = RESOLVERS, .name = "cf-resolve" };
        pool = cf_thread_pool_new(&o);
        pool_pid = getpid();
    }
    cf_executor *p = pool;
    pthread_mutex_unlock(&pool_mu);
    return p;
}

static void drop(lookup *l)
{
    if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (l->res)
        freeaddrinfo(l->res);
    free(l->host);
    free(l->port);
    free(l);
}

static void *run_lookup(void *arg)
{
    lookup *l = arg;
    l->rc = getaddrinfo(l->host, l->port, l->hp, &l->res);
    l->sys_errno = errno;
    if (l->rc)
        l->res = NULL;
    drop(l);
    return NULL;
}

static int map_error(int rc, int sys_errno)
{
    if (rc == 0)
        return 0;
    if (rc == EAI_SYSTEM)
        return sys_errno ? sys_errno : EIO;
    if (rc == EAI_MEMORY)
        return ENOMEM;
    return CF_EAI_BASE - rc;
}

CF_EXTERN int cf_getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
                             double timeout, struct addrinfo **res)
{
    cf__deadline d;
    if ((!host && !port) || !res || cf__wait_deadline(&d, timeout))
        return EINVAL;
    lookup *l = calloc(1, sizeof *l);
    if (!l)
        return ENOMEM;
    atomic_init(&l->refs, 2);
    if ((host && !(l->host = strdup(host))) || (port && !(l->port = strdup(port)))) {
        free(l->host);
        free(l);
        return ENOMEM;
    }
    if (hints) {
        l->hints = *hints;
        l->hints.ai_addr = NULL;
        l->hints.ai_canonname = NULL;
        l->hints.ai_next = NULL;
        l->hp = &l->hints;
    }
    cf_executor *ex = resolver_pool();
    cf_future *f = ex ? cf_submit(ex, run_lookup, l) : NULL;
    if (!f) {
        int e = ex ? errno : ENOMEM;
        drop(l);
        drop(l);
        return e == ENOMEM || e == EAGAIN ? e : ENOMEM;
    }
    /* The deadline as seconds left: the future's wait takes the caller's scope into account by
     * itself, so the timeout it gets is what this call's deadline leaves. */
    double left = d.forever ? -1 : d.poll ? 0 : cf__deadline_left(&d);
    if (!d.forever && !d.poll && left <= 0)
        left = 1e-9;                  /* passed already: one look, not a poll's EAGAIN */
    int r = cf_future_result(f, left, NULL);
    cf_future_unref(f);
    if (r == 0) {
        r = map_error(l->rc, l->sys_errno);
        *res = l->res;
        l->res = NULL;                /* the caller's now */
    } else if (r != ECANCELED) {
        r = d.poll ? EAGAIN : ETIMEDOUT;   /* the answer is not there (yet) */
    }
    drop(l);
    return r;
}
