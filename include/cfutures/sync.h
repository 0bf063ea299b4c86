/* SPDX-License-Identifier: MIT */
/** @file
 * Locks, events, semaphores, conditions and barriers that threads and
 * coroutines share (asyncio's and threading's in one), deadline scopes, and task groups.
 *
 * Every wait below suspends the calling coroutine (its loop runs the others meanwhile) and
 * blocks a plain thread; threads and coroutines of any number of loops may mix on one object,
 * and every call is thread-safe. Timeouts as everywhere: seconds, negative = forever, 0 = poll,
 * NaN = EINVAL. ECANCELED comes only to a coroutine that was cancelled (cf_future_cancel on its
 * future) while it waited or before it waited: the wait gives up, the object stays consistent.
 * Waiters are served first come, first served: a release hands the lock or the unit to the
 * longest waiter, and nobody barges in ahead of it.
 *
 * The holder of a lock is the coroutine that acquired it, or, outside coroutines, the thread: a
 * sibling coroutine on the same thread is somebody else. */
#ifndef CFUTURES_SYNC_H
#define CFUTURES_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

/* From executor.h and loop.h, repeated (C11 allows it) so that this header needs neither. */
/** @cond */
typedef struct cf_executor cf_executor;
typedef struct cf_loop cf_loop;
typedef void *(*cf_fn)(void *arg);
/** @endcond */

/** ---- cf_lock: asyncio.Lock / threading.Lock ---- */

typedef struct cf_lock cf_lock;

/** A new, unlocked lock. NULL + errno ENOMEM. */
CF_EXTERN cf_lock *cf_lock_new(void);
/** Takes the lock, waiting up to timeout while someone else holds it (a coroutine suspends).
 * 0 | EAGAIN (timeout 0 and it is held) | ETIMEDOUT | ECANCELED | EDEADLK (the caller holds it
 * already; also a coroutine that would wait forever for a lock its own thread holds outside any
 * coroutine) | EINVAL (NULL, NaN). Not recursive. */
CF_EXTERN int      cf_lock_acquire(cf_lock *l, double timeout);
/** Releases the lock, handing it to the longest waiter if there is one (that waiter now holds it:
 * the releaser's next acquire(0) is EAGAIN). 0 | EPERM (the caller is not the holder) | EINVAL.
 * Never waits. */
CF_EXTERN int      cf_lock_release(cf_lock *l);
/** Frees the lock; nobody may hold it or wait on it. NULL: no-op. */
CF_EXTERN void     cf_lock_free(cf_lock *l);

/** ---- cf_event: asyncio.Event / threading.Event ---- */

typedef struct cf_event cf_event;

/** A new event, not set. NULL + errno ENOMEM. */
CF_EXTERN cf_event *cf_event_new(void);
/** Sets the event and wakes every waiter (each returns 0 even if the event is cleared before it
 * runs). Never waits. */
CF_EXTERN void      cf_event_set(cf_event *e);
/** Clears the event: later waits wait again. */
CF_EXTERN void      cf_event_clear(cf_event *e);
/** Whether the event is set now. */
CF_EXTERN bool      cf_event_is_set(cf_event *e);
/** Waits until the event is set (at once if it is). 0 | EAGAIN (timeout 0, not set) | ETIMEDOUT |
 * ECANCELED | EINVAL. */
CF_EXTERN int       cf_event_wait(cf_event *e, double timeout);
/** Frees the event; nobody may wait on it. NULL: no-op. */
CF_EXTERN void      cf_event_free(cf_event *e);

/** ---- cf_semaphore: asyncio.Semaphore (max 0) and asyncio.BoundedSemaphore (max > 0) ---- */

typedef struct cf_semaphore cf_semaphore;

/** A semaphore holding value units; max > 0 bounds it (a release above max is refused).
 * NULL + errno ENOMEM | EINVAL (max > 0 and value > max). */
CF_EXTERN cf_semaphore *cf_semaphore_new(unsigned value, unsigned max);
/** Takes one unit, waiting while there is none; waiters are served FIFO, and a unit released
 * while some wait goes to the longest waiter. 0 | EAGAIN (timeout 0, none free) | ETIMEDOUT |
 * ECANCELED | EINVAL. */
CF_EXTERN int           cf_semaphore_acquire(cf_semaphore *s, double timeout);
/** Gives one unit back (to the longest waiter, if any). 0 | EOVERFLOW (bounded, and the value is
 * at max already; nothing changes; also at UINT_MAX) | EINVAL. Never waits. */
CF_EXTERN int           cf_semaphore_release(cf_semaphore *s);
/** The units free now (0 while anyone waits). */
CF_EXTERN unsigned      cf_semaphore_value(cf_semaphore *s);
/** Frees the semaphore; nobody may wait on it. NULL: no-op. */
CF_EXTERN void          cf_semaphore_free(cf_semaphore *s);

/** ---- cf_condition: asyncio.Condition / threading.Condition over a cf_lock ---- */

typedef struct cf_condition cf_condition;

/** A condition over lock (NULL: a lock of its own, freed with it). NULL + errno ENOMEM. */
CF_EXTERN cf_condition *cf_condition_new(cf_lock *lock);
/** The condition's lock: hold it around cf_condition_wait and the notifies. */
CF_EXTERN cf_lock      *cf_condition_lock(cf_condition *c);
/** With the lock held: releases it, waits for a notify, and takes the lock again before it
 * returns, whatever it returns (after a timeout, a cancel or a deadline scope too: re-taking the
 * lock waits as long as it must and is not cut by either). 0 (notified; wake-ups are not
 * spurious, but re-check your predicate: another holder may have run first) | ETIMEDOUT |
 * ECANCELED | EPERM (the caller does not hold the lock; nothing waited) | EINVAL. */
