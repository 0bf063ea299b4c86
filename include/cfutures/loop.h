/* SPDX-License-Identifier: MIT */
/** @file
 * Coroutines and an event loop, Python's asyncio in C.
 *
 * A coroutine is a function that runs on its own (small, lazily committed) stack and can suspend
 * at an await without blocking the thread: cf_await, cf_sleep, cf_yield, cf_await_fd, cf_gather,
 * and every other call of the library that waits (futures, queues, pipes, pools, the locks and
 * events of sync.h, the streams and subprocesses of io.h) suspends the coroutine and lets the
 * loop run others. What blocks the loop is what blocks its thread outside the library: another
 * library's blocking call (read on a blocking descriptor, sleep, pthread_join, a pthread mutex
 * held long) or a long computation. Send those to a thread pool and await the future, or
 * cf_await_fd the descriptor. A loop is single-threaded: its coroutines all run on the thread
 * that called cf_loop_run / cf_loop_run_until_complete, one at a time. They can await any
 * future, whoever completes it: another coroutine, a thread pool, a process pool, or
 * cf_future_set_result from any thread (the completing thread wakes the loop).
 *
 *     static void *hello(void *arg) { puts("hello"); cf_sleep(1); puts("world"); return arg; }
 *     cf_loop *loop = cf_loop_new();
 *     cf_future *f = cf_loop_spawn(loop, hello, NULL);
 *     cf_loop_run_until_complete(loop, f, NULL);
 *     cf_future_unref(f);
 *     cf_loop_free(loop);
 *
 * Cancellation is asyncio's. cf_future_cancel on a coroutine's future before it starts makes it
 * CF_CANCELLED and it never runs. Once it has started (CF_RUNNING, also while suspended) cancel
 * returns true; the await it is suspended in, or its next one, returns ECANCELED, once per
 * cancel; when the coroutine returns, its future ends CF_CANCELLED and the return value is
 * dropped (so a coroutine that owns its result should free it when cf_task_cancelled() says so).
 * cf_task_cancelled() tells a coroutine's own cancellation from an awaited future's. Cancelling a
 * coroutine does not cancel what it awaits; a timeout on an await gives ETIMEDOUT and cancels
 * nothing.
 *
 * Stacks: 256 KiB of address space each by default (cf_loop_set_stack_size), committed page by
 * page as used; an idle coroutine costs about 4.5 KiB (one page of stack). A stack gets a 64 KiB
 * PROT_NONE guard (overflow is a SIGSEGV, not corruption) while the process has fewer than vm.max_map_count / 4 guarded stacks
 * (16,382 at the default 65,530), since each guarded stack costs two kernel mappings; beyond
 * that, stacks come unguarded from shared arenas, and their lowest 64 bytes (a canary that must
 * stay zero) are checked at every switch: an overflow that reaches them aborts with a message.
 * Finished coroutines' stacks are reused. The floating-point environment (rounding mode) is the
 * thread's, shared by its coroutines: restore it before awaiting if you change it. */
#ifndef CFUTURES_LOOP_H
#define CFUTURES_LOOP_H

#include "common.h"
#include "future.h"
#include "executor.h"   /* cf_fn */

