/* SPDX-License-Identifier: MIT */
/* mpi_manager.c: the MPI pool's manager thread on the root: it alone calls MPI there while the
 * pool lives.
 *
 * Design notes.
 * - Loop: take submissions into a FIFO, read results (MPI_Improbe/MPI_Mrecv, any serving rank),
 *   finish sends (MPI_Test), send CANCELs for futures cancelled while out, dispatch, and end
 *   once closed with nothing queued or out (EXIT to every rank, then the communicator freed).
 * - Dispatch gives each task to the serving rank with the fewest out, within that rank's window,
 *   and sends each rank's share of a pass as one message (MPI_Isend), up to CF__MP_SENDS in
 *   flight per rank while the next fills, each small enough to go eagerly. The window follows the rank's smoothed time per task: it
 *   doubles (to CF__MP_WINDOW) while tasks are short, so trivial tasks pipeline far below a
 *   round trip each, and falls to 2 when they are long, so a long task never has a queue of
 *   others behind it that an idle rank could have run (and more stay cancellable at once).
 * - A dispatched future turns RUNNING and gives back its max_pending slot; one that was
 *   cancelled meanwhile is dropped instead. A cancel of a RUNNING one pokes us: a CANCEL goes in
 *   the rank's next batch (mpi_pool.h), and its SKIPPED answer ends the future CANCELLED.
 * - Sleep: MPI gives nothing to sleep on, so while tasks are out we look, yielding, then nap on
 *   the doorbell (a submit or cancel wakes us) in proportion to how long we have been idle
 *   (common/backoff.h), up to NAP_MAX_NS; with nothing out we sleep on the doorbell alone.
 * - Trust: a rank's message is decoded with process_wire.h's checks, and must answer that rank's
 *   oldest task: a rank that sends anything else is lost (its tasks fail with EPROTO and it gets
 *   nothing more). An MPI call that fails breaks the pool (CF_EBROKEN with MPI's error text). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/backoff.h"
#include "../common/doorbell.h"
#include "../pool/remote.h"
#include "fnref.h"
#include "mpi_pool.h"

#define SPIN_NS      2000000   /* idle this long before napping: see the design note */
#define NAP_MAX_NS  1000000
#define READ_MAX    64           /* result messages per pass */
#define MSG_MAX     ((size_t)INT_MAX - 4096)   /* an MPI count is an int */

/* ---- completing futures ---- */

/* Fails a future we still hold (queued or out), unless it is done already. */
static void fail(cf__mpi_pool *p, cf_future *f, int err, char *msg)
{
    if (cf_future_done(f)) {
        free(msg);
        cf_future_unref(f);
        return;
    }
    cf__intake_finish(&p->in, f, CF_FINISHED, err, NULL, msg, 0);
}

/* Takes rank w's oldest task off its ring. */
static cf_future *take_oldest(cf__mpi_pool *p, cf__mrank *w)
{
    size_t i = w->low % CF__MP_K;
    cf_future *f = w->inf[i];
    w->inf[i] = NULL;
    w->told[i] = false;
    w->low++;
    w->nout--;
    atomic_fetch_sub_explicit(&p->running, 1, memory_order_relaxed);
    return f;
}

/* A rank we stop trusting (or cannot reach): its tasks fail, it gets nothing more (its sends in
 * flight are left to MPI). With no rank left, the pool is broken. */
static void lose_rank(cf__mpi_pool *p, cf__mrank *w, int err, const char *why)
{
    w->dead = true;
    while (w->nout)
        fail(p, take_oldest(p, w), err, cf__remote_text("MPI pool: rank %d %s", w->rank, why));
    w->out.len = 0;
    for (int k = 0; k < CF__MP_SENDS; k++)
        if (w->req[k] != MPI_REQUEST_NULL) {
            MPI_Request_free(&w->req[k]);
            p->sending--;
        }
    bool any = false;
    for (int i = 0; i < p->nworkers; i++)
        any |= !p->r[i].dead;
    if (!any && atomic_load(&p->in.closed) != CF_EBROKEN) {
        if (!p->broken_msg)
            p->broken_msg = cf__remote_text("MPI pool: no serving rank left (the last, rank %d, %s)",
                                            w->rank, why);
        cf__intake_break(&p->in);
    }
}

/* An MPI call failed on the root: nothing more can be sent or read. Everything queued or out
 * fails with CF_EBROKEN and MPI's words; later submits fail the same way. */
static void break_pool(cf__mpi_pool *p, const char *call, int rc)
{
    if (atomic_load(&p->in.closed) == CF_EBROKEN)
        return;
    char text[MPI_MAX_ERROR_STRING + 1] = "";
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", rc);
    if (!p->broken_msg)
        p->broken_msg = cf__remote_text("MPI pool: %s failed: %s", call, text);
    cf__intake_break(&p->in);            /* publishes broken_msg */
    for (int i = 0; i < p->nworkers; i++)
        if (!p->r[i].dead)
            lose_rank(p, &p->r[i], CF_EBROKEN, "cannot be reached: the pool is broken");
}

