/* SPDX-License-Identifier: MIT */
/* process_pool.c: the process pool's caller side: creation, submit, shutdown, terminate, stats,
 * and the hooks by which a future's cancel reaches the pool.
 *
 * Design notes.
 * - Submissions and closing are intake.h's (one future, a wait-free enqueue, at most one
 *   syscall). Everything else happens in the manager thread (process_manager.c), which alone
 *   talks to the fork server and the workers.
 * - Cancel of a PENDING future that was already sent to a worker: may_cancel, called under the
 *   future's lock, races the worker for the task's shared entry (process_pool.h); the loser
 *   learns it at once. Cancel of a RUNNING one pokes the manager, which sets the worker's
 *   cancel_seq (cf_task_cancelled there).
 * - Lifetime: intake.h's (the user's handle and the manager thread's references).
 * Lock order: a future's lock, then nothing of ours (the hooks only touch atomics). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../common/futex.h"
#include "../common/opts.h"
#include "process_pool.h"


bool cf__pp_on_manager(cf__process_pool *p)
{
    return cf__latch_peek(&p->started_up) != 0 && pthread_equal(pthread_self(), p->mgr_self);
}

/* ---- future hooks (called with the future's lock held) ---- */

static void on_left_pending(cf__owner *o, cf_future *f, cf_state to, int err)
{
    cf__intake_left_pending(&cf__container_of(o, cf__process_pool, owner)->in, f, to, err);
}

bool cf__pp_revoke(cf__process_pool *p, cf_future *f)
{
    uint64_t t = f->xtag;
    if (!(t & CF__XTAG_SENT))
        return true;                 /* still with us: the manager drops it when it sees it */
    uint64_t seq = cf__xtag_seq(t);
    uint64_t q = cf__ent(seq, ENT_QUEUED);
    if (!atomic_compare_exchange_strong(&p->slots[cf__xtag_idx(t)].ent[seq % CF__PP_K], &q,
                                        cf__ent(seq, ENT_REVOKED)))
        return false;                /* the worker started it */
    f->xtag = t & ~CF__XTAG_SENT;
    return true;
}

static bool may_cancel(cf__owner *o, cf_future *f)
{
    return cf__pp_revoke(cf__container_of(o, cf__process_pool, owner), f);
}

/* The manager looks at every running task's cancel_requested on each idle pass: wake it. */
static bool cancel_running(cf__owner *o, cf_future *f)
{
    (void)f;
    cf__intake_ring(&cf__container_of(o, cf__process_pool, owner)->in);
    return false;   /* Python's rule: a running task is only told */
}

/* ---- submit ---- */

static cf_future *pp_submit(cf_executor *ex, cf_fn fn, void *arg, int kind, const cf__deadline *d)
{
    cf__process_pool *p = (cf__process_pool *)ex;
    return cf__intake_submit(&p->in, &p->owner, cf__pp_on_manager(p), fn, arg, kind, d);
}

/* ---- shutdown and lifetime ---- */

static void destroy(cf__process_pool *p)
{
    cf__intake_destroy(&p->in);
    if (p->slots)
        munmap(p->slots, p->slots_len);
    if (p->w)
        for (int i = 0; i < p->max_workers; i++)
            free(p->w[i].out.b);
    free(p->w);
    cf__qstore_destroy(&p->pend);
    free(p->broken_msg);
    free(p);
}

void cf__pp_unref(cf__process_pool *p)
{
    if (cf__life_unref(&p->life))
        destroy(p);
}

/* The manager's last word (intake.h's lifetime). */
void cf__pp_finish(cf__process_pool *p)
{
    if (cf__life_finish(&p->life))
        destroy(p);
}

static void wait_finished(cf__process_pool *p) { cf__life_wait(&p->life); }

static void close_pool(cf__process_pool *p) { cf__intake_close(&p->in); }

static void pp_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
    cf__process_pool *p = (cf__process_pool *)ex;
    if (cancel_futures)
        atomic_store(&p->cancel_futures, true);
    close_pool(p);
    if (wait && !cf__pp_on_manager(p))
        wait_finished(p);
}

