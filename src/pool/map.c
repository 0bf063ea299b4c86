/* SPDX-License-Identifier: MIT */
/* map.c: cf_map for every executor, in chunks of `chunksize` items per task.
 *
 * Ownership: the map job (a copy of args, a private results array, the chunk descriptors) is
 * reference-counted. A chunk's task touches the job only until its future is done. So when
 * cf_map returns, it gives each chunk that is not done yet (timeout, error) a reference, dropped
 * by a done-callback on that chunk's future, which runs exactly once however the future ends
 * (ran, cancelled, failed by a broken pool); chunks already done need nothing. The job is freed
 * by whoever finishes last, and a chunk still running after cf_map returned touches only the job,
 * never the caller's args or results. The common path (every chunk done) costs no callback and
 * no atomic per chunk. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "../future/future.h"
#include "../future/task.h"
#include "executor.h"
#include "map.h"

#define WAIT_AHEAD 32
#define CANCEL_EVERY 8               /* items between a chunk's cancellation checks */

static void job_unref(cf__map_job *j)
{
    if (atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) == 1)
        free(j);
}

static void chunk_done(cf_future *f, void *arg)
{
    (void)f;
    job_unref(arg);
}

size_t cf__run_items(cf_fn fn, void *const *args, void **res, size_t n)
{
    /* The chunk's task context, read once: fn returns to the same one. Asking whether the
     * chunk was cancelled reads the future, a line the submitter also uses, so it is asked
     * every CANCEL_EVERY items (perf: per item, the two checks took a third of a trivial map). */
    cf__task_ctx *ctx = cf__task_current;
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        void *r = fn(args[i]);
        if (ctx && ctx->err)
            break;                   /* the future fails with that error: first in arg order */
        res[i] = r;
        done++;
        if ((done % CANCEL_EVERY == 0 || done == 1) && done < n && cf_task_cancelled()) {
            /* cf_map gave up on us (timeout, an earlier error) or the pool is shutting down with
             * cancel_futures: stop, and say so rather than return a partial chunk as success. */
            cf_task_fail(ECANCELED, "cf_map chunk cancelled after %zu of %zu items", done, n);
            break;
        }
    }
    return done;
}

/* A chunk of one item returns that item's result (no shared array written at all); a larger
 * chunk writes its results into the job and returns how many items it completed. */
static void *run_chunk(void *arg)
{
    cf__chunk *c = arg;
    cf__map_job *j = c->job;
    if (c->count == 1)
        return j->fn(j->args[c->start]);
    size_t done = cf__run_items(j->fn, j->args + c->start, j->res + c->start, c->count);
    if (cf__task_failed())
        c->failed_done = done;
    return (void *)(uintptr_t)done;
}

static cf__map_job *job_new(cf_fn fn, void *const *args, size_t n, size_t chunksize)
{
    size_t nchunks = n / chunksize + (n % chunksize != 0);
    if (n > SIZE_MAX / 4 / sizeof(void *) || nchunks > SIZE_MAX / 2 / sizeof(cf__chunk))
        return NULL;
    size_t size = sizeof(cf__map_job) + nchunks * sizeof(cf__chunk) + (2 * n + nchunks) * sizeof(void *);
    cf__map_job *j = malloc(size);
    if (!j)
        return NULL;
    atomic_init(&j->refs, 1);
    j->fn = fn;
    j->nchunks = nchunks;
    j->args = (void **)&j->chunks[nchunks];
    j->res = j->args + n;
    j->futs = (cf_future **)(j->res + n);
    for (size_t i = 0; i < n; i++)
        j->args[i] = args[i];
    for (size_t c = 0; c < nchunks; c++) {
        j->chunks[c].job = j;
        j->chunks[c].start = c * chunksize;
        j->chunks[c].count = (c + 1) * chunksize <= n ? chunksize : n - c * chunksize;
        j->chunks[c].failed_done = 0;
        j->futs[c] = NULL;
    }
    return j;
}

CF_EXTERN int cf_map(cf_executor *ex, cf_fn fn, void *const *args, void **results, size_t n,
                     size_t chunksize, double timeout)
{
    cf__deadline d;
    if (!ex || !fn || (n > 0 && (!args || !results)) || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (n == 0)
        return 0;
    if (chunksize == 0)
        chunksize = 1;
    cf__map_job *j = job_new(fn, args, n, chunksize);
    if (!j)
        return ENOMEM;

    int err = 0;
    size_t submitted = 0;
    for (; submitted < j->nchunks; submitted++) {
        cf_future *f = ex->ops->submit(ex, run_chunk, &j->chunks[submitted], CF__KIND_CHUNK, &d);
        if (!f) {
            err = errno;
            break;
        }
        j->futs[submitted] = f;
    }

    /* Collect in argument order; the first error stops us, after earlier chunks were copied.
     * Chunks finish about in order, and a waiter woken for each would cost a wake-up per chunk:
     * so we wait for the last of each run of WAIT_AHEAD first, then collect the run, mostly
     * without sleeping. (A failure early in a run is then seen when the run ends.) */
    int first = 0;
    for (size_t c = 0; c < submitted && !first; c++) {
        cf_future *f = j->futs[c];
        cf__chunk *ch = &j->chunks[c];
        if (c % WAIT_AHEAD == 0) {
            size_t ahead = c + WAIT_AHEAD - 1 < submitted ? c + WAIT_AHEAD - 1 : submitted - 1;
            if ((first = cf__future_wait(j->futs[ahead], &d)) != 0)
                break;
        }
        if ((first = cf__future_wait(f, &d)) != 0)
            break;      /* ETIMEDOUT, or ECANCELED: the calling coroutine was cancelled */
        if (cf_future_state(f) == CF_CANCELLED) {
            first = ECANCELED;
        } else if (ch->count == 1) {
            if ((first = f->err) == 0)
                results[ch->start] = f->value;
        } else {
            size_t done = (first = f->err) ? ch->failed_done : (uintptr_t)f->value;
            for (size_t i = 0; i < done; i++)
                results[ch->start + i] = j->res[ch->start + i];
        }
    }
    if (!first)
        first = err;    /* all submitted chunks succeeded, but not all could be submitted */

    for (size_t c = 0; c < submitted; c++) {
        cf_future *f = j->futs[c];
        if (!cf_future_done(f)) {
            /* Reference first: if f completes meanwhile, the callback runs here at once. The
             * first callback of a future never allocates, so this cannot fail. */
            atomic_fetch_add_explicit(&j->refs, 1, memory_order_relaxed);
            cf_future_add_done_callback(f, chunk_done, j);
            cf_future_cancel(f);        /* a pending chunk never runs; a running one stops early */
        }
        cf_future_unref(f);
    }
    job_unref(j);
    return first;
}