static bool broken(cf__mpi_pool *p) { return atomic_load(&p->in.closed) == CF_EBROKEN; }

static char *broken_text(cf__mpi_pool *p)
{
    return p->broken_msg ? strdup(p->broken_msg) : NULL;
}

/* ---- intake ---- */

static bool intake(cf__mpi_pool *p)
{
    if (!p->sealed && cf__intake_sealed(&p->in))
        p->sealed = true;                /* from here on the queue only drains */
    cf_future *f = cf__intake_next(&p->in);
    if (!f)
        return false;
    for (; f; f = cf__intake_next(&p->in)) {
        if (broken(p))
            fail(p, f, CF_EBROKEN, broken_text(p));
        else if (cf__qstore_push(&p->pend, f))
            fail(p, f, ENOMEM, cf__remote_text("MPI pool: no memory to queue the task"));
    }
    return true;
}

/* ---- results ---- */

/* Applies one result from rank w: false if it is not one w could have sent. */
static bool apply(cf__mpi_pool *p, cf__mrank *w, const unsigned char *b, size_t len)
{
    cf__wresult r;
    if (cf__wire_get_result(b, len, &r) || r.type == CF__PR_INIT_FAILED || w->nout == 0 ||
        r.seq != w->low)
        return false;
    cf_future *f = w->inf[w->low % CF__MP_K];
    if (r.type == CF__PR_SKIPPED) {
        if (!w->told[w->low % CF__MP_K])
            return false;                /* skipped without being told */
        take_oldest(p, w);
        cf__intake_finish(&p->in, f, CF_CANCELLED, ECANCELED, NULL, NULL, 0);
        return true;
    }
    if (!cf__wire_result_fits(&r, cf__remote_kind(f), cf__remote_items(f)))
        return false;
    take_oldest(p, w);
    char *msg = r.err && r.msglen ? strndup(r.msg, r.msglen) : NULL;
    void *value;
    size_t blen;
    int err = cf__remote_outcome(f, &r, &msg, &value, &blen);
    cf__intake_finish(&p->in, f, CF_FINISHED, err, value, msg, blen);
    return true;
}

/* Learns from a message of k results how long w takes per task, and sizes its window. */
static void retune(cf__mrank *w, size_t k, int64_t now)
{
    int64_t sample = (now - w->last_ns) / (int64_t)(k ? k : 1);
    w->last_ns = now;
    w->est_ns = w->est_ns ? (3 * w->est_ns + sample) / 4 : sample;
    if (w->est_ns < CF__MP_SHORT_NS)
        w->window = w->window * 2 > CF__MP_WINDOW ? CF__MP_WINDOW : w->window * 2;
    else if (w->est_ns > CF__MP_LONG_NS)
        w->window = 2;
}

/* Splits a results message (mpi_pool.h) and applies each: false if any part is corrupt. */
static bool apply_all(cf__mpi_pool *p, cf__mrank *w, const unsigned char *b, size_t len,
                      int64_t now)
{
    size_t off = 0, k = 0, rlen;
    const unsigned char *rec;
    int r;
    while ((r = cf__wire_next_record(b, len, &off, &rec, &rlen)) == 1) {
        if (!apply(p, w, rec, rlen))
            return false;
        k++;
    }
    if (r == EPROTO)
        return false;
    retune(w, k, now);
    return k > 0;
}

static bool read_results(cf__mpi_pool *p, int64_t now)
{
    bool any = false;
    for (int n = 0; n < READ_MAX; n++) {
        int flag = 0, count = 0;
        MPI_Message m;
        MPI_Status st;
        int rc = MPI_Improbe(MPI_ANY_SOURCE, CF__MP_TAG_RESULTS, p->comm, &flag, &m, &st);
        if (rc != MPI_SUCCESS) {
            break_pool(p, "MPI_Improbe", rc);
            return true;
        }
        if (!flag)
            break;
        any = true;
        MPI_Get_count(&st, MPI_BYTE, &count);
        int src = st.MPI_SOURCE;
        cf__mrank *w = src >= 1 && src <= p->nworkers ? &p->r[src - 1] : NULL;
        bool room = count >= 0 && cf__wire_reserve(&p->rx, (size_t)count + 8) == 0;
        /* Matched: it must be received, into our buffer or (no memory) truncated. */
        rc = MPI_Mrecv(p->rx.b, room ? count : 0, MPI_BYTE, &m, MPI_STATUS_IGNORE);
        if (!room) {
            if (w && !w->dead)
                lose_rank(p, w, ENOMEM, "sent a result the root had no memory for");
            continue;
        }
        if (rc != MPI_SUCCESS) {
            break_pool(p, "MPI_Mrecv", rc);
            return true;
        }
        if (!w || w->dead)
            continue;                    /* not a serving rank, or one we gave up on */
        if (!apply_all(p, w, p->rx.b, (size_t)count, now))
            lose_rank(p, w, EPROTO, "sent a corrupt result message");
    }
    return any;
}