#ifdef __cplusplus
extern "C" {
#endif

/** An event loop running coroutines (opaque): see cf_loop_new. */
typedef struct cf_loop cf_loop;

/** A new loop (an epoll instance and an eventfd). NULL with errno (ENOMEM, EMFILE). */
CF_EXTERN cf_loop   *cf_loop_new(void);
/** Cancels the coroutines that are left, runs the loop until they have all returned, and frees
 * it. A coroutine that ignores ECANCELED and awaits something that never completes makes this
 * wait for it, as in asyncio. Not from inside a coroutine or while the loop runs (then it does
 * nothing). NULL is a no-op. */
CF_EXTERN void       cf_loop_free(cf_loop *loop);
/** asyncio.create_task: fn(arg) will run as a coroutine; its return value is the future's result
 * (cf_task_fail works as in pools). The future is PENDING until the coroutine starts, RUNNING
 * while it runs or is suspended. The caller owns one reference. May be called from any thread
 * (from another thread it wakes the loop). NULL with errno EINVAL | ENOMEM. */
CF_EXTERN cf_future *cf_loop_spawn(cf_loop *loop, cf_fn fn, void *arg);
/** Runs the loop until f is done (f may be any future); then returns as cf_future_result(f, 0,
 * value). EINTR after cf_loop_stop (f not done) | EBUSY when the loop is already running or the
 * caller is a coroutine | EINVAL. */
CF_EXTERN int        cf_loop_run_until_complete(cf_loop *loop, cf_future *f, void **value);
/** Runs the loop until no coroutine is left: 0 | EINTR after cf_loop_stop | EBUSY as above. */
CF_EXTERN int        cf_loop_run(cf_loop *loop);
/** The stack size of the loop's coroutines (default 256 KiB; rounded up to whole pages; address
 * space, committed only as used). 0 | EINVAL (NULL, below 16 KiB or above 1 GiB) | EBUSY (the
 * loop is running or has run a coroutine: call it right after cf_loop_new). */
CF_EXTERN int        cf_loop_set_stack_size(cf_loop *loop, size_t bytes);
/** Thread-safe: makes the running loop return EINTR after the coroutines that are ready now have
 * run. Said while the loop is not running, it makes the next run stop after one pass (asyncio). */
CF_EXTERN void       cf_loop_stop(cf_loop *loop);

/** Waits for f. In a coroutine it suspends; elsewhere it blocks like cf_future_result.
 * 0 (*value set) | ETIMEDOUT | ECANCELED (f was cancelled, or this coroutine was: ask
 * cf_task_cancelled()) | EDEADLK (f is the coroutine's own future) | the future's error | EINVAL.
 * A timeout cancels nothing. */
CF_EXTERN int  cf_await(cf_future *f, double timeout, void **value);
/** asyncio.sleep: 0 | ECANCELED | ETIMEDOUT (a deadline scope's deadline came first: sync.h) |
 * EINVAL for NaN. In a coroutine it suspends (seconds <= 0: like cf_yield); elsewhere it sleeps
 * the thread. */
CF_EXTERN int  cf_sleep(double seconds);
/** Lets the other ready coroutines run, then resumes this one: 0 | ECANCELED. Outside a coroutine
 * it is sched_yield(). */
CF_EXTERN int  cf_yield(void);
/** Waits until fd is ready for events (POLLIN, POLLOUT, POLLPRI): 0 when ready, or on hang-up or
 * error (the next read or write says which) | ETIMEDOUT | ECANCELED | EBADF | EINVAL. Regular files
 * are always ready. In a coroutine it suspends; elsewhere it is poll(). Several coroutines may wait
 * on one fd. Do not close fd while a coroutine waits on it. */
CF_EXTERN int  cf_await_fd(int fd, short events, double timeout);
/** asyncio.gather: waits for all n futures (or the timeout), sets values[i] (values may be NULL)
 * to each result, NULL for a failed, cancelled or unfinished one, and returns 0, the first error
 * in argument order (ECANCELED for a cancelled one), or ETIMEDOUT. Cancels nothing. In a
 * coroutine it suspends, and returns ECANCELED when the coroutine itself is cancelled. */
CF_EXTERN int  cf_gather(cf_future *const *fs, size_t n, double timeout, void **values);
/** loop.add_signal_handler: each delivery of signo to the process spawns fn(arg) as a coroutine
 * on loop (deliveries close together may be merged, as for any signal), whichever thread the
 * kernel delivers it to; a signal that comes while nobody runs the loop is handled at its next
 * run. One handler per signal for the process: this replaces an earlier one, on any loop. Any
 * thread may call it. cf_loop_free removes the loop's handlers. 0 | EINVAL (SIGKILL, SIGSTOP, a
 * bad signo, NULL loop or fn) | ENOMEM. */
CF_EXTERN int  cf_loop_add_signal_handler(cf_loop *loop, int signo, cf_fn fn, void *arg);
/** Removes loop's handler for signo and restores the disposition there was before it was added.
 * 0 | ENOENT (loop has none for signo) | EINVAL. */
CF_EXTERN int  cf_loop_remove_signal_handler(cf_loop *loop, int signo);
/** One pass of the loop, for a program whose main loop is another's (libuv's
 * uv_run(UV_RUN_ONCE)): runs what is ready; when nothing is, first waits up to timeout for I/O,
 * timers or wake-ups (0: never waits). A loop with nothing to do returns at once.
 * 0 | EBUSY (the loop is running, or the caller is a coroutine) | EINVAL. */
CF_EXTERN int  cf_loop_run_once(cf_loop *loop, double timeout);
/** An fd that polls readable while the loop has work to do (ready coroutines, due timers, I/O,
 * wake-ups from other threads): hand it to GLib, libuv or poll() and call
 * cf_loop_run_once(loop, 0) when it fires; it goes quiet once that work is done. Owned by the
 * loop. -1 + errno EINVAL | EMFILE | ENOMEM. */
CF_EXTERN int  cf_loop_fd(cf_loop *loop);
/** The loop running the calling coroutine, or NULL outside coroutines. */
CF_EXTERN cf_loop *cf_loop_current(void);
/** Monotonic seconds, as loop.time() (the clock of every timeout). loop may be NULL. */
CF_EXTERN double   cf_loop_time(cf_loop *loop);

#ifdef __cplusplus
}
#endif

#endif
