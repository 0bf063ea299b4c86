/* SPDX-License-Identifier: MIT */
/* thread_worker.c: the thread pool's worker side: the run loop, parking, closing, and the pool's
 * lifetime.
 *
 * Design notes.
 * - Parking: an idle worker first spins (counted in nspinning) for a bounded number of rounds,
 *   pausing and then yielding the CPU, which catches the next task of a busy producer without a
 *   wake-up (~20 us each way here). Then it sleeps on the wake_seq futex, counted in nsleeping.
 *   It re-checks the queue after announcing itself (see the Dekker note in thread_pool.c).
 * - Chain wake-up: a worker that takes a task and sees more queued, with nobody spinning, wakes
 *   one sleeper, so a burst fans out over the workers while a submit pays at most one wake.
 *   A spinner stops counting itself in nspinning *before* it dequeues: were it still counted,
 *   both its own chain check and a concurrent submit would take it for a free spinner and wake
 *   nobody, and the next task would queue behind the one it is about to run (seq_cst on both
 *   sides: the submitter enqueues then reads nspinning, the spinner decrements then dequeues and
 *   reads the queue, so one of them sees the other).
 * - Idle tokens (thread_pool.h): a worker about to complete a task with the queue empty puts
 *   its token down *before* the completion, so a caller woken by that completion who submits
 *   again finds it and starts no thread (CPython's gh-117344 race); it takes the token back if it
 *   finds more work after all, unless a submit claimed it first. Submits claim before they
 *   enqueue, so a worker can never take a task and its token back between a submit's enqueue
 *   and its claim (that submit would then start a second thread for nothing).
 * - Counters are updated before a future's state is published, so whoever sees a future done
 *   also sees it counted in cf_executor_stats (the completion's release orders them).
 * - Lifetime: the pool is reference-counted: the user's handle plus one per live worker. A
 *   worker whose own task shut the pool down detaches itself and frees the pool on its way out. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/arch.h>

#include "../common/backoff.h"
#include "../common/futex.h"
#include "../common/tls.h"
#include "../future/task.h"
#include "thread_pool.h"

#define CF__SPIN_PAUSE 100   /* rounds of cpu_relax before yielding */
#define CF__SPIN_YIELD 20    /* rounds of sched_yield before sleeping */

static CF__TLS cf__thread_pool *this_pool;

cf__thread_pool *cf__pool_of_this_thread(void) { return this_pool; }

void cf__pool_wake_one(cf__thread_pool *p)
{
    atomic_fetch_add(&p->wake_seq, 1);
    cf__futex_wake(&p->wake_seq, 1);
}

void cf__pool_wake_all(cf__thread_pool *p)
{
    atomic_fetch_add(&p->wake_seq, 1);
    cf__futex_wake(&p->wake_seq, CF__WAKE_ALL);
}

static void pool_destroy(cf__thread_pool *p)
{
    /* Left only when no worker could ever be started: those futures were failed already. */
    struct cds_wfcq_node *n;
    while ((n = cds_wfcq_dequeue_blocking(&p->qhead, &p->qtail))) {
        cf_future *f = cf__container_of(n, cf_future, qnode);
        atomic_load_explicit(&f->word, memory_order_acquire);
        cf_future_cancel(f);
        cf_future_unref(f);
    }
    cds_wfcq_destroy(&p->qhead, &p->qtail);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->join_mu);
    free(p->broken_msg);
    free(p->workers);
    free(p);
}

void cf__pool_unref(cf__thread_pool *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        pool_destroy(p);
}

void cf__pool_close(cf__thread_pool *p, int reason, char *broken_msg)
{
    if (reason == CF_EBROKEN) {
        pthread_mutex_lock(&p->mu);
        if (!atomic_load(&p->broken)) {
            p->broken_msg = broken_msg;          /* published by the seq_cst store below */
            broken_msg = NULL;
            atomic_store(&p->broken, true);
        }
        pthread_mutex_unlock(&p->mu);
        free(broken_msg);
    } else {
        int open = 0;
        atomic_compare_exchange_strong(&p->closed, &open, reason);
    }
    /* Submits that passed their closed check are about to enqueue: let them. The window is a
     * few instructions and at most one wake-up (the enqueue is wait-free), so yielding here is
     * bounded. */
    while (atomic_load(&p->inflight) != 0)
        sched_yield();
    atomic_store(&p->sealed, true);
    cf__pool_wake_all(p);
    cf__backlog_wake(&p->backlog);
}

static cf_future *pop(cf__thread_pool *p)
{
    struct cds_wfcq_node *n = cds_wfcq_dequeue_blocking(&p->qhead, &p->qtail);
    if (!n)
        return NULL;
    if (!cds_wfcq_empty(&p->qhead, &p->qtail) &&
        atomic_load_explicit(&p->nspinning, memory_order_relaxed) == 0 &&
        atomic_load_explicit(&p->nsleeping, memory_order_relaxed) > 0)
        cf__pool_wake_one(p);
    cf_future *f = cf__container_of(n, cf_future, qnode);
    atomic_load_explicit(&f->word, memory_order_acquire);   /* pairs with tp_submit's release */
    return f;
}

