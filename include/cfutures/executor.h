/* SPDX-License-Identifier: MIT */
/** @file
 * Executors (thread pools and fork-based process pools) behind one
 * interface: submit a function, get a future. Python's concurrent.futures.Executor is the model.
 * All functions may be called from any thread, including from tasks running on the executor
 * (a process pool's tasks run in other processes: there, these calls act on copies). */
#ifndef CFUTURES_EXECUTOR_H
#define CFUTURES_EXECUTOR_H

#include <stdint.h>

#include "common.h"
#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An executor: a thread pool or a process pool (opaque; made by cf_thread_pool_new or
 * cf_process_pool_new, freed by cf_executor_free). */
typedef struct cf_executor cf_executor;
/** A task: called with the argument given to cf_submit; its return value is the future's result.
 * It may fail instead with cf_task_fail. */
typedef void *(*cf_fn)(void *arg);
/** Options of a pool. Every field's zero is its default, so an initializer that zeroes the rest
 * (CF_POOL_OPTS_INIT, a designated initializer) asks only for what it names. */
typedef struct cf_pool_opts {
    int         max_workers;          /**< 0: threads min(32, ncpu + 4), processes ncpu */
    const char *name;                 /**< worker name prefix; NULL: "cf-thread" / "cf-proc" */
    void      (*initializer)(void *arg);  /**< run once in each worker before its first task; NULL: none */
    void       *initarg;              /**< the initializer's argument */
    size_t      max_pending;          /**< 0: unbounded; else cf_submit blocks while this many wait */
    int         max_tasks_per_child;  /**< process pools: replace a worker after N tasks; 0: never */
    double      task_timeout;         /**< process pools: kill a task running longer; <= 0 or over
                                       * ~31 years (INFINITY): none */
    uint64_t    cf__reserved[8];      /**< zero: room for later fields (nonzero: EINVAL) */
} cf_pool_opts;
/** Defaults for every field, in C and C++ alike: `cf_pool_opts o = CF_POOL_OPTS_INIT;` then set
 * fields. (C may also use designated initializers, which zero the rest just the same.) */
#define CF_POOL_OPTS_INIT CF__ZERO_INIT

/** A thread pool. Workers start lazily, one per submit that finds no idle worker, up to
 * max_workers; each runs the initializer once before its first task (a cf_task_fail there breaks
 * the pool: pending futures fail with CF_EBROKEN). Threads are named "<name>-N" (truncated to 15
 * bytes). The name is copied. NULL opts: defaults. NULL + errno EINVAL (max_workers < 0, or
 * cf__reserved not zero) | ENOMEM.
 * A thread pool does not survive fork(): use it in the process that created it. */
CF_EXTERN cf_executor *cf_thread_pool_new(const cf_pool_opts *opts);
/** A process pool: max_workers processes (0: the number of CPUs), forked from a single-threaded
 * fork server that is itself forked, by a thread the pool owns, when the pool is created.
 * Workers are started at creation and replaced when they die (crash, exit, SIGKILL: only the
 * task they were running fails, with CF_EWORKER and a message naming the worker and signal),
 * after max_tasks_per_child tasks, or when a task outruns task_timeout (it fails with ETIMEDOUT).
 * They are named "<name>-N" (prctl), run the initializer once (a cf_task_fail there, or dying
 * before it returns, breaks the pool: CF_EBROKEN), and die with the pool, or with the program
 * (PR_SET_PDEATHSIG). Replacements back off while workers keep dying before running anything
 * (and eight such deaths in a row break the pool); a fork server killed from outside is
 * replaced (the tasks its workers were running fail with CF_EWORKER). A task's stdio is flushed
 * after it ends, before its result is sent.
 * Tasks run in a copy of the program as it was when the pool was created: fn must be a function
 * of the program, arg and the result travel as a machine word (integers, or pointers into memory
 * that existed then); use cf_submit_bytes for data. Done-callbacks may run in the pool's thread.
 * stdio is flushed before forking. Returns once every worker is running. NULL + errno: EINVAL
 * (max_workers < 0 or > 4096, max_tasks_per_child < 0, a NaN task_timeout, cf__reserved not
 * zero), ENOMEM, EAGAIN (a process or thread could not be started), EMFILE/ENFILE
 * (out of descriptors): never a pool with fewer workers than asked. Does not survive fork(), like thread pools: a
 * task running in a worker cannot submit to the pool (cf_submit there fails with EPERM). */
