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
 * - max_pending: a future that holds a backlog slot carries CF__XTAG_HOLD in f->xtag (the rest of
 *   xtag is the executor's); the slot goes back once, when the task starts or leaves PENDING. */
#ifndef CF__INTAKE_H
#define CF__INTAKE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <urcu/wfcqueue.h>

#include "../future/future.h"
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
} cf__intake;

/* 0 | errno (the doorbell could not be opened). */
int        cf__intake_init(cf__intake *in, size_t max_pending);
void       cf__intake_destroy(cf__intake *in);
/* A new PENDING future for fn(arg) of the given kind, owned by owner, with two references (the
 * caller's and the executor's) and queued; or NULL + errno (the closed reason, a max_pending
 * wait's ETIMEDOUT/EAGAIN/ECANCELED, ENOMEM). on_manager: the caller is the manager thread (a
 * done-callback), which must never wait for a slot it alone frees. */
cf_future *cf__intake_submit(cf__intake *in, cf__owner *owner, bool on_manager, cf_fn fn,
                             void *arg, int kind, const cf__deadline *d);
/* Closes (ESHUTDOWN unless closed already), waits out the submits past their check, wakes the
 * submitters waiting for a slot, and rings the manager. */
void       cf__intake_close(cf__intake *in);
/* Wakes the manager, asleep or about to be. */
void       cf__intake_ring(cf__intake *in);
/* With f->lock held: f gives back its max_pending slot, if it holds one. */
void       cf__intake_drop_hold(cf__intake *in, cf_future *f);
/* The next queued future (its reference passes to the caller), or NULL. Manager only. */
cf_future *cf__intake_next(cf__intake *in);
/* The queue is empty (no submit enqueued since the last cf__intake_next that found none). */
bool       cf__intake_empty(cf__intake *in);

#endif
