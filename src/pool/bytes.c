/* SPDX-License-Identifier: MIT */
/* bytes.c: bytes tasks (cf_submit_bytes, cf_future_bytes) on every executor.
 *
 * The future owns a job holding the user's function and a copy of the argument bytes (kind
 * CF__KIND_BYTES, future.h), so a task cancelled before it ran leaks nothing: the future frees
 * the job when it goes, and the result data too. An executor that runs tasks in place (threads)
 * calls cf__run_bytes_job; a process pool ships the job's bytes to a worker and the result back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../future/future.h"
#include "../future/task.h"
#include "executor.h"

cf_bytes cf__call_bytes(cf_bytes_fn fn, const void *arg, size_t len)
{
    cf_bytes r = fn(arg, len);
    if (!cf__task_failed() && !r.data && r.len)
        cf_task_fail(ENOMEM, "bytes task returned no data for %zu bytes", r.len);
    if (cf__task_failed()) {
        free(r.data);
        r = (cf_bytes){ NULL, 0 };
    }
    return r;
}

void *cf__run_bytes_job(void *arg)
{
    cf__bytes_job *job = arg;
    cf_bytes r = cf__call_bytes(job->fn, job->data, job->len);
    cf_future *f = cf__task_future();
    /* The node was dequeued before the task started: its word is the length now. */
    f->bytes_len = r.len;
    f->arg = NULL;         /* read by nobody once the task runs: free the copy early */
    free(job);
    return r.data;
}

CF_EXTERN cf_future *cf_submit_bytes(cf_executor *ex, cf_bytes_fn fn, const void *arg, size_t len)
{
    if (!ex || !fn || (len && !arg) || len > SIZE_MAX - sizeof(cf__bytes_job)) {
        errno = EINVAL;
        return NULL;
    }
    cf__bytes_job *job = malloc(sizeof *job + len);
    if (!job) {
        errno = ENOMEM;
        return NULL;
    }
    job->fn = fn;
    job->len = len;
    if (len)
        memcpy(job->data, arg, len);
    cf__deadline d;
    cf__wait_deadline(&d, CF_FOREVER);   /* max_pending's wait: a deadline scope cuts it */
    cf_future *f = ex->ops->submit(ex, cf__run_bytes_job, job, CF__KIND_BYTES, &d);
    if (!f)
        free(job);     /* errno from submit */
    return f;
}

CF_EXTERN int cf_future_bytes(cf_future *f, double timeout, const void **data, size_t *len)
{
    if (!f || f->kind != CF__KIND_BYTES)
        return EINVAL;
    void *v = NULL;
    int r = cf_future_result(f, timeout, &v);
    if (r)
        return r;
    if (data)
        *data = v;
    if (len)
        *len = f->bytes_len;
    return 0;
}
