/* cfutures/executor.h: executors (thread pools today, process pools next) behind one interface:
 * submit a function, get a future. Python's concurrent.futures.Executor is the model.
 * All functions may be called from any thread, including from tasks running on the executor. */
#ifndef CFUTURES_EXECUTOR_H
#define CFUTURES_EXECUTOR_H

#include "common.h"
#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cf_executor cf_executor;
typedef void *(*cf_fn)(void *arg);
typedef struct cf_pool_opts {
    int         max_workers;          /* 0: threads min(32, ncpu + 4), processes ncpu */
    const char *name;                 /* worker name prefix; NULL: "cf-thread" / "cf-proc" */
    void      (*initializer)(void *arg);
    void       *initarg;
    size_t      max_pending;          /* 0: unbounded; else cf_submit blocks while this many wait */
    int         max_tasks_per_child;  /* process pools: replace a worker after N tasks; 0: never */
    double      task_timeout;         /* process pools: kill a task running longer; <= 0: none */
} cf_pool_opts;

/* A thread pool. Workers start lazily, one per submit that finds no idle worker, up to
 * max_workers; each runs the initializer once before its first task (a cf_task_fail there breaks
 * the pool: pending futures fail with CF_EBROKEN). Threads are named "<name>-N" (truncated to 15
 * bytes). The name is copied. NULL opts: defaults. NULL + errno EINVAL (max_workers < 0) | ENOMEM.
 * A thread pool does not survive fork(): use it in the process that created it. */
CF_EXTERN cf_executor *cf_thread_pool_new(const cf_pool_opts *opts); /* NULL opts: defaults; NULL + errno on failure */
/* Schedules fn(arg); returns a new future (the caller owns one reference) that ends FINISHED with
 * fn's return value, failed (cf_task_fail), or CANCELLED. With max_pending, blocks while that many
 * tasks wait to start, except when called from one of the pool's own workers.
 * NULL + errno: ESHUTDOWN, CF_EBROKEN, ENOMEM, EINVAL (NULL ex or fn), or EAGAIN when no worker
 * thread could be started at all. */
CF_EXTERN cf_future   *cf_submit(cf_executor *ex, cf_fn fn, void *arg); /* NULL + errno: ESHUTDOWN, CF_EBROKEN, ENOMEM, EINVAL */
/* cf_submit with a bound on the max_pending wait: NULL + errno EAGAIN (timeout 0, full) or
 * ETIMEDOUT besides cf_submit's errors. */
CF_EXTERN cf_future   *cf_submit_timeout(cf_executor *ex, cf_fn fn, void *arg, double timeout);
/* results[i] = fn(args[i]) for i < n, in chunks of chunksize items per task (0 means 1), waiting
 * up to timeout in all. Returns 0, or the first error in argument order (a task's cf_task_fail
 * error, ETIMEDOUT, or a submit error); then the tasks not yet started are cancelled and results
 * past the failing item are left as they were. After cf_map returns, whatever it returned, no task
 * touches args or results. EINVAL for NULL ex/fn or NULL arrays with n > 0. */
CF_EXTERN int  cf_map(cf_executor *ex, cf_fn fn, void *const *args, void **results, size_t n,
                      size_t chunksize, double timeout);
     /* results[i] = fn(args[i]); 0, or the first error in argument order; on ETIMEDOUT what has not started is cancelled */
/* Stops accepting work (later submits fail with ESHUTDOWN). cancel_futures: every pending future
 * is cancelled and running tasks see cf_task_cancelled(). wait: returns once every task still
 * queued has run and the workers have exited; called from one of the pool's own tasks it does not
 * wait for the calling task. Idempotent; safe from several threads. NULL: no-op. */
CF_EXTERN void cf_executor_shutdown(cf_executor *ex, bool wait, bool cancel_futures);
/* shutdown(wait = true), then frees the executor. From one of its own tasks, the memory is
 * released when that task's worker exits. Futures stay valid (they are reference-counted). */
CF_EXTERN void cf_executor_free(cf_executor *ex);   /* shutdown(wait = true), then free; NULL is a no-op */

typedef struct cf_pool_stats {            /* a consistent-enough snapshot, for progress and monitoring */
    size_t pending, running, completed, failed, cancelled;
    int    workers;                       /* live workers now */
} cf_pool_stats;
/* completed: finished with a result; failed: finished with an error; pending: waiting to start
 * (cancelled ones not counted). Never blocks. 0 | EINVAL (NULL ex or out). */
CF_EXTERN int  cf_executor_stats(cf_executor *ex, cf_pool_stats *out);  /* 0 | EINVAL */

#ifdef __cplusplus
}
#endif
#endif
