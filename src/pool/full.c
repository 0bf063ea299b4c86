/* SPDX-License-Identifier: MIT */
/* full.c: cf_submit_full, tasks whose future owns their argument and result destructors.
 *
 * The future carries a cf__full_job (kind CF__KIND_FULL, future.h): the user's function and
 * argument and the two destructors. The future layer runs them (future.c: arg_free at completion,
 * result_free at destruction unless cf_future_take took the value), so every way a task can end
 * (run, fail, cancelled while pending, a dead worker, terminate) frees the same way. Executors
 * that run in place call the trampoline; a process pool unwraps the job when it sends the task. */
#include <errno.h>
#include <stdlib.h>

#include "../future/future.h"
#include "../future/task.h"
#include "executor.h"

void *cf__run_full_job(void *arg)
{
    cf__full_job *job = arg;
    void *r = job->fn(job->arg);
    /* A task that failed may still have returned something: nobody will see it, so it is freed
     * here rather than leaked. */
    if (cf__task_failed() && r && job->result_free) {
        job->result_free(r);
        r = NULL;
    }
    return r;
}

CF_EXTERN cf_future *cf_submit_full(cf_executor *ex, cf_fn fn, void *arg, cf_free_fn arg_free,
                                    cf_free_fn result_free)
{
    if (!ex || !fn || (result_free && ex->ops->remote)) {
        errno = EINVAL;
        return NULL;
    }
    cf__full_job *job = malloc(sizeof *job);
    if (!job) {
        errno = ENOMEM;
        return NULL;
    }
    *job = (cf__full_job){ .fn = fn, .arg = arg, .arg_free = arg_free, .result_free = result_free };
    cf__deadline d;
    cf__wait_deadline(&d, CF_FOREVER);   /* max_pending's wait: a deadline scope cuts it */
    cf_future *f = ex->ops->submit(ex, cf__run_full_job, job, CF__KIND_FULL, &d);
    if (!f)
        free(job);     /* errno from submit; the future (if any) did not own the job */
    return f;
}
