/* SPDX-License-Identifier: MIT */
/* future.h (internal): the layout of cf_future and the hooks executors and waiters use.
 *
 * One allocation per task: the future also carries the executor's queue node and the function to
 * run, so a submit allocates exactly one object (from a per-thread cache, see future_alloc.c). */
#ifndef CF__FUTURE_H
#define CF__FUTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <urcu/wfcqueue.h>

#include "cfutures/errors.h"
#include "cfutures/executor.h"
#include "cfutures/future.h"
#include "../common/deadline.h"
#include "../common/export.h"
#include "../common/lock.h"
#include "../wait/waitq.h"

#define CF__STATE_MASK 0xffu
#define CF__WAITERS    0x100u   /* in `word`: a thread sleeps (or is about to) in futex_wait on it */

/* Listeners: waiters (wait/waitq.h) hung on a future by whoever waits on it (cf_wait,
 * as_completed, a coroutine, a task group). Their wake function runs once, in the completing
 * thread with f->lock held: it must be short and may take only locks that are never held while
 * taking a future's lock (order: future lock -> waiter's lock). The completer takes each off the
 * list before its wake function runs. */

typedef struct cf__callback {
    struct cf__callback *next;
    cf_done_fn           fn;
    void                *arg;
} cf__callback;

/* Whoever queued a PENDING future (an executor) and must hear when it leaves PENDING by cancel or
 * set_result/set_error rather than by being started: called with f->lock held, before the new
 * state is published, so whoever sees the future done also sees it counted. */
typedef struct cf__owner cf__owner;
struct cf__owner {
    void (*left_pending)(cf__owner *o, cf_future *f, cf_state to, int err);
    /* Optional. An executor that hands tasks to a worker before they start (process pools)
     * arbitrates there: called with f->lock held when a PENDING f is about to be cancelled;
     * false means the worker already started it, and f becomes RUNNING instead. */
    bool (*may_cancel)(cf__owner *o, cf_future *f);
    /* Optional: cf_future_cancel was called on f while RUNNING; f->lock held, so keep it short.
     * true: the executor accepts, f will end CANCELLED (coroutines), and cancel returns true;
     * false: the task was only told (cf_task_cancelled), as Python's executors do. */
    bool (*cancel_running)(cf__owner *o, cf_future *f);
};

/* What the executor part of a future describes (f->kind). */
enum {
    CF__KIND_CALL = 0,    /* fn(arg) */
    CF__KIND_BYTES = 1,   /* arg is a cf__bytes_job owned by the future; value is malloc'd data
                             of bytes_len bytes once FINISHED without error */
    CF__KIND_CHUNK = 2,   /* a cf_map chunk: arg is a cf__chunk (map.h) */
    CF__KIND_FULL = 3,    /* cf_submit_full: arg is a cf__full_job owned by the future, fn the
                             trampoline that calls job->fn(job->arg) (executors that run tasks
                             elsewhere send job->fn and job->arg instead) */
};

/* 120 bytes on LP64: one 128-byte malloc chunk. */
struct cf_future {
    /* state | CF__WAITERS. Changed only under lock, except that sleepers set CF__WAITERS with a
     * CAS; state changes are RMWs so that bit is never lost. Completion is an exchange with
     * release order: a waiter that reads a done state with acquire sees value, err and msg. */
    _Atomic uint32_t word;
    _Atomic uint32_t refs;
    cf__lock         lock;       /* guards callbacks and listeners, and serializes state changes */
    int              err;        /* written once, before the done state is published */
    atomic_bool      cancel_requested;
    uint8_t          kind;       /* CF__KIND_*, set before the future is published */
    void            *value;
    char            *msg;
    cf_done_fn       cb0_fn;     /* the first callback needs no allocation (NULL: none yet) */
    void            *cb0_arg;
    cf__callback    *cbs;        /* the later ones, in the order they came */
    cf__waitq        listeners;

    /* The executor's part, unused by plain futures. */
    union {
        struct cds_wfcq_node qnode;   /* while queued in an executor's wfcq */
        size_t           bytes_len;   /* CF__KIND_BYTES, once done: set by the completer after
                                         the node was dequeued (nothing touches it after that) */
    };
    cf_fn            fn;
    void            *arg;
    cf__owner       *owner;
    uint64_t         xtag;       /* the executor's own word (process pools: where it was sent) */
};

/* The argument of a bytes task: the user's function and a copy of the argument bytes. */
typedef struct cf__bytes_job {
    cf_bytes_fn   fn;
    size_t        len;
    unsigned char data[];
} cf__bytes_job;

/* The argument of a cf_submit_full task. arg_free runs once, in whoever completes the future,
 * under f->lock just before the done state is published (the task is done with arg, and whoever
 * sees the future done sees arg released), or at destruction for a future that never completed. result_free runs at destruction when the future FINISHED with a result that
 * no cf_future_take claimed. */
typedef struct cf__full_job {
    cf_fn       fn;
    void       *arg;
    cf_free_fn  arg_free, result_free;
    bool        arg_released;   /* written by the one completer, read at destruction */
    atomic_bool taken;          /* cf_future_take claimed the result */
} cf__full_job;

/* Allocation (future_alloc.c): a zeroed-enough object with its lock initialized, refs = 1, PENDING. */
cf_future *cf__future_alloc(void);
void       cf__future_release(cf_future *f);   /* back to the cache; refs already 0 */

/* Completes f from PENDING or RUNNING, taking ownership of msg (freed on failure).
 * 0 | EINVAL when already done. */
int  cf__future_complete(cf_future *f, cf_state to, int err, void *value, char *msg);
/* The same, for a caller that holds a reference for the whole call (saves two atomics). */
int  cf__future_complete_ref(cf_future *f, cf_state to, int err, void *value, char *msg,
                             bool caller_holds_ref);
/* The executor's own completion: the caller holds a reference, the owner's hooks are not
 * called (the executor counts for itself), and a bytes result's length is set. */
CF__SHARED int cf__future_complete_owner(cf_future *f, cf_state to, int err, void *value, char *msg,
                               size_t bytes_len);
/* Waits, as the caller's parker does, until f is done or the deadline passes: 0 | ETIMEDOUT |
 * ECANCELED (a cancelled coroutine) | EDEADLK (f is the caller's own future: a coroutine
 * awaiting itself). */
int  cf__future_wait(cf_future *f, const cf__deadline *d);
/* cf_future_set_running for the future's owner (the public call refuses owned futures). */
bool cf__future_set_running(cf_future *f);
/* Hangs w on f; false (and nothing done) when f is already done. */
bool cf__future_listen(cf_future *f, cf__waiter *w);
/* Takes w off f if the completer did not; waits out a wake function still running, so w may go
 * once this returns. */
void cf__future_unlisten(cf_future *f, cf__waiter *w);

static inline cf_state cf__state_of(uint32_t word) { return (cf_state)(word & CF__STATE_MASK); }
static inline bool cf__is_done(cf_state s) { return s == CF_FINISHED || s == CF_CANCELLED; }

#endif
