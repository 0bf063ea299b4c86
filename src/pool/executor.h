/* SPDX-License-Identifier: MIT */
/* executor.h (internal): the executor interface. Thread and process pools implement it; remote
 * (MPI) executors will implement the same operations, and everything generic (argument checks,
 * cf_map, bytes tasks, cf_executor_free) is written once against it. */
#ifndef CF__EXECUTOR_H
#define CF__EXECUTOR_H

#include "cfutures/executor.h"
#include "cfutures/future.h"
#include "../common/deadline.h"

typedef struct cf__executor_ops {
    /* A new future running fn(arg), or NULL + errno. d bounds a max_pending wait. kind
     * (CF__KIND_*, future.h) tells an executor that cannot call fn(arg) in place (a process)
     * what arg is; the others just call fn(arg). */
    cf_future *(*submit)(cf_executor *ex, cf_fn fn, void *arg, int kind, const cf__deadline *d);
    void       (*shutdown)(cf_executor *ex, bool wait, bool cancel_futures);
    void       (*terminate)(cf_executor *ex);
    void       (*stats)(cf_executor *ex, cf_pool_stats *out);
    /* Drops the user's handle; called after shutdown(wait = true). */
    void       (*release)(cf_executor *ex);
    /* Tasks run in other processes: a result is a word from there, not this process's pointer
     * (cf_submit_full refuses a result destructor). */
    bool       remote;
} cf__executor_ops;

struct cf_executor {
    const cf__executor_ops *ops;
};

/* Runs a cf_submit_full task in place (thread pools): arg is the cf__full_job. */
void *cf__run_full_job(void *arg);
/* Runs a bytes task in place (thread pools): arg is the cf__bytes_job. */
void *cf__run_bytes_job(void *arg);
/* Calls a bytes function in the current task (its context entered) with the contract's rules:
 * {NULL, n > 0} fails the task with ENOMEM; a failed task's data is freed and {NULL, 0} returned. */
cf_bytes cf__call_bytes(cf_bytes_fn fn, const void *arg, size_t len);

#endif