CF_EXTERN cf_executor *cf_process_pool_new(const cf_pool_opts *opts);

/** Schedules fn(arg); returns a new future (the caller owns one reference) that ends FINISHED with
 * fn's return value, failed (cf_task_fail), or CANCELLED. With max_pending, waits while that many
 * tasks wait to start (a thread sleeps, a coroutine suspends), except when called from one of the
 * pool's own workers. NULL + errno: ESHUTDOWN, CF_EBROKEN, ENOMEM, EINVAL (NULL ex or fn),
 * ECANCELED (the calling coroutine was cancelled while it waited for a slot), EPERM (from a
 * process pool's worker), or EAGAIN when no worker thread could be started at all. */
CF_EXTERN cf_future   *cf_submit(cf_executor *ex, cf_fn fn, void *arg);
/** cf_submit with a bound on the max_pending wait (a deadline scope cuts it too): NULL + errno
 * EAGAIN (timeout 0, full) or ETIMEDOUT besides cf_submit's errors. */
CF_EXTERN cf_future   *cf_submit_timeout(cf_executor *ex, cf_fn fn, void *arg, double timeout);
/** cf_submit with ownership of the argument and of the result (GLib's g_thread_pool_new_full):
 * arg_free(arg) runs once the task is done with arg: as its future completes (finished, failed
 * or cancelled), before anyone can see it done, in the thread that completes it and with the
 * future's lock held: it must only release the argument, never call into that future.
 * result_free(value) runs when the future's last
 * reference goes, if it FINISHED with a result that no cf_future_take took: a result nobody
 * read never leaks (what a task that failed returned is freed too, as it ends). Either may be NULL. A process pool's results are words from another process:
 * result_free must be NULL there (EINVAL); arg_free runs in this process, on this process's arg.
 * On failure (NULL + errno as cf_submit, EINVAL) neither runs: arg is still the caller's. */
CF_EXTERN cf_future *cf_submit_full(cf_executor *ex, cf_fn fn, void *arg, cf_free_fn arg_free,
                                    cf_free_fn result_free);
/** results[i] = fn(args[i]) for i < n, in chunks of chunksize items per task (0 means 1), waiting
 * up to timeout in all. Returns 0, or the first error in argument order (a task's cf_task_fail
 * error, ETIMEDOUT, or a submit error); then the tasks not yet started are cancelled and results
 * past the failing item are left as they were. After cf_map returns, whatever it returned, no task
 * touches args or results. In a coroutine, submitting and collecting suspend it (ECANCELED if it
 * is cancelled meanwhile: the tasks not started are cancelled as for an error).
 * EINVAL for NULL ex/fn or NULL arrays with n > 0. */
CF_EXTERN int  cf_map(cf_executor *ex, cf_fn fn, void *const *args, void **results, size_t n,
                      size_t chunksize, double timeout);
/** A lazy, ordered map in progress (opaque): see cf_map_iter_new. */
typedef struct cf_map_iter cf_map_iter;
/** The lazy, ordered map (Python 3.14's Executor.map with buffersize): submits fn(args[i]) in
 * argument order, keeping at most buffersize items submitted and not yet yielded (0: all n are
 * submitted at once), and cf_map_next yields the results in argument order as they complete.
 * args is read as items are submitted: it must stay valid until the last item was yielded or
 * the iterator is freed. Submits wait as cf_submit does (max_pending). Works on every executor.
 * NULL + errno: EINVAL (NULL ex or fn, NULL args with n > 0) | ENOMEM. */
CF_EXTERN cf_map_iter *cf_map_iter_new(cf_executor *ex, cf_fn fn, void *const *args, size_t n,
                                       size_t buffersize);
