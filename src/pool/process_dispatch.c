/* SPDX-License-Identifier: MIT */
/* process_dispatch.c: moving futures from the submit queue to the workers (process_manager.h).
 *
 * Design notes.
 * - Intake splices the submit wfcq into a FIFO of unsent futures (a cf__qstore); a dead worker's
 *   unstarted tasks and stolen ones go back to its front, so submission order holds.
 * - Dispatch hands each task to the worker with the fewest out, up to CF__PP_WINDOW ahead, and
 *   sends each worker's share of a pass as one message: a burst of trivial tasks costs a few
 *   messages, not one each, and a short task does not queue behind a long one needlessly.
 *   A sent task stays PENDING (cancellable, see process_pool.h) until its worker claims it.
 * - When a worker idles while another has been running one task for more than CF__PP_STEAL_NS with
 *   tasks queued behind it, the idle one takes half of them back (revoke, then re-send). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../ipc/bytering.h"
#include "process_manager.h"
#include "remote.h"

bool cf__pm_pend_push(cf__process_pool *p, cf_future *f, bool front)
{
    return (front ? cf__qstore_push_front(&p->pend, f) : cf__qstore_push(&p->pend, f)) == 0;
}

cf_future *cf__pm_pend_peek(cf__process_pool *p) { return cf__qstore_peek(&p->pend); }
void cf__pm_pend_pop(cf__process_pool *p) { cf__qstore_pop(&p->pend); }

/* Takes f, sent to a worker and not started, back for another (its lock taken here); false if
 * it is done or its worker started it. */
bool cf__pm_take_back(cf__process_pool *p, cf_future *f)
{
    cf__lock_acquire(&f->lock);
    bool ok = !cf__is_done(cf__state_of(atomic_load_explicit(&f->word, memory_order_relaxed))) &&
              (f->xtag & CF__XTAG_SENT) && cf__pp_revoke(p, f);
    cf__lock_release(&f->lock);
    return ok;
}

bool cf__pm_intake(cf__mgr *m)
{
    cf__process_pool *p = m->p;
    if (!m->sealed && cf__intake_sealed(&p->in))
        m->sealed = true;                /* from here on the queue only drains */
    cf_future *f = cf__intake_next(&p->in);
    if (!f)
        return false;
    bool broken = atomic_load(&p->in.closed) == CF_EBROKEN;
    for (; f; f = cf__intake_next(&p->in)) {
        if (broken)
            cf__pm_fail_unsent(p, f, CF_EBROKEN);
        else if (!cf__pm_pend_push(p, f, false))
            cf__pm_finish(p, f, ENOMEM, NULL, cf__remote_text("process pool: no memory to queue the task"), 0);
    }
    return true;
}

static void encode(cf__pworker *w, cf_future *f, uint64_t seq)
{
    /* After fork, a function is at the same address in every worker. */
    cf__remote_encode(w->out.b + w->out.len, f, seq, (uint64_t)(uintptr_t)cf__remote_fn(f));
    w->out.len += cf__remote_task_size(f);
}

/* Sends f to worker idx as task `seq`, unless it was cancelled meanwhile. */
static bool assign(cf__process_pool *p, int idx, cf_future *f)
{
    cf__pworker *w = &p->w[idx];
    uint64_t seq = w->next_seq;
    cf__lock_acquire(&f->lock);
    bool ok = cf__state_of(atomic_load_explicit(&f->word, memory_order_relaxed)) == CF_PENDING;
    if (ok) {
        atomic_store(&p->slots[idx].ent[seq % CF__PP_K], cf__ent(seq, ENT_QUEUED));
        f->xtag = (f->xtag & CF__XTAG_HOLD) | cf__xtag(idx, seq);
    }
    cf__lock_release(&f->lock);
    if (!ok)
        return false;
    if (w->nout == 0)
        w->progress_ns = (int64_t)cf__mono_ns();  /* it has had nothing to do until now */
    encode(w, f, seq);
    w->inf[seq % CF__PP_K] = f;
    w->nout++;
    w->next_seq++;
    w->items_sent += cf__remote_items(f);
    return true;
}

/* Puts as much of w's batch into its ring as fits now, never waiting: a worker that does not
 * read (stopped, say) holds up its own batch, never the manager. */
static void flush(cf__pworker *w)
{
    if (!w->out.len || !w->pipe || w->pipe_eof)
        return;
    size_t before = w->out_off;
    int r = cf__pipe_send_part(w->pipe, w->out.b, w->out.len, &w->out_off);
    if (w->out_off != before)
        w->progress_ns = (int64_t)cf__mono_ns();  /* it reads: not a worker to steal from */
    if (r == EPROTO)
        cf__pm_kill_corrupt(w);
    if (r != EAGAIN)
        w->out.len = w->out_off = 0;    /* sent; or dying, and its death takes the tasks back */
}

