/* SPDX-License-Identifier: MIT */
/* intake.c: submissions to an executor with a manager thread (intake.h). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "../common/doorbell.h"
#include "../common/list.h"
#include "intake.h"

int cf__intake_init(cf__intake *in, size_t max_pending)
{
    cds_wfcq_init(&in->qhead, &in->qtail);
    atomic_init(&in->submitted, 0);
    atomic_init(&in->inflight, 0);
    atomic_init(&in->closed, 0);
    atomic_init(&in->mgr_sleeping, 0);
    atomic_init(&in->completed, 0);
    atomic_init(&in->failed, 0);
    atomic_init(&in->cancelled, 0);
    cf__backlog_init(&in->backlog, max_pending);
    in->doorbell = cf__bell_open();
    return in->doorbell < 0 ? errno : 0;
}

void cf__intake_destroy(cf__intake *in)
{
    cds_wfcq_destroy(&in->qhead, &in->qtail);
    if (in->doorbell >= 0)
        close(in->doorbell);
    in->doorbell = -1;
}

static int closed_of(void *in) { return atomic_load(&((cf__intake *)in)->closed); }

cf_future *cf__intake_submit(cf__intake *in, cf__owner *owner, bool on_manager, cf_fn fn,
                             void *arg, int kind, const cf__deadline *d)
{
    int err = atomic_load(&in->closed);
    if (err)
        goto fail;
    bool hold = false;
    if (in->backlog.max) {
        if (on_manager)
            cf__backlog_take(&in->backlog);
        else if ((err = cf__backlog_reserve(&in->backlog, d, closed_of, in)))
            goto fail;
        hold = true;
    }
    cf_future *f = cf__future_alloc();
    if (!f) {
        err = ENOMEM;
        goto unreserve;
    }
    f->fn = fn;
    f->arg = arg;
    f->owner = owner;
    f->xtag = hold ? CF__XTAG_HOLD : 0;

    atomic_fetch_add(&in->inflight, 1);
    if ((err = atomic_load(&in->closed))) {
        atomic_fetch_sub(&in->inflight, 1);
        cf_future_unref(f);
        goto unreserve;
    }
    f->kind = (uint8_t)kind;
    atomic_store_explicit(&f->refs, 2, memory_order_relaxed);          /* caller + executor */
    atomic_fetch_add_explicit(&in->submitted, 1, memory_order_relaxed);
    /* Release: the manager's acquire load of the word after its dequeue sees fn, arg, kind. */
    atomic_store_explicit(&f->word, CF_PENDING, memory_order_release);
    cds_wfcq_enqueue(&in->qhead, &in->qtail, &f->qnode);                /* a full barrier */
    cf__bell_ring(&in->mgr_sleeping, in->doorbell);
    atomic_fetch_sub(&in->inflight, 1);
    return f;

unreserve:
    if (hold)
        cf__backlog_release(&in->backlog);
fail:
    errno = err;
    return NULL;
}

void cf__intake_close(cf__intake *in)
{
    int open = 0;
    atomic_compare_exchange_strong(&in->closed, &open, ESHUTDOWN);
    /* Submits past their closed check are a few instructions from their enqueue. */
    while (atomic_load(&in->inflight) != 0)
        sched_yield();
    cf__backlog_wake(&in->backlog);
    cf__intake_ring(in);
}

void cf__intake_ring(cf__intake *in) { cf__bell_signal(in->doorbell); }

void cf__intake_drop_hold(cf__intake *in, cf_future *f)
{
    if (f->xtag & CF__XTAG_HOLD) {
        f->xtag &= ~CF__XTAG_HOLD;
        cf__backlog_release(&in->backlog);
    }
}

void cf__intake_release_hold(cf__intake *in, cf_future *f)
{
    if (!in->backlog.max)
        return;
    cf__lock_acquire(&f->lock);
    cf__intake_drop_hold(in, f);
    cf__lock_release(&f->lock);
}

bool cf__intake_mark_running(cf__intake *in, cf_future *f)
{
    cf__lock_acquire(&f->lock);
    uint32_t word = atomic_load_explicit(&f->word, memory_order_relaxed);
    bool pending = cf__state_of(word) == CF_PENDING;
    if (pending)   /* keeping CF__WAITERS: an RMW, not a store */
        atomic_fetch_xor_explicit(&f->word, CF_PENDING ^ CF_RUNNING, memory_order_release);
    cf__intake_drop_hold(in, f);
    cf__lock_release(&f->lock);
    return pending;
}

static void count(cf__intake *in, cf_state to, int err)
{
    atomic_fetch_add_explicit(to == CF_CANCELLED ? &in->cancelled : err ? &in->failed : &in->completed,
                              1, memory_order_relaxed);
}

void cf__intake_left_pending(cf__intake *in, cf_future *f, cf_state to, int err)
{
    count(in, to, err);
    cf__intake_drop_hold(in, f);
}

void cf__intake_finish(cf__intake *in, cf_future *f, cf_state to, int err, void *value,
                       char *msg, size_t blen)
{
    cf__intake_release_hold(in, f);
    count(in, to, err);
    if (cf__future_complete_owner(f, to, err, value, msg, blen) != 0 && f->kind == CF__KIND_BYTES &&
        !err)
        free(value);     /* it was completed meanwhile (defensive: only the executor completes it) */
    cf_future_unref(f);
}

bool cf__intake_sealed(cf__intake *in)
{
    return atomic_load(&in->closed) && atomic_load(&in->inflight) == 0;
}

cf_future *cf__intake_next(cf__intake *in)
{
    struct cds_wfcq_node *n = cds_wfcq_dequeue_blocking(&in->qhead, &in->qtail);
    if (!n)
        return NULL;
    cf_future *f = cf__container_of(n, cf_future, qnode);
    atomic_load_explicit(&f->word, memory_order_acquire);   /* pairs with the submit's release */
    return f;
}

bool cf__intake_empty(cf__intake *in) { return cds_wfcq_empty(&in->qhead, &in->qtail); }

void cf__intake_break(cf__intake *in)
{
    atomic_store(&in->closed, CF_EBROKEN);
    cf__backlog_wake(&in->backlog);
}

void cf__life_init(cf__life *l)
{
    atomic_init(&l->refs, 2);
    cf__latch_init(&l->finished);
}

bool cf__life_unref(cf__life *l)
{
    return atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1;
}

bool cf__life_finish(cf__life *l)
{
    if (cf__life_unref(l))
        return true;
    cf__latch_set(&l->finished, 1);
    return false;
}

void cf__life_wait(cf__life *l) { cf__latch_wait(&l->finished); }
