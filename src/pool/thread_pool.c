/* SPDX-License-Identifier: MIT */
/* thread_pool.c: the thread pool's caller side: creation, submit, shutdown, stats.
 *
 * Design notes.
 * - One allocation per submit: the future carries the queue node and fn/arg (future.h).
 *   The queue holds one reference to each queued future, the caller the other.
 * - Workers start lazily, from cf_submit, when no worker is idle, up to max_workers, as Python's
 *   ThreadPoolExecutor does: an idle worker leaves a token that one submit claims. Spawning
 *   happens under `mu` inside the submit's inflight window, so a joiner that reads nthreads
 *   under `mu` after the close has waited out every submit sees every thread.
 * - A submit costs at most one wake-up syscall, and none when a worker spins: it wakes a sleeper
 *   only when nobody spins. Lost wake-ups are excluded by a Dekker pair: submit enqueues (an xchg,
 *   a full barrier), then reads nsleeping; a parking worker increments nsleeping (seq_cst), then
 *   looks at the queue, and futex_wait re-checks wake_seq in the kernel.
 * - A submit touches the pool only inside its `inflight` window, which the closer waits out:
 *   so a task that frees its own pool cannot free it under the submit that queued it.
 * - Closing (shutdown or a broken initializer) must not lose a submit that raced it: submits
 *   announce themselves in `inflight` before checking `closed`, and the closer waits for inflight
 *   to drain before sealing the queue. After `sealed`, the queue only shrinks; an idle worker that
 *   sees it sealed and empty exits.
 * - Counting is cheap on the hot path: submitters bump `submitted`, each worker counts what it
 *   started and finished in its own line, and the rare ways out of PENDING (cancel, ...) have
 *   shared counters; stats derive pending and running from these.
 * - max_pending (backlog.h): a slot is taken before the enqueue and given back when the task
 *   starts or leaves PENDING.
 * Lock order: join_mu -> mu. Neither is held while a future's lock is taken. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/opts.h"
#include "thread_pool.h"

static int closed_reason(cf__thread_pool *p)
{
    if (atomic_load(&p->broken))
        return CF_EBROKEN;
    return atomic_load(&p->closed);
}

/* A queued future left PENDING without a worker starting it (cancel, the user completed it, or a
 * broken pool failed it). Runs with f->lock held, before the new state is published. */
