/* SPDX-License-Identifier: MIT */
/* mpi_worker.c: a worker rank inside cf_mpi_pool_new, serving the root's tasks until EXIT.
 *
 * Design notes.
 * - Batches are received whole (MPI_Iprobe, then MPI_Recv of the size it reports) into a FIFO
 *   and their tasks run in order on this thread. Each batch's CANCEL entries are noted as it
 *   arrives: a task cancelled before it starts is answered SKIPPED; one cancelled while it runs
 *   sees cf_task_cancelled(), whose refresh hook (remote.h) receives what the root sent since,
 *   at most once per tick of the coarse clock (1-4 ms). Between tasks we look only every
 *   QUEUED_POLL_NS: a probe that finds
 *   nothing makes Open MPI yield the CPU when the node is oversubscribed (mpi_yield_when_idle),
 *   which between two short tasks costs far more than the task; a queued task cancelled meanwhile
 *   may then still run, and its future ends with its result.
 * - Results: each task's result is appended to one message (mpi_pool.h), sent (MPI_Isend, up
 *   to SENDS in flight, so the rank never waits for the root to take one) before the next task
 *   starts unless tasks are coming fast: the last one took under FAST_NS, fewer than
 *   RESULTS_MAX wait, and the oldest is younger than HOLD_NS. Trivial tasks then cost a fraction
 *   of a message each; a result waits behind the next task only when its own task was that fast.
 *   The FIFO running dry always sends.
 * - Idle: MPI has nothing to sleep on, so the rank looks for work, yielding, for SPIN_NS, then
 *   naps in proportion to how long it has been idle (common/backoff.h), up to NAP_MAX_NS
 *   serving, IDLE_NAP_NS for a rank beyond max_workers, which only waits for EXIT. The spin is
 *   short (the root's manager spins ten times longer): a yielding spinner still takes its share
 *   of the CPU, and on a node with more ranks than CPUs the root needs it (measured on 2 CPUs
 *   and 3 ranks: a 2 ms spin here made cf_map 30% slower than 0.2 ms).
 * - The root is this job's own rank 0, still its batches are decoded with process_wire.h's
 *   checks; one that does not decode ends the job (MPI_Abort) rather than leave the root
 *   waiting for answers that will never come. So does running out of memory for a batch for
 *   longer than RECV_TRIES naps. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/backoff.h"
#include "../pool/remote.h"
#include "fnref.h"
#include "mpi_pool.h"

#define QUEUED_POLL_NS 500000
#define FAST_NS      5000
#define HOLD_NS      20000
#define RESULTS_MAX  32
#define SPIN_NS      200000    /* idle this long before napping: see the design note */
#define NAP_MAX_NS   1000000
#define IDLE_NAP_NS  10000000
#define NOMEM_NAP_NS 1000000
#define RECV_TRIES   1000
#define SPARE        512         /* room kept for a result header and a short message */
#define FLUSH_BYTES  16384       /* results waiting past this go out before the next task */
#define SENDS        4           /* result messages in flight */
#define MSG_MAX_RESULT ((size_t)INT_MAX - (2u << 20))   /* an MPI count is an int */

typedef struct batch {
    struct batch *next;
    size_t        len, off;
    unsigned char b[];
} batch;

typedef struct worker {
    MPI_Comm        *comm;
    int              rank;
    batch           *head, *tail;
    uint64_t         cancelled[CF__MP_K];   /* by seq % K: the seq told to cancel */
    _Atomic uint64_t cancel_seq;            /* cf_task_cancelled() while == running's seq */
    uint64_t         running;
    int64_t          polled_ns;             /* the last look between tasks */
    uint64_t         polled_tick;           /* the last look from a running task */
    cf__wbuf         res;                   /* results not yet sent */
    cf__wbuf         sending[SENDS];        /* results being sent, each with its request */
    MPI_Request      sreq[SENDS];
    size_t           nres;
    int64_t          res_ns;                /* when the oldest of them was added */
    int              err;                   /* CF_EBROKEN once an MPI call failed */
    bool             exit_seen;
} worker;

static _Noreturn void give_up(worker *w, const char *why)
{
    fprintf(stderr, "cfutures: MPI rank %d: %s; aborting the job\n", w->rank, why);
    MPI_Abort(*w->comm, 70);
    abort();
}

static void nap(int64_t ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
    nanosleep(&ts, NULL);
}