/** The next item's outcome, in argument order, waiting up to timeout (a coroutine suspends):
 * 0 and *result | the task's error, *msg its message (or the submit's errno, if that item could
 * not be submitted: ESHUTDOWN, CF_EBROKEN, ENOMEM, ...); either way the iterator moves on, and
 * the next item is submitted. *msg lives until the next call or the free. ETIMEDOUT or ECANCELED
 * (the calling coroutine was cancelled) leave the item next, nothing lost. ENOENT once all n
 * were yielded | EINVAL. result and msg may be NULL. */
CF_EXTERN int  cf_map_next(cf_map_iter *it, double timeout, void **result, const char **msg);
/** Frees the iterator: items submitted and not yielded are cancelled (those already running
 * finish, their results dropped), the rest never submitted. Never waits. NULL: no-op. */
CF_EXTERN void cf_map_iter_free(cf_map_iter *it);
/** Bytes tasks: fn gets a copy of the argument bytes and returns malloc'd result bytes (or
 * {NULL, 0} for an empty result; {NULL, n > 0} fails the task with ENOMEM), which the executor
 * frees. On a process pool the bytes travel to the worker and back through shared memory. */
typedef struct cf_bytes {
    void  *data;   /**< the bytes (malloc'd, when a task returns them) */
    size_t len;    /**< how many */
} cf_bytes;
typedef cf_bytes (*cf_bytes_fn)(const void *arg, size_t len); /**< data is malloc'd (or NULL); the pool frees it */
/** cf_submit for bytes: arg (len bytes, may be NULL when len is 0) is copied before the call
 * returns. Works on every executor. NULL + errno as cf_submit. */
CF_EXTERN cf_future *cf_submit_bytes(cf_executor *ex, cf_bytes_fn fn, const void *arg, size_t len);
/** Waits like cf_future_result (a coroutine suspends), then gives the result bytes: *data lives as
 * long as f (NULL for an empty result). cf_future_result's value for such a future is the same
 * data pointer. 0 | ETIMEDOUT | ECANCELED | EDEADLK | the task's error | EINVAL (f is not a bytes
 * task's future). */
CF_EXTERN int cf_future_bytes(cf_future *f, double timeout, const void **data, size_t *len);

/** Stops accepting work (later submits fail with ESHUTDOWN). cancel_futures: every pending future
 * is cancelled and running tasks see cf_task_cancelled(). wait: returns once every task still
 * queued has run and the workers have exited (a coroutine suspends meanwhile; neither a cancel nor
 * a deadline scope cuts it); called from one of the pool's own tasks it does not wait for the
 * calling task. Idempotent; safe from several threads. NULL: no-op. */
CF_EXTERN void cf_executor_shutdown(cf_executor *ex, bool wait, bool cancel_futures);
/** Stop now (Python 3.14's terminate_workers): pending futures are cancelled (CF_CANCELLED),
 * running tasks are killed with their workers and fail with ECANCELED (CF_FINISHED), no worker is
 * replaced; then it waits as shutdown(wait) does. On a thread pool: cancels pending and flags
 * running tasks (threads cannot be killed), and waits for them. */
CF_EXTERN void cf_executor_terminate(cf_executor *ex);
/** shutdown(wait = true) (a coroutine suspends), then frees the executor. NULL: no-op. From one of
 * its own tasks, the memory is released when that task's worker exits. Futures stay valid (they
 * are reference-counted). */
CF_EXTERN void cf_executor_free(cf_executor *ex);

/** An executor's counters: a consistent-enough snapshot, for progress and monitoring. */
typedef struct cf_pool_stats {
    size_t pending;     /**< waiting to start (cancelled ones not counted) */
    size_t running;     /**< started, not done */
    size_t completed;   /**< finished with a result */
    size_t failed;      /**< finished with an error */
    size_t cancelled;   /**< cancelled before they started */
    int    workers;     /**< live workers now */
} cf_pool_stats;
/** completed: finished with a result; failed: finished with an error; pending: waiting to start
 * (cancelled ones not counted). Never blocks. 0 | EINVAL (NULL ex or out). */
CF_EXTERN int  cf_executor_stats(cf_executor *ex, cf_pool_stats *out);

#ifdef __cplusplus
}
#endif
#endif