CF_EXTERN int           cf_condition_wait(cf_condition *c, double timeout);
/** With the lock held: wakes up to n waiters, longest first. 0 | EPERM (lock not held) | EINVAL. */
CF_EXTERN int           cf_condition_notify(cf_condition *c, size_t n);
/** With the lock held: wakes every waiter. 0 | EPERM | EINVAL. */
CF_EXTERN int           cf_condition_notify_all(cf_condition *c);
/** Frees the condition and its own lock, never one it was given. Nobody may wait on it. */
CF_EXTERN void          cf_condition_free(cf_condition *c);

/** ---- cf_barrier: asyncio.Barrier / threading.Barrier ---- */

typedef struct cf_barrier cf_barrier;

/** A barrier for parties waiters. NULL + errno EINVAL (0) | ENOMEM. */
CF_EXTERN cf_barrier *cf_barrier_new(size_t parties);
/** Waits until parties callers are waiting, then all return 0 together, each with a distinct
 * *index in [0, parties) (arrival order; index may be NULL), and the barrier is ready for the
 * next cycle. EPIPE (broken: a waiter timed out or was cancelled, or cf_barrier_abort or
 * cf_barrier_reset came; it stays broken until reset) | ETIMEDOUT or ECANCELED (this waiter; the
 * barrier is then broken for the others) | EINVAL. */
CF_EXTERN int         cf_barrier_wait(cf_barrier *b, double timeout, size_t *index);
/** Breaks the barrier: every waiter and every later wait gets EPIPE until a reset. */
CF_EXTERN void        cf_barrier_abort(cf_barrier *b);
/** Back to empty and unbroken; the callers waiting now get EPIPE. 0 | EINVAL. */
CF_EXTERN int         cf_barrier_reset(cf_barrier *b);
/** Frees the barrier; nobody may wait on it. NULL: no-op. */
CF_EXTERN void        cf_barrier_free(cf_barrier *b);

/** ---- Deadline scopes: asyncio.timeout() / Trio's move_on_after ---- */

/** Opens a scope for the calling coroutine (or thread, outside coroutines): from now on every wait
 * it makes in cfutures ends with ETIMEDOUT once `seconds` have passed, whatever timeout it was
 * given; a wait with timeout 0 still polls (EAGAIN where it says so). Scopes nest, the earliest
 * deadline rules; negative seconds: a scope with no deadline. Work that never waits is not
 * interrupted, and a coroutine spawned inside is not under it (asyncio). Returns a token >= 1 for
 * cf_scope_exit | -1 + errno EINVAL (NaN) | ENOMEM. */
CF_EXTERN int  cf_scope_enter(double seconds);
/** Leaves the scope of token, and the inner ones left open. true when its own deadline passed
 * while it was open (false when only an outer one did). A token that is not open in the caller:
 * false, and nothing changes. */
CF_EXTERN bool cf_scope_exit(int token);

/** ---- Task groups: asyncio.TaskGroup, Trio's nursery, libdill's bundle ---- */

typedef struct cf_task_group cf_task_group;

/** A new, empty group. NULL + errno ENOMEM. */
CF_EXTERN cf_task_group *cf_task_group_new(void);
/** Spawns fn(arg) as a coroutine member on loop (NULL: the calling coroutine's loop). The caller
 * owns one reference of the future. NULL + errno EINVAL (NULL group or fn; loop NULL outside a
 * coroutine) | ENOMEM | ESHUTDOWN (a member has failed: the group takes no more). */
CF_EXTERN cf_future     *cf_task_group_spawn(cf_task_group *g, cf_loop *loop, cf_fn fn, void *arg);
/** Submits fn(arg) to ex (a thread or process pool) as a member. The caller owns one reference.
 * NULL + errno as cf_submit | ESHUTDOWN (a member has failed). Under max_pending it waits for a
 * slot as cf_submit does. */
CF_EXTERN cf_future     *cf_task_group_submit(cf_task_group *g, cf_executor *ex, cf_fn fn, void *arg);
/** Makes any future a member (the group takes a reference). 0 | EINVAL | ENOMEM | ESHUTDOWN (a
 * member has failed, or the group is being freed). */
CF_EXTERN int            cf_task_group_add(cf_task_group *g, cf_future *f);
/** Waits until every member is done. The first member to fail (finished with an error, ECANCELED
 * included; a member in state CF_CANCELLED is no failure) cancels all the others: pending ones
 * never run, running coroutines get ECANCELED at their next wait, running pool tasks see
 * cf_task_cancelled(). 0 | that first error (once every member is done) | ETIMEDOUT (members
 * still pending; cancels nothing) | ECANCELED (the waiting coroutine was cancelled: the members
 * are cancelled too, and it returns once they are done) | EINVAL. */
CF_EXTERN int            cf_task_group_wait(cf_task_group *g, double timeout);
/** Cancels the members not done, waits for them (a coroutine suspends, a thread blocks; neither a
 * cancel nor a scope cuts it), and frees the group. NULL: no-op. */
CF_EXTERN void           cf_task_group_free(cf_task_group *g);

#ifdef __cplusplus
}
#endif

#endif