/* Notes the CANCEL entries of a batch just received. */
static void note_cancels(worker *w, const batch *b)
{
    size_t off = 0;
    cf__ptask t;
    const unsigned char *payload;
    int r;
    while ((r = cf__wire_next_task(b->b, b->len, &off, &t, &payload)) == 1)
        if (t.kind == CF__PT_CANCEL) {
            w->cancelled[t.seq % CF__MP_K] = t.seq;
            if (t.seq == w->running)
                atomic_store_explicit(&w->cancel_seq, t.seq, memory_order_relaxed);
        }
    if (r == EPROTO)
        give_up(w, "a task batch from the root does not decode");
}

/* Receives one batch if one is there: true if it did. */
static bool receive(worker *w)
{
    int flag = 0, count = 0;
    MPI_Status st;
    if (MPI_Iprobe(0, CF__MP_TAG_TASKS, *w->comm, &flag, &st) != MPI_SUCCESS) {
        w->err = CF_EBROKEN;
        return false;
    }
    if (!flag)
        return false;
    MPI_Get_count(&st, MPI_BYTE, &count);
    batch *b = NULL;
    for (int tries = 0; count >= 0 && !(b = malloc(sizeof *b + (size_t)count)); tries++) {
        if (tries == RECV_TRIES)
            give_up(w, "no memory for a task batch");
        nap(NOMEM_NAP_NS);               /* it stays queued in MPI meanwhile */
    }
    if (!b)
        give_up(w, "a task batch of negative size");
    if (MPI_Recv(b->b, count, MPI_BYTE, 0, CF__MP_TAG_TASKS, *w->comm, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS) {
        free(b);
        w->err = CF_EBROKEN;
        return false;
    }
    b->len = (size_t)count;
    b->off = 0;
    b->next = NULL;
    note_cancels(w, b);
    if (w->tail)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
    return true;
}

/* Takes in what the root sent. */
static void poll_root(worker *w)
{
    while (!w->err && receive(w))
        ;
}

/* cf_task_cancelled's refresh hook: a task that asks is told within a tick of the coarse clock.
 * It may ask after every item of a cf_map chunk, so the check must cost next to nothing when it
 * does not poll: the coarse clock, not the precise one. */
static void refresh(void *arg)
{
    worker *w = arg;
    uint64_t tick = cf__mono_coarse_ns();
    if (tick == w->polled_tick)
        return;
    w->polled_tick = tick;
    poll_root(w);
}

/* A free slot for a result message, waiting for one of the sends in flight if none is free. */
static int send_slot(worker *w)
{
    for (int k = 0; k < SENDS; k++)
        if (w->sreq[k] == MPI_REQUEST_NULL)
            return k;
    int k = MPI_UNDEFINED, flag = 0;
    if (MPI_Testany(SENDS, w->sreq, &k, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
        (!flag && MPI_Waitany(SENDS, w->sreq, &k, MPI_STATUS_IGNORE) != MPI_SUCCESS) ||
        k == MPI_UNDEFINED) {
        w->err = CF_EBROKEN;
        return -1;
    }
    return k;
}

/* Sends the results that wait, without waiting for the root to take them (up to SENDS in
 * flight: MPI keeps them in order). */
static void flush(worker *w)
{
    if (!w->nres)
        return;
    int k = send_slot(w);
    if (k < 0)
        return;
    cf__wbuf t = w->sending[k];
    w->sending[k] = w->res;
    w->res = t;
    w->res.len = 0;
    w->nres = 0;
    if (MPI_Isend(w->sending[k].b, (int)w->sending[k].len, MPI_BYTE, 0, CF__MP_TAG_RESULTS,
                  *w->comm, &w->sreq[k]) != MPI_SUCCESS)
        w->err = CF_EBROKEN;
}

/* Appends task t's result (SKIPPED, a resolve failure, or what it returned) to w->res. */
static void run_one(worker *w, const cf__ptask *t, const unsigned char *payload)
{
    if (cf__wire_reserve(&w->res, SPARE)) {
        flush(w);                        /* then res is another buffer, maybe with room */
        if (cf__wire_reserve(&w->res, SPARE))
            give_up(w, "no memory for a result");
    }
    size_t at = w->res.len;
    w->res.len += sizeof(uint64_t);
    int rc = 0;
    void *fn = NULL;
    if (w->cancelled[t->seq % CF__MP_K] == t->seq) {
        rc = cf__wire_put_result(&w->res, t->seq, CF__PR_SKIPPED, 0, NULL, 0, NULL, 0);
    } else if (!(fn = cf__fnref_resolve(t->fn))) {
        char msg[96];
        snprintf(msg, sizeof msg, "MPI pool: the task's function is not in rank %d's program", w->rank);
        rc = cf__wire_put_result(&w->res, t->seq, CF__PR_RESULT, EINVAL, msg, 0, NULL, 0);
    } else {
        cf__ptask local = *t;
        local.fn = (uint64_t)(uintptr_t)fn;
        w->running = t->seq;
        atomic_store_explicit(&w->cancel_seq, 0, memory_order_relaxed);
        rc = cf__remote_run(&w->res, &local, payload, &w->cancel_seq, refresh, w);
        w->running = 0;
        fflush(NULL);                    /* what it printed goes before its result */
        if (!rc && w->res.len - at > MSG_MAX_RESULT) {
            w->res.len = at + sizeof(uint64_t);
            rc = cf__wire_put_result(&w->res, t->seq, CF__PR_RESULT, EMSGSIZE,
                                     "result too large for one MPI message", 0, NULL, 0);
        } else if (rc) {
            w->res.len = at + sizeof(uint64_t);   /* SPARE is still there */
            rc = cf__wire_put_result(&w->res, t->seq, CF__PR_RESULT, ENOMEM,
                                     "worker rank out of memory for the result", 0, NULL, 0);
        }
    }
    if (rc)
        give_up(w, "no memory for a result");
    uint64_t n = w->res.len - at - sizeof n;
    memcpy(w->res.b + at, &n, sizeof n);
    if (!w->nres++)
        w->res_ns = (int64_t)cf__mono_ns();
}

int cf__mp_serve(MPI_Comm *comm, bool serving)
{
    worker *w = calloc(1, sizeof *w);
    if (!w) {
        /* Nothing can be served without it, and the root would wait forever. */
        fprintf(stderr, "cfutures: MPI rank: no memory to serve; aborting the job\n");
        MPI_Abort(*comm, 70);
        abort();
    }
    w->comm = comm;
    for (int k = 0; k < SENDS; k++)
        w->sreq[k] = MPI_REQUEST_NULL;
    MPI_Comm_rank(*comm, &w->rank);
    int64_t idle_since = (int64_t)cf__mono_ns(), last_task_ns = 0;
    while (!w->err) {
        if (!w->head) {
            flush(w);
            if (w->exit_seen)
                break;
            if (receive(w)) {
                idle_since = (int64_t)cf__mono_ns();
                continue;
            }
            int64_t ns = cf__idle_nap_ns((int64_t)cf__mono_ns() - idle_since, SPIN_NS,
                                         serving ? NAP_MAX_NS : IDLE_NAP_NS);
            if (ns)
                nap(ns);
            else
                sched_yield();
            continue;
        }
        int64_t now = (int64_t)cf__mono_ns();
        if (now - w->polled_ns >= QUEUED_POLL_NS) {
            w->polled_ns = now;
            poll_root(w);
        }
        batch *b = w->head;
        cf__ptask t;
        const unsigned char *payload;
        int r = cf__wire_next_task(b->b, b->len, &b->off, &t, &payload);
        if (r == EPROTO)
            give_up(w, "a task batch from the root does not decode");   /* checked on arrival */
        if (r == 0 || t.kind == CF__PT_EXIT) {
            w->exit_seen |= r == 1;
            w->head = b->next;
            if (!w->head)
                w->tail = NULL;
            free(b);
            continue;
        }
        if (t.kind == CF__PT_CANCEL)
            continue;                    /* noted on arrival */
        if (w->nres && (last_task_ns >= FAST_NS || w->nres >= RESULTS_MAX ||
                        w->res.len >= FLUSH_BYTES || now - w->res_ns >= HOLD_NS))
            flush(w);
        run_one(w, &t, payload);
        int64_t after = (int64_t)cf__mono_ns();
        last_task_ns = after - now;
        idle_since = after;
    }
    while (w->head) {
        batch *b = w->head;
        w->head = b->next;
        free(b);
    }
    if (MPI_Waitall(SENDS, w->sreq, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        w->err = CF_EBROKEN;
    for (int k = 0; k < SENDS; k++)
        free(w->sending[k].b);
    free(w->res.b);
    int err = w->err;
    free(w);
    if (MPI_Comm_free(comm) != MPI_SUCCESS)
        err = CF_EBROKEN;
    return err;
}