static bool drained(cf__thread_pool *p)
{
    return atomic_load(&p->sealed) && cds_wfcq_empty(&p->qhead, &p->qtail);
}

/* The next task, after spinning and then sleeping; NULL once the queue is sealed and empty. */
static cf_future *park_wait(cf__thread_pool *p);

/* posted: the token is down already (see the design notes). */
static cf_future *park(cf__thread_pool *p, bool posted)
{
    if (!posted)
        atomic_fetch_add(&p->idle_tokens, 1);
    cf_future *f = park_wait(p);
    /* Busy again: take our token back unless a submit claimed it (its task may be this one). */
    cf__pool_claim_idle(p);
    return f;
}

static cf_future *park_wait(cf__thread_pool *p)
{
    cf_future *f;
    atomic_fetch_add(&p->nspinning, 1);
    cf__backoff b = cf__backoff_new(CF__SPIN_PAUSE, CF__SPIN_YIELD);
    do {
        if (!cds_wfcq_empty(&p->qhead, &p->qtail)) {
            atomic_fetch_sub(&p->nspinning, 1);    /* before the pop: see the design notes */
            if ((f = pop(p)))
                return f;
            atomic_fetch_add(&p->nspinning, 1);
        }
        if (drained(p)) {
            atomic_fetch_sub(&p->nspinning, 1);
            return NULL;
        }
    } while (cf__backoff_step(&b));
    atomic_fetch_sub(&p->nspinning, 1);
    for (;;) {
        uint32_t seq = atomic_load(&p->wake_seq);
        atomic_fetch_add(&p->nsleeping, 1);
        f = pop(p);
        if (!f && !drained(p))
            cf__futex_wait(&p->wake_seq, seq, NULL);
        atomic_fetch_sub(&p->nsleeping, 1);
        if (f)
            return f;
        if (drained(p))
            return NULL;
    }
}

/* Single-writer counter: only this worker writes it, so no locked instruction is needed. */
static void bump(_Atomic size_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* Runs f; *posted: the idle token was put down before its completion (queue empty). */
static void run(cf__thread_pool *p, cf__worker *w, cf_future *f, bool *posted)
{
    if (!cf__future_set_running(f))
        return;                  /* cancelled or completed while queued: already counted */
    bump(&w->started);
    if (p->backlog.max)
        cf__backlog_release(&p->backlog);

    cf__task_ctx ctx;
    cf__task_ctx *prev = cf__task_enter(&ctx, f, &p->cancel_running);
    void *r = f->fn(f->arg);
    cf__task_leave(prev);

    bump(ctx.err ? &w->failed : &w->completed);   /* before the state is published */
    if (cds_wfcq_empty(&p->qhead, &p->qtail)) {
        atomic_fetch_add(&p->idle_tokens, 1);       /* before the completion: see the notes */
        *posted = true;
    }
    cf__future_complete_ref(f, CF_FINISHED, ctx.err, ctx.err ? NULL : r, ctx.msg, true);
}

static void fail_broken(cf__thread_pool *p, cf_future *f)
{
    char *msg = p->broken_msg ? strdup(p->broken_msg) : NULL;
    cf__future_complete_ref(f, CF_FINISHED, CF_EBROKEN, NULL, msg, true);   /* on_left_pending counts */
}

static void run_initializer(cf__thread_pool *p)
{
    cf__task_ctx ctx;
    cf__task_ctx *prev = cf__task_enter(&ctx, NULL, NULL);
    p->initializer(p->initarg);
    cf__task_leave(prev);
    if (ctx.err) {
        char *msg = NULL;
        if (asprintf(&msg, "thread initializer failed: %s (%s)",
                     ctx.msg ? ctx.msg : cf_strerror(ctx.err), cf_strerror(ctx.err)) < 0)
            msg = NULL;
        free(ctx.msg);
        cf__pool_close(p, CF_EBROKEN, msg);
    }
}

void *cf__worker_main(void *arg)
{
    cf__worker *w = arg;
    cf__thread_pool *p = w->pool;
    /* Linux allows 15 bytes: shorten the prefix, keep "-N" so workers stay distinguishable. */
    char name[16], suffix[13];
    int slen = snprintf(suffix, sizeof suffix, "-%d", w->index);
    snprintf(name, sizeof name, "%.*s%s", 15 - slen, p->name, suffix);
    pthread_setname_np(pthread_self(), name);
    this_pool = p;

    if (p->initializer)
        run_initializer(p);
    bool posted = false;
    for (;;) {
        cf_future *f = pop(p);
        if (f && posted)
            cf__pool_claim_idle(p);  /* more work after all: busy again */
        if (!f && !(f = park(p, posted)))
            break;
        posted = false;
        if (atomic_load_explicit(&p->broken, memory_order_acquire))
            fail_broken(p, f);
        else if (atomic_load_explicit(&p->cancel_running, memory_order_relaxed))
            cf_future_cancel(f);     /* shutdown(cancel_futures) is draining: start nothing */
        else
            run(p, w, f, &posted);
        cf_future_unref(f);      /* the queue's reference */
    }
    this_pool = NULL;
    atomic_fetch_sub(&p->live, 1);
    cf__ecount_notify(&p->exits, CF__WAKE_ALL);   /* still holding our reference */
    cf__pool_unref(p);
    return NULL;
}