static void pp_terminate(cf_executor *ex)
{
    cf__process_pool *p = (cf__process_pool *)ex;
    atomic_store(&p->cancel_futures, true);
    atomic_store(&p->terminating, true);
    close_pool(p);
    if (!cf__pp_on_manager(p))
        wait_finished(p);
}

static void pp_stats(cf_executor *ex, cf_pool_stats *out)
{
    cf__process_pool *p = (cf__process_pool *)ex;
    size_t running = 0;
    for (int i = 0; i < p->max_workers; i++)
        running += atomic_load_explicit(&p->slots[i].started, memory_order_relaxed) != 0;
    out->completed = atomic_load(&p->in.completed);
    out->failed = atomic_load(&p->in.failed);
    out->cancelled = atomic_load(&p->in.cancelled);
    size_t gone = out->completed + out->failed + out->cancelled;
    size_t submitted = atomic_load(&p->in.submitted);
    out->running = running < submitted - gone ? running : (submitted > gone ? submitted - gone : 0);
    out->pending = submitted > gone + out->running ? submitted - gone - out->running : 0;
    out->workers = atomic_load(&p->live);
}

static void pp_release(cf_executor *ex) { cf__pp_unref((cf__process_pool *)ex); }

static const cf__executor_ops process_pool_ops = {
    .submit = pp_submit,
    .shutdown = pp_shutdown,
    .terminate = pp_terminate,
    .stats = pp_stats,
    .release = pp_release,
    .remote = true,
};

CF_EXTERN cf_executor *cf_process_pool_new(const cf_pool_opts *opts)
{
    cf_pool_opts o = { 0 };
    if (opts)
        o = *opts;
    if (o.max_workers < 0 || o.max_workers > 4096 || o.max_tasks_per_child < 0 ||
        o.task_timeout != o.task_timeout || !CF__RESERVED_ZERO(o)) {
        errno = EINVAL;
        return NULL;
    }
    if (o.max_workers == 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        o.max_workers = ncpu < 1 ? 1 : ncpu > 4096 ? 4096 : (int)ncpu;
    }
    size_t size = (sizeof(cf__process_pool) + 63) / 64 * 64;
    cf__process_pool *p = aligned_alloc(64, size);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->base.ops = &process_pool_ops;
    p->owner.left_pending = on_left_pending;
    p->owner.may_cancel = may_cancel;
    p->owner.cancel_running = cancel_running;
    p->max_workers = o.max_workers;
    p->initializer = o.initializer;
    p->initarg = o.initarg;
    snprintf(p->name, sizeof p->name, "%s", o.name ? o.name : "cf-proc");
    p->max_tasks = o.max_tasks_per_child;
    /* Beyond ~31 years (INFINITY too) is no timeout, as for every other timeout here. */
    p->task_timeout = o.task_timeout > 0 && o.task_timeout < 1e9 ? o.task_timeout : 0;
    p->fs.sock = -1;
    cf__latch_init(&p->started_up);
    cf__qstore_init(&p->pend, CF__FIFO, 0, NULL);
    cf__life_init(&p->life);         /* the user's handle and the manager's */

    int err = cf__intake_init(&p->in, o.max_pending);   /* first: destroy() undoes it */
    if (err)
        goto fail;
    p->slots_len = (size_t)o.max_workers * sizeof(cf__pslot);
    void *m = mmap(NULL, p->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        p->slots = NULL;
        err = ENOMEM;
        goto fail;
    }
    p->slots = m;
    p->w = calloc((size_t)o.max_workers, sizeof *p->w);
    if (!p->w) {
        err = ENOMEM;
        goto fail;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    err = pthread_create(&p->mgr, &attr, cf__pp_manager_main, p);
    pthread_attr_destroy(&attr);
    if (err)
        goto fail;
    if (cf__latch_wait(&p->started_up) != 1) {
        err = p->startup_err;
        wait_finished(p);            /* the manager gave up and dropped its reference */
        cf__pp_unref(p);
        errno = err;
        return NULL;
    }
    return &p->base;

fail:
    destroy(p);
    errno = err;
    return NULL;
}