/* An idle worker takes back half of the queue of a worker that is not getting through it: one
 * stuck on a long task for CF__PP_STEAL_NS, or one that has started nothing it was sent for as
 * long (stopped, say), all of whose queue then moves. */
static void steal(cf__mgr *m, int64_t now)
{
    cf__process_pool *p = m->p;
    int idle = -1;
    for (int i = 0; i < p->max_workers && idle < 0; i++)
        if (cf__pm_idle(p, &p->w[i]))
            idle = i;
    if (idle < 0)
        return;
    for (int v = 0; v < p->max_workers; v++) {
        cf__pworker *w = &p->w[v];
        cf__pslot *s = &p->slots[v];
        if (w->state != W_LIVE || w->nout == 0 || v == idle)
            continue;
        bool running = atomic_load(&s->started) != 0;
        int64_t since = running ? atomic_load(&s->start_ns) : w->progress_ns;
        if ((running && w->nout < 2) || now - since < CF__PP_STEAL_NS)
            continue;
        size_t take = running ? w->nout / 2 : w->nout;
        cf_future *got[CF__PP_WINDOW];
        size_t n = 0;
        for (uint64_t seq = w->next_seq; seq-- > w->low_seq && n < take && n < CF__PP_WINDOW;) {
            cf_future *f = w->inf[seq % CF__PP_K];
            if (!f)
                continue;
            if (!cf__pm_take_back(p, f))
                break;                   /* reached the running one */
            w->inf[seq % CF__PP_K] = NULL;
            w->nout--;
            w->items_sent -= cf__remote_items(f);
            got[n++] = f;
        }
        for (size_t i = 0; i < n; i++)   /* got[] is newest first: the front keeps order */
            if (!cf__pm_pend_push(p, got[i], true))
                cf__pm_finish(p, got[i], ENOMEM, NULL, cf__remote_text("process pool: no memory to queue the task"), 0);
        if (n)
            return;
    }
}

/* The worker that should take the next task: among those that can take one more, the one with
 * the fewest out (ties: the lowest index), or with none out when idle_only. -1 if none. */
static int least_loaded(cf__process_pool *p, bool idle_only)
{
    int best = -1;
    for (int i = 0; i < p->max_workers; i++) {
        cf__pworker *w = &p->w[i];
        if (!cf__pm_usable(p, w) || w->stuck || w->nout >= CF__PP_WINDOW ||
            w->next_seq - w->low_seq >= CF__PP_K - 1)
            continue;
        if (idle_only && (w->nout || w->out.len))
            continue;
        if (best < 0 || w->nout < p->w[best].nout)
            best = i;
    }
    return best;
}

/* Sends what waits, one task at a time to the least loaded worker, so that a short task does not
 * queue behind a long one while another worker has less to do; each worker's tasks of this pass
 * still go out as one message. */
bool cf__pm_dispatch(cf__mgr *m, int64_t now)
{
    cf__process_pool *p = m->p;
    bool any = false;
    for (int i = 0; i < p->max_workers; i++) {
        cf__pworker *w = &p->w[i];
        if (w->out.len) {
            size_t before = w->out_off;
            flush(w);
            any |= w->out.len == 0 || w->out_off != before;
        }
        w->stuck = w->out.len != 0;      /* its ring is full: nothing more for it this pass */
    }
    if (p->pend.count == 0)
        steal(m, now);
    size_t big = CF__PP_RING / 8;
    while (p->pend.count) {
        cf_future *f = cf__pm_pend_peek(p);
        if (cf_future_done(f)) {
            cf__pm_pend_pop(p);
            cf_future_unref(f);
            continue;
        }
        /* A large argument streams through the ring: only to an idle worker, which reads while
         * we write (a busy one would leave it half sent until its task ends). FIFO order waits
         * for one. */
        size_t need = cf__remote_task_size(f);
        int i = least_loaded(p, need > big);
        if (i < 0 || cf__wire_reserve(&p->w[i].out, need))
            break;
        cf__pm_pend_pop(p);
        if (!assign(p, i, f))
            cf_future_unref(f);          /* cancelled while it waited */
        any = true;
        if (need > big) {
            flush(&p->w[i]);             /* streams on in later passes as the worker reads */
            p->w[i].stuck = p->w[i].out.len != 0;
        }
    }
    for (int i = 0; i < p->max_workers; i++)
        if (!p->w[i].stuck)
            flush(&p->w[i]);
    return any;
}