/* ---- sending ---- */

/* Completes the sends MPI finished (one MPI_Testsome for every rank: on a node with more ranks
 * than CPUs each MPI call that finds nothing yields the CPU), and sends each rank's batch if one
 * of its slots is free. */
static bool pump(cf__mpi_pool *p)
{
    bool any = false;
    if (p->sending) {
        int n = 0;
        int rc = MPI_Testsome(p->nworkers * CF__MP_SENDS, p->reqs, &n, p->done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) {
            break_pool(p, "MPI_Testsome", rc);
            return true;
        }
        for (int j = 0; j < n && n != MPI_UNDEFINED; j++) {
            p->r[p->done[j] / CF__MP_SENDS].wire[p->done[j] % CF__MP_SENDS].len = 0;
            p->sending--;
            any = true;
        }
    }
    for (int i = 0; i < p->nworkers; i++) {
        cf__mrank *w = &p->r[i];
        int k = 0;
        while (k < CF__MP_SENDS && w->req[k] != MPI_REQUEST_NULL)
            k++;
        if (!w->out.len || w->dead || k == CF__MP_SENDS)
            continue;
        /* MPI matches a sender's messages of one tag in the order they were sent, whatever slot
         * they went from. */
        cf__wbuf t = w->wire[k];
        w->wire[k] = w->out;
        w->out = t;
        w->out.len = 0;
        int rc = MPI_Isend(w->wire[k].b, (int)w->wire[k].len, MPI_BYTE, w->rank,
                           CF__MP_TAG_TASKS, p->comm, &w->req[k]);
        if (rc != MPI_SUCCESS) {
            break_pool(p, "MPI_Isend", rc);
            return true;
        }
        p->sending++;
        any = true;
    }
    return any;
}

/* Appends a CANCEL for each future out that was cancelled and not yet told. The poke is taken
 * before the scan: a cancel that pokes during it is seen by the next one (its cancel_requested
 * is stored before its poke, and read here after taking the poke). */
static void send_cancels(cf__mpi_pool *p)
{
    atomic_store(&p->cancel_poke, false);
    for (int i = 0; i < p->nworkers; i++) {
        cf__mrank *w = &p->r[i];
        for (uint64_t seq = w->low; seq < w->next && !w->dead; seq++) {
            size_t k = seq % CF__MP_K;
            if (w->told[k] || !atomic_load_explicit(&w->inf[k]->cancel_requested, memory_order_relaxed))
                continue;
            if (cf__wire_reserve(&w->out, sizeof(cf__ptask))) {
                atomic_store(&p->cancel_poke, true);   /* no memory: try again next pass */
                return;
            }
            cf__ptask t = { .seq = seq, .kind = CF__PT_CANCEL };
            cf__wire_put_task(w->out.b + w->out.len, &t, NULL, 0);
            w->out.len += sizeof t;
            w->told[k] = true;
        }
    }
}

/* shutdown(cancel_futures): what waits is cancelled, what is out is told. */
static void cancel_everything(cf__mpi_pool *p)
{
    while (p->pend.count) {
        cf_future *f = cf__qstore_pop(&p->pend);
        cf_future_cancel(f);
        cf_future_unref(f);
    }
    for (int i = 0; i < p->nworkers; i++)
        for (uint64_t seq = p->r[i].low; seq < p->r[i].next; seq++)
            cf_future_cancel(p->r[i].inf[seq % CF__MP_K]);
    send_cancels(p);
}

/* The rank that should take the next task (need bytes): the fewest out among those with room
 * in their window and their batch; -1 if none. */
static int least_loaded(cf__mpi_pool *p, size_t need)
{
    int best = -1;
    for (int i = 0; i < p->nworkers; i++) {
        cf__mrank *w = &p->r[i];
        if (w->dead || w->nout >= w->window || w->next - w->low >= CF__MP_K - 1 ||
            (w->out.len && w->out.len + need > CF__MP_BATCH))
            continue;
        /* A wide window is refilled by halves, so that a message carries many tasks rather
         * than one per result that came back (each message costs both sides MPI calls). */
        if (w->window >= 8 && !w->out.len && w->nout > w->window / 2)
            continue;
        if (best < 0 || w->nout < p->r[best].nout)
            best = i;
    }
    return best;
}

