/* SPDX-License-Identifier: MIT */
/* intake.h (internal): how tasks reach an executor run by a manager thread of its own (process
 * pools, MPI pools): a wait-free enqueue on a wfcq that the manager splices, max_pending, the
 * closed state, and the doorbell that wakes the manager.
 *
 * - A submit is one future, one enqueue and at most one syscall (the doorbell, only when the
 *   manager announced it sleeps: common/doorbell.h).
 * - Closing: `inflight` announces a submit before its closed check; the closer sets `closed` and
 *   waits until no submit is in flight, so the manager, once it sees both (closed, inflight 0),
 *   knows the queue only drains from then on and nothing submitted is lost.
 * - Lifetime (cf__life): two references, the user's handle and the manager thread's, which runs
 *   detached. The manager's reference goes first, then it sets `finished`, its last word on the
 *   executor: the user's release, which waits for `finished`, is then the one that frees, so
 *   cf_executor_free returns with everything gone. (Only a free from the manager's own thread
 *   leaves the last reference to the manager.) Waiting is a latch's: a thread sleeps, a
 *   coroutine suspends.
 * - max_pending: a future that holds a backlog slot carries CF__XTAG_HOLD in f->xtag (the rest of
 *   xtag is the executor's); the slot goes back once, when the task starts or leaves PENDING. */
#ifndef CF__INTAKE_H
#define CF__INTAKE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <urcu/wfcqueue.h>

#include "../common/export.h"
#include "../future/future.h"
#include "../wait/latch.h"
#include "backlog.h"

#define CF__XTAG_HOLD ((uint64_t)1 << 63)   /* the future holds a max_pending slot */

typedef struct cf__intake {
    alignas(64) struct cds_wfcq_head qhead;
    alignas(64) struct cds_wfcq_tail qtail;
    alignas(64) _Atomic size_t submitted;
    _Atomic int      inflight;
    _Atomic int      closed;         /* 0, ESHUTDOWN or CF_EBROKEN */
    cf__backlog      backlog;
    alignas(64) _Atomic uint32_t mgr_sleeping;
    int              doorbell;       /* -1 until opened */
    /* How the executor's futures ended (cf_executor_stats), counted before each is published. */
    alignas(64) _Atomic size_t completed, failed, cancelled;
} cf__intake;

/* CF__SHARED: what libcfutures exports of its internals for libcfutures_mpi (common/export.h). */

/* 0 | errno (the doorbell could not be opened). */
CF__SHARED int        cf__intake_init(cf__intake *in, size_t max_pending);
CF__SHARED void       cf__intake_destroy(cf__intake *in);
/* A new PENDING future for fn(arg) of the given kind, owned by owner, with two references (the
 * caller's and the executor's) and queued; or NULL + errno (the closed reason, a max_pending
 * wait's ETIMEDOUT/EAGAIN/ECANCELED, ENOMEM). on_manager: the caller is the manager thread (a
 * done-callback), which must never wait for a slot it alone frees. */
CF__SHARED cf_future *cf__intake_submit(cf__intake *in, cf__owner *owner, bool on_manager, cf_fn fn,
                             void *arg, int kind, const cf__deadline *d);
/* Closes (ESHUTDOWN unless closed already), waits out the submits past their check, wakes the
 * submitters waiting for a slot, and rings the manager. */
CF__SHARED void       cf__intake_close(cf__intake *in);
/* Closes with CF_EBROKEN (the executor's broken_msg set before, published by this store) and
 * wakes the submitters waiting for a slot. */
CF__SHARED void       cf__intake_break(cf__intake *in);
/* Wakes the manager, asleep or about to be. */
CF__SHARED void       cf__intake_ring(cf__intake *in);
/* With f->lock held: f gives back its max_pending slot, if it holds one. */
CF__SHARED void       cf__intake_drop_hold(cf__intake *in, cf_future *f);
/* The same from the manager, which does not hold f->lock (taken here, only with a max_pending). */
CF__SHARED void       cf__intake_release_hold(cf__intake *in, cf_future *f);
/* f's task started: f turns RUNNING if it is still PENDING, and gives back its max_pending slot,
 * under one hold of f->lock. True if it was PENDING (false: it was cancelled meanwhile). */
CF__SHARED bool       cf__intake_mark_running(cf__intake *in, cf_future *f);
/* The executor's owner hook (cf__owner.left_pending): f left PENDING by a cancel or a result set
 * from outside; counted, and its max_pending slot given back (f->lock held). */
CF__SHARED void       cf__intake_left_pending(cf__intake *in, cf_future *f, cf_state to, int err);
/* Completes f as the executor (to: CF_FINISHED, or CF_CANCELLED for a task that never ran), its
 * max_pending slot back and counted first, so whoever sees it done sees it counted; then drops
 * the executor's reference. msg (malloc'd or NULL) goes to the future. */
CF__SHARED void       cf__intake_finish(cf__intake *in, cf_future *f, cf_state to, int err,
                                        void *value, char *msg, size_t blen);
/* Closed, and no submit past its closed check: from now on the queue only drains. */
CF__SHARED bool       cf__intake_sealed(cf__intake *in);
/* The next queued future (its reference passes to the caller), or NULL. Manager only. */
CF__SHARED cf_future *cf__intake_next(cf__intake *in);
/* The queue is empty (no submit enqueued since the last cf__intake_next that found none). */
CF__SHARED bool       cf__intake_empty(cf__intake *in);

typedef struct cf__life {
    _Atomic int refs;
    cf__latch   finished;
} cf__life;

CF__SHARED void       cf__life_init(cf__life *l);
/* Drops a reference: true when it was the last (the caller destroys the executor). */
CF__SHARED bool       cf__life_unref(cf__life *l);
/* The manager's exit: drops its reference; true when it was the last (the caller destroys),
 * else `finished` is set. */
CF__SHARED bool       cf__life_finish(cf__life *l);
/* Waits until the manager finished. */
CF__SHARED void       cf__life_wait(cf__life *l);

#endif
