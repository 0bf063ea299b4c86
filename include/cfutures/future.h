/* SPDX-License-Identifier: MIT */
/** @file
 * Futures (the result of work that may not have run yet), the task API, and
 * the ways to wait on many futures: cf_wait and the as_completed iterator.
 *
 * A future is a reference-counted, thread-safe state machine
 *     CF_PENDING -> CF_RUNNING -> CF_FINISHED      (with a result, or failed with an error)
 *          \______________________> CF_CANCELLED
 * It does not know who completes it: an executor, another thread, or the caller itself.
 * Every function here may be called from any thread, on the same future concurrently. */
#ifndef CFUTURES_FUTURE_H
#define CFUTURES_FUTURE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A future (opaque, reference-counted): the result of work that may not have run yet. */
typedef struct cf_future cf_future;
/** Where a future is in its life. */
typedef enum cf_state {
    CF_PENDING,     /**< not started (or not yet completed, for cf_future_new's) */
    CF_RUNNING,     /**< its task is running */
    CF_CANCELLED,   /**< cancelled before it ran (done) */
    CF_FINISHED     /**< done: with a result, or failed with an error */
} cf_state;
/** A done-callback: called once with the future (done) and the argument it was added with. */
typedef void (*cf_done_fn)(cf_future *f, void *arg);

/** A new PENDING future, for code that completes futures itself; refcount 1.
 * NULL with errno ENOMEM. */
CF_EXTERN cf_future *cf_future_new(void);
/** Takes one more reference; returns f (NULL stays NULL). */
CF_EXTERN cf_future *cf_future_ref(cf_future *f);
/** Drops one reference; the last one frees the future (a pending future's callbacks never run).
 * NULL is a no-op. */
CF_EXTERN void       cf_future_unref(cf_future *f);
/** The state now; never blocks. A NULL future reads as CF_PENDING. */
CF_EXTERN cf_state   cf_future_state(const cf_future *f);
/** FINISHED or CANCELLED now; never blocks. */
CF_EXTERN bool       cf_future_done(const cf_future *f);
/** Python's Future.cancel(): a PENDING future becomes CANCELLED (its callbacks run in the caller)
 * and true is returned; an already CANCELLED one returns true. A RUNNING or FINISHED one returns
 * false; for a RUNNING one the request is recorded and the task sees cf_task_cancelled(). */
CF_EXTERN bool       cf_future_cancel(cf_future *f);
/** Moves a PENDING future to RUNNING (Python's set_running_or_notify_cancel): true if it is now
 * RUNNING, false if it was cancelled or is done, or an executor or a loop owns it (their tasks
 * start when their owner says). For code that runs work for its own futures (cf_future_new). */
CF_EXTERN bool       cf_future_set_running(cf_future *f);
/** Completes the future (from PENDING or RUNNING). Waiters wake, then the done-callbacks run in
 * the calling thread, in registration order. 0 | EINVAL when already done or f is NULL |
 * EPERM when an executor or a loop owns f (cf_submit's, cf_loop_spawn's futures: their task
 * completes them; asyncio refuses set_result on a Task too). cf_future_new's are anyone's. */
CF_EXTERN int  cf_future_set_result(cf_future *f, void *value);
/** Fails the future with err (!= 0, else EINVAL) and a copy of msg (NULL: none). As set_result,
 * EPERM included.
 * If copying msg runs out of memory the future still fails, with cf_strerror(err) as message. */
CF_EXTERN int  cf_future_set_error(cf_future *f, int err, const char *msg);
/** Waits up to timeout seconds for the future to be done: a thread sleeps (never spins), a
 * coroutine suspends and its loop runs the others. 0 and *value = the result | ETIMEDOUT
 * (cf_future_done() is then false) | ECANCELED (the future is CF_CANCELLED, or the calling
 * coroutine was cancelled: cf_task_cancelled() tells which) | EDEADLK (a coroutine waiting for its
 * own future) | the task's error | EINVAL (NULL f, NaN timeout). */