static bool dispatch(cf__mpi_pool *p, int64_t now)
{
    bool any = false;
    while (p->pend.count) {
        cf_future *f = cf__qstore_peek(&p->pend);
        if (cf_future_done(f)) {
            cf__qstore_pop(&p->pend);
            cf_future_unref(f);
            continue;
        }
        size_t need = cf__remote_task_size(f);
        uint64_t fnword = cf__fnref_of(cf__remote_fn(f));
        if (!fnword || need > MSG_MAX) {
            cf__qstore_pop(&p->pend);
            fail(p, f, fnword ? EMSGSIZE : EINVAL, fnword
                 ? cf__remote_text("MPI pool: a %zu-byte task is too large for one MPI message", need)
                 : cf__remote_text("MPI pool: the task's function is in no loaded object"));
            any = true;
            continue;
        }
        int i = least_loaded(p, need);
        if (i < 0 || cf__wire_reserve(&p->r[i].out, need))
            break;
        cf__qstore_pop(&p->pend);
        any = true;
        if (!cf__intake_mark_running(&p->in, f)) {
            cf_future_unref(f);          /* cancelled while it waited */
            continue;
        }
        cf__mrank *w = &p->r[i];
        cf__remote_encode(w->out.b + w->out.len, f, w->next, fnword);
        w->out.len += need;
        if (w->nout == 0)
            w->last_ns = now;            /* its clock for the time per task starts now */
        w->inf[w->next % CF__MP_K] = f;
        w->told[w->next % CF__MP_K] = false;
        w->next++;
        w->nout++;
        atomic_fetch_add_explicit(&p->running, 1, memory_order_relaxed);
    }
    return any;
}

/* ---- the loop ---- */

static bool anything_out(cf__mpi_pool *p)
{
    for (int i = 0; i < p->nworkers; i++) {
        if (p->r[i].dead)
            continue;
        if (p->r[i].nout || p->r[i].out.len)
            return true;
        for (int k = 0; k < CF__MP_SENDS; k++)
            if (p->r[i].req[k] != MPI_REQUEST_NULL)
                return true;
    }
    return false;
}

/* Sleeps until the doorbell rings or ns pass (ns < 0: no limit). */
static void sleep_on_bell(cf__mpi_pool *p, int64_t ns)
{
    cf__bell_sleeping(&p->in.mgr_sleeping);
    if (cf__intake_empty(&p->in) && !atomic_load(&p->cancel_poke) &&
        !(atomic_load(&p->cancel_futures) && !p->cancelled_all)) {
        struct pollfd pf = { .fd = p->in.doorbell, .events = POLLIN };
        struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
        ppoll(&pf, 1, ns < 0 ? NULL : &ts, NULL);
    }
    cf__bell_awake(&p->in.mgr_sleeping, p->in.doorbell);
}

static void run(cf__mpi_pool *p)
{
    int64_t idle_since = (int64_t)cf__mono_ns();
    for (;;) {
        int64_t now = (int64_t)cf__mono_ns();
        bool busy = intake(p);
        bool mpi = !broken(p);
        if (mpi)
            busy |= read_results(p, now);
        if (atomic_load(&p->cancel_futures) && !p->cancelled_all && p->sealed) {
            p->cancelled_all = true;
            cancel_everything(p);
            busy = true;
        }
        if (atomic_load(&p->cancel_poke))
            send_cancels(p);
        if (broken(p))
            while (p->pend.count)
                fail(p, cf__qstore_pop(&p->pend), CF_EBROKEN, broken_text(p));
        else
            busy |= dispatch(p, now);
        if (!broken(p))
            busy |= pump(p);
        if (p->sealed && !p->pend.count && cf__intake_empty(&p->in) &&
            (broken(p) || !anything_out(p)))
            return;
        if (busy) {
            idle_since = now;
            continue;
        }
        if (!p->pend.count && (broken(p) || !anything_out(p))) {
            sleep_on_bell(p, -1);        /* nothing can come but a submit or a close */
            continue;
        }
        /* Yield rather than spin: the rank we wait for may share this CPU. */
        int64_t ns = cf__idle_nap_ns(now - idle_since, SPIN_NS, NAP_MAX_NS);
        if (ns)
            sleep_on_bell(p, ns);
        else
            sched_yield();
    }
}

void *cf__mp_manager_main(void *arg)
{
    cf__mpi_pool *p = arg;
    p->mgr_self = pthread_self();
    atomic_store(&p->mgr_up, true);
    char name[16];
    snprintf(name, sizeof name, "%.11s-mgr", p->name);
    pthread_setname_np(pthread_self(), name);
    run(p);
    /* Every rank waits for EXIT inside cf_mpi_pool_new, broken pool or not. */
    if (cf__mp_release_ranks(&p->comm, p->size) && !p->broken_msg)
        p->broken_msg = cf__remote_text("MPI pool: the ranks could not be released");
    cf__mp_finish(p);
    return NULL;
}