static void on_left_pending(cf__owner *o, cf_future *f, cf_state to, int err)
{
    (void)f;
    cf__thread_pool *p = cf__container_of(o, cf__thread_pool, owner);
    if (to == CF_CANCELLED)
        atomic_fetch_add_explicit(&p->left_cancelled, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(err ? &p->left_failed : &p->left_completed, 1, memory_order_relaxed);
    if (p->backlog.max)
        cf__backlog_release(&p->backlog);
}

static int closed_of(void *p) { return closed_reason(p); }

bool cf__pool_claim_idle(cf__thread_pool *p)
{
    int n = atomic_load_explicit(&p->idle_tokens, memory_order_relaxed);
    while (n > 0)
        if (atomic_compare_exchange_weak(&p->idle_tokens, &n, n - 1))
            return true;
    return false;
}

/* Starts one more worker if there is room. 0 | the pthread_create error. */
static int spawn(cf__thread_pool *p)
{
    int r = 0;
    pthread_mutex_lock(&p->mu);
    if (p->nthreads < p->max_workers && !atomic_load(&p->sealed)) {
        cf__worker *w = &p->workers[p->nthreads];
        w->pool = p;
        w->index = p->nthreads + 1;
        w->joined = false;
        atomic_fetch_add(&p->refs, 1);
        atomic_fetch_add(&p->live, 1);
        r = pthread_create(&w->thread, NULL, cf__worker_main, w);
        if (r) {
            atomic_fetch_sub(&p->refs, 1);
            atomic_fetch_sub(&p->live, 1);
        } else {
            p->nthreads++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

static cf_future *tp_submit(cf_executor *ex, cf_fn fn, void *arg, int kind, const cf__deadline *d)
{
    cf__thread_pool *p = (cf__thread_pool *)ex;
    int err = closed_reason(p);
    if (err)
        goto fail;
    /* A worker of this pool never blocks on max_pending: the slot it waits for may be its own. */
    if (p->backlog.max) {
        if (cf__pool_of_this_thread() == p)
            cf__backlog_take(&p->backlog);
        else if ((err = cf__backlog_reserve(&p->backlog, d, closed_of, p)))
            goto fail;
    }
    cf_future *f = cf__future_alloc();
    if (!f) {
        err = ENOMEM;
        goto unreserve;
    }
    f->fn = fn;
    f->arg = arg;
    f->owner = &p->owner;

    atomic_fetch_add(&p->inflight, 1);
    if ((err = closed_reason(p))) {
        atomic_fetch_sub(&p->inflight, 1);
        cf_future_unref(f);
        goto unreserve;
    }
    f->kind = (uint8_t)kind;   /* from here on the future owns a bytes job */
    atomic_store_explicit(&f->refs, 2, memory_order_relaxed);          /* caller + queue */
    atomic_fetch_add_explicit(&p->submitted, 1, memory_order_relaxed);
    /* Publishes fn/arg to the worker (its acquire load of word): cds_wfcq lives in an
     * uninstrumented library, so ThreadSanitizer needs this edge spelled out. */
    atomic_store_explicit(&f->word, CF_PENDING, memory_order_release);
    /* An idle worker's token is claimed before the enqueue: claimed after it, the worker could
     * take the task and its own token back in between, and this submit would find no token and
     * start a thread nobody needs. */
    bool covered = cf__pool_claim_idle(p);
    /* The enqueue is an xchg that liburcu documents as a full memory barrier: it orders the
     * enqueue before the loads of who sleeps (the Dekker pair with park()). */
    cds_wfcq_enqueue(&p->qhead, &p->qtail, &f->qnode);
    /* Queue first, then start a thread for it, as Python does: a worker that breaks the pool in
     * its initializer then fails this future rather than this call. Spawning inside the inflight
     * window is allowed even when closing: the closer waits, then sees the thread to join. */
    if (!covered && atomic_load_explicit(&p->live, memory_order_relaxed) < p->max_workers) {
        int r = spawn(p);
        if (r && atomic_load(&p->live) == 0) {
            /* No thread at all can run it: fail it (counted) and report, nothing is lost. The
             * caller keeps its argument (a bytes job is freed by cf_submit_bytes). */
            f->kind = CF__KIND_CALL;
            cf__future_complete(f, CF_FINISHED, EAGAIN, NULL, NULL);
            atomic_fetch_sub(&p->inflight, 1);
            cf_future_unref(f);
            errno = EAGAIN;
            return NULL;
        }
    }
    if (atomic_load(&p->nsleeping) > 0 && atomic_load(&p->nspinning) == 0)
        cf__pool_wake_one(p);
    /* Last touch of p: the task just queued may free the pool, whose closer waits for this. */
    atomic_fetch_sub(&p->inflight, 1);
    return f;

unreserve:
    if (p->backlog.max)
        cf__backlog_release(&p->backlog);
fail:
    errno = err;
    return NULL;
}

/* A coroutine must not sit in pthread_join (its loop would stop while tasks run): it first
 * waits, suspended, until every worker but its own thread has left its loop; the joins then
 * only wait out thread exits. */
static void wait_exits(cf__thread_pool *p, bool own)
{
    for (;;) {
        uint32_t key = cf__ecount_prepare(&p->exits);
        if (atomic_load(&p->live) <= (int)own) {
            cf__ecount_cancel(&p->exits);
            return;
        }
        cf__ecount_wait(&p->exits, key, &cf__forever, false);
    }
}

static void join_workers(cf__thread_pool *p)
{
    bool own = cf__pool_of_this_thread() == p;
    if (cf__in_coroutine())
        wait_exits(p, own);
    pthread_mutex_lock(&p->join_mu);
    pthread_mutex_lock(&p->mu);
    int n = p->nthreads;          /* final: closed, so no more spawns */
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < n; i++) {
        cf__worker *w = &p->workers[i];
        if (w->joined)
            continue;
        if (own && pthread_equal(w->thread, pthread_self()))
            pthread_detach(w->thread);   /* we are that worker: it exits after this task */
        else
            pthread_join(w->thread, NULL);
        w->joined = true;
    }
    pthread_mutex_unlock(&p->join_mu);
}

static void tp_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
    cf__thread_pool *p = (cf__thread_pool *)ex;
    cf__pool_close(p, ESHUTDOWN, NULL);
    if (cancel_futures) {
        atomic_store(&p->cancel_running, true);
        struct cds_wfcq_node *n;
        while ((n = cds_wfcq_dequeue_blocking(&p->qhead, &p->qtail))) {
            cf_future *f = cf__container_of(n, cf_future, qnode);
            atomic_load_explicit(&f->word, memory_order_acquire);   /* see tp_submit */
            cf_future_cancel(f);
            cf_future_unref(f);
        }
    }
    if (wait)
        join_workers(p);
}

static void tp_terminate(cf_executor *ex)
{
    /* Threads cannot be killed: cancel what waits, flag what runs, wait for it. */
    tp_shutdown(ex, true, true);
}

static void tp_stats(cf_executor *ex, cf_pool_stats *out)
{
    cf__thread_pool *p = (cf__thread_pool *)ex;
    /* Later stages first: a task moves submitted -> started -> finished, so reading backwards can
     * see a task twice for a moment, never lose it; pending is clamped at 0. */
    size_t finished_ok = 0, finished_err = 0, started = 0;
    pthread_mutex_lock(&p->mu);
    int n = p->nthreads;
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < n; i++) {
        finished_ok += atomic_load_explicit(&p->workers[i].completed, memory_order_relaxed);
        finished_err += atomic_load_explicit(&p->workers[i].failed, memory_order_relaxed);
    }
    for (int i = 0; i < n; i++)
        started += atomic_load_explicit(&p->workers[i].started, memory_order_relaxed);
    size_t lc = atomic_load(&p->left_cancelled), lok = atomic_load(&p->left_completed),
           lerr = atomic_load(&p->left_failed), submitted = atomic_load(&p->submitted);
    out->completed = finished_ok + lok;
    out->failed = finished_err + lerr;
    out->cancelled = lc;
    out->running = started > finished_ok + finished_err ? started - finished_ok - finished_err : 0;
    size_t gone = started + lc + lok + lerr;
    out->pending = submitted > gone ? submitted - gone : 0;
    out->workers = atomic_load(&p->live);
}

static void tp_release(cf_executor *ex) { cf__pool_unref((cf__thread_pool *)ex); }

static const cf__executor_ops thread_pool_ops = {
    .submit = tp_submit,
    .shutdown = tp_shutdown,
    .terminate = tp_terminate,
    .stats = tp_stats,
    .release = tp_release,
};

CF_EXTERN cf_executor *cf_thread_pool_new(const cf_pool_opts *opts)
{
    cf_pool_opts o = { 0 };
    if (opts)
        o = *opts;
    if (o.max_workers < 0 || !CF__RESERVED_ZERO(o)) {
        errno = EINVAL;
        return NULL;
    }
    if (o.max_workers == 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        o.max_workers = (int)(ncpu < 1 ? 5 : ncpu + 4 > 32 ? 32 : ncpu + 4);
    }
    size_t size = (sizeof(cf__thread_pool) + CF__LINE - 1) / CF__LINE * CF__LINE;
    cf__thread_pool *p = aligned_alloc(CF__LINE, size);
    cf__worker *workers = aligned_alloc(CF__LINE, (size_t)o.max_workers * sizeof *workers);
    if (workers)
        memset(workers, 0, (size_t)o.max_workers * sizeof *workers);
    if (!p || !workers) {
        free(p);
        free(workers);
        errno = ENOMEM;
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->base.ops = &thread_pool_ops;
    p->max_workers = o.max_workers;
    cf__backlog_init(&p->backlog, o.max_pending);
    cf__ecount_init(&p->exits);
    p->initializer = o.initializer;
    p->initarg = o.initarg;
    snprintf(p->name, sizeof p->name, "%s", o.name ? o.name : "cf-thread");
    p->workers = workers;
    p->owner.left_pending = on_left_pending;
    cds_wfcq_init(&p->qhead, &p->qtail);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->join_mu, NULL);
    atomic_init(&p->refs, 1);
    return &p->base;
}