CF_EXTERN int  cf_future_result(cf_future *f, double timeout, void **value);
/** cf_future_result that also takes ownership of the result (GLib's g_task_propagate_pointer):
 * for a cf_submit_full future, its result destructor will not run and the caller frees the value.
 * Only one take succeeds: later ones return EALREADY (and leave *value alone). On a future
 * without a result destructor it is cf_future_result. Errors as cf_future_result, and EINVAL
 * for a bytes task's future (cf_future_bytes: its data stays the future's). */
CF_EXTERN int  cf_future_take(cf_future *f, double timeout, void **value);
/** Waits as cf_future_result does (a coroutine suspends), but returns the task's error (0 when it
 * produced a result) | ETIMEDOUT | ECANCELED | EDEADLK | EINVAL as there. When the future failed,
 * *msg is its message (cf_strerror(err) when none was given); it lives as long as f. On 0, *msg
 * is set to NULL. */
CF_EXTERN int  cf_future_error(cf_future *f, double timeout, const char **msg);
/** Registers fn(f, arg) to run once when f is done: in the thread that completes f, or at once in
 * the caller when f is already done. Callbacks run in registration order, with no lock held, so
 * they may drop references, add callbacks or submit work. 0 | EINVAL | ENOMEM. */
CF_EXTERN int  cf_future_add_done_callback(cf_future *f, cf_done_fn fn, void *arg);

/** Only inside a running task (a function run by an executor, or a pool's initializer): */
/** Fails the running task's future with err and the printf-style message (fmt may be NULL); the
 * task's return value is then ignored. err 0 is taken as EINVAL. A later call replaces an earlier
 * one. Called outside a task it does nothing. */
CF_EXTERN void cf_task_fail(int err, const char *fmt, ...) CF_PRINTF(2, 3);
/** True once cancellation was requested for the running task (cf_future_cancel on its future, or
 * cf_executor_shutdown with cancel_futures). False outside a task. Never blocks. */
CF_EXTERN bool cf_task_cancelled(void);

/** Waiting for many futures. */
typedef enum cf_return_when { CF_FIRST_COMPLETED, CF_FIRST_EXCEPTION, CF_ALL_COMPLETED } cf_return_when;
/** Blocks until the condition holds for fs[0..n) (Python's concurrent.futures.wait): any done,
 * any failed with an error (else all done), or all done. Cancelled futures count as done, not as
 * failed. Duplicates are allowed. Woken by completions, never polls; a coroutine suspends.
 * 0 | ETIMEDOUT | ECANCELED (the calling coroutine was cancelled) | EDEADLK (ALL_COMPLETED, and
 * fs holds the calling coroutine's own future) | EINVAL (NULL fs with n > 0, a NULL entry, bad
 * `when`) | ENOMEM. */
CF_EXTERN int cf_wait(cf_future *const *fs, size_t n, double timeout, cf_return_when when);

/** An iterator over futures in the order they become done (opaque): see cf_as_completed_new. */
typedef struct cf_as_completed cf_as_completed;
/** An iterator yielding each distinct future of fs[0..n) once, as it becomes done (those already
 * done first). Holds its own references. NULL + errno EINVAL | ENOMEM. */
CF_EXTERN cf_as_completed *cf_as_completed_new(cf_future *const *fs, size_t n);
/** The next done future, waiting up to timeout (a coroutine suspends). May be called from several
 * threads and coroutines. 0 (*out borrowed: valid until cf_as_completed_free) | ETIMEDOUT |
 * ECANCELED (the calling coroutine was cancelled) | ENOENT once every future was yielded | EINVAL. */
CF_EXTERN int  cf_as_completed_next(cf_as_completed *it, double timeout, cf_future **out);
/** Frees the iterator and its references; safe while futures are still pending. NULL: no-op.
 * No thread may be inside cf_as_completed_next on it. */
CF_EXTERN void cf_as_completed_free(cf_as_completed *it);

#ifdef __cplusplus
}
#endif
#endif
