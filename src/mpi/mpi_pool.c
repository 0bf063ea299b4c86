/* SPDX-License-Identifier: MIT */
/* mpi_pool.c: cf_mpi_pool_new on every rank, and the root's caller side (submit, shutdown,
 * terminate, stats, the hooks by which a cancel reaches the manager).
 *
 * Design notes.
 * - Creation is collective and every rank leaves it the same way: each checks what it can alone
 *   (MPI initialized, the communicator, the thread level), the root checks the options and
 *   broadcasts them with the program's build ID, and one MPI_Allreduce(MAX) of every rank's
 *   verdict decides. Only then do the serving ranks run the initializer, and a second
 *   reduction (MAXLOC: which rank) tells the root whether one failed and which one's message to
 *   fetch. After that the root starts its manager and every other rank serves until EXIT.
 * - Anything that goes wrong on the root after the ranks have started serving (the manager
 *   thread cannot start) still sends them EXIT: no rank is ever left waiting.
 * - Submit and close are intake.h's. A task sent to a rank is RUNNING; cancelling it sets its
 *   cancel_requested and pokes the manager, which sends CANCEL (cancel_running returns false:
 *   the task is only told, as concurrent.futures does; a rank that had not started it skips it
 *   and the future ends CANCELLED).
 * - MPI calls: the creating thread, then the manager only (MPI_THREAD_SERIALIZED is enough: the
 *   manager's start and its `finished` latch order the two).
 * Lock order: a future's lock, then nothing of ours (the hooks only touch atomics). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/opts.h"
#include "../pool/remote.h"
#include "cfutures/mpi.h"
#include "fnref.h"
#include "mpi_pool.h"

static bool on_manager(cf__mpi_pool *p)
{
    return atomic_load(&p->mgr_up) && pthread_equal(pthread_self(), p->mgr_self);
}

/* ---- future hooks (called with the future's lock held) ---- */

static void on_left_pending(cf__owner *o, cf_future *f, cf_state to, int err)
{
    cf__intake_left_pending(&cf__container_of(o, cf__mpi_pool, owner)->in, f, to, err);
}

static bool cancel_running(cf__owner *o, cf_future *f)
{
    (void)f;
    cf__mpi_pool *p = cf__container_of(o, cf__mpi_pool, owner);
    atomic_store(&p->cancel_poke, true);
    cf__intake_ring(&p->in);
    return false;
}

/* ---- the executor ---- */

static cf_future *mp_submit(cf_executor *ex, cf_fn fn, void *arg, int kind, const cf__deadline *d)
{
    cf__mpi_pool *p = (cf__mpi_pool *)ex;
    return cf__intake_submit(&p->in, &p->owner, on_manager(p), fn, arg, kind, d);
}

static void destroy(cf__mpi_pool *p)
{
    cf__intake_destroy(&p->in);
    if (p->r)
        for (int i = 0; i < p->nworkers; i++) {
            free(p->r[i].out.b);
            for (int k = 0; k < CF__MP_SENDS; k++)
                free(p->r[i].wire[k].b);
        }
    free(p->r);
    free(p->reqs);
    free(p->done);
    free(p->rx.b);
    cf__qstore_destroy(&p->pend);
    free(p->broken_msg);
    free(p);
}

void cf__mp_unref(cf__mpi_pool *p)
{
    if (cf__life_unref(&p->life))
        destroy(p);
}

/* The manager's last word (intake.h's lifetime). */
void cf__mp_finish(cf__mpi_pool *p)
{
    if (cf__life_finish(&p->life))
        destroy(p);
}

static void mp_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
    cf__mpi_pool *p = (cf__mpi_pool *)ex;
    if (cancel_futures)
        atomic_store(&p->cancel_futures, true);
    cf__intake_close(&p->in);
    if (wait && !on_manager(p))
        cf__life_wait(&p->life);
}

/* MPI cannot stop a rank's running task: cancel what has not started, tell what runs, wait. */
static void mp_terminate(cf_executor *ex)
{
    cf__mpi_pool *p = (cf__mpi_pool *)ex;
    atomic_store(&p->terminating, true);
    mp_shutdown(ex, true, true);
}

static void mp_stats(cf_executor *ex, cf_pool_stats *out)
{
    cf__mpi_pool *p = (cf__mpi_pool *)ex;
    out->completed = atomic_load(&p->in.completed);
    out->failed = atomic_load(&p->in.failed);
    out->cancelled = atomic_load(&p->in.cancelled);
    size_t gone = out->completed + out->failed + out->cancelled;
    size_t submitted = atomic_load(&p->in.submitted), running = atomic_load(&p->running);
    size_t left = submitted > gone ? submitted - gone : 0;
    out->running = running < left ? running : left;
    out->pending = left - out->running;
    out->workers = p->nworkers;
}

static void mp_release(cf_executor *ex) { cf__mp_unref((cf__mpi_pool *)ex); }

static const cf__executor_ops mpi_pool_ops = {
    .submit = mp_submit,
    .shutdown = mp_shutdown,
    .terminate = mp_terminate,
    .stats = mp_stats,
    .release = mp_release,
    .remote = true,
};

/* ---- creation ---- */

int cf__mp_release_ranks(MPI_Comm *comm, int size)
{
    cf__ptask exit = { .kind = CF__PT_EXIT };
    int err = 0;
    for (int r = 1; r < size; r++)
        if (MPI_Send(&exit, sizeof exit, MPI_BYTE, r, CF__MP_TAG_TASKS, *comm) != MPI_SUCCESS)
            err = CF_EBROKEN;
    if (MPI_Comm_free(comm) != MPI_SUCCESS)
        err = CF_EBROKEN;
    return err;
}

/* The root's verdict on the options, and the setup every rank gets. */
static int check_opts(const cf_pool_opts *opts, int size, cf__mp_setup *s)
{
    cf_pool_opts o = { 0 };
    if (opts)
        o = *opts;
    if (o.max_workers < 0 || o.max_workers > size - 1 || o.max_tasks_per_child != 0 ||
        o.task_timeout != 0 || !CF__RESERVED_ZERO(o))
        return EINVAL;
    s->nworkers = o.max_workers ? o.max_workers : size - 1;
    if (o.initializer && !(s->init_fn = cf__fnref_of((const void *)o.initializer)))
        return EINVAL;                   /* not in any loaded object: no rank could call it */
    s->init_arg = (uint64_t)(uintptr_t)o.initarg;
    return 0;
}

static cf__mpi_pool *new_pool(const cf_pool_opts *opts, MPI_Comm comm, int size, int nworkers)
{
    cf__mpi_pool *p = aligned_alloc(64, (sizeof(cf__mpi_pool) + 63) / 64 * 64);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    p->base.ops = &mpi_pool_ops;
    p->owner.left_pending = on_left_pending;
    p->owner.cancel_running = cancel_running;
    p->comm = comm;
    p->size = size;
    p->nworkers = nworkers;
    snprintf(p->name, sizeof p->name, "%s", opts && opts->name ? opts->name : "cf-mpi");
    cf__qstore_init(&p->pend, CF__FIFO, 0, NULL);
    cf__life_init(&p->life);
    size_t nreq = (size_t)nworkers * CF__MP_SENDS;
    if (cf__intake_init(&p->in, opts ? opts->max_pending : 0) ||
        !(p->r = calloc((size_t)nworkers, sizeof *p->r)) ||
        !(p->reqs = malloc(nreq * sizeof *p->reqs)) || !(p->done = malloc(nreq * sizeof *p->done))) {
        destroy(p);
        return NULL;
    }
    for (int i = 0; i < nworkers; i++) {
        p->r[i].rank = i + 1;
        p->r[i].low = p->r[i].next = 1;
        p->r[i].window = 4;              /* grows while tasks are short (mpi_manager.c) */
        p->r[i].req = p->reqs + (size_t)i * CF__MP_SENDS;
        for (int k = 0; k < CF__MP_SENDS; k++)
            p->r[i].req[k] = MPI_REQUEST_NULL;
    }
    return p;
}

/* Runs the initializer on a serving rank: 0, or its error with *msg (malloc'd or NULL). */
static int run_initializer(const cf__mp_setup *s, char **msg)
{
    void (*init)(void *) = (void (*)(void *))cf__fnref_resolve(s->init_fn);
    if (!init) {
        *msg = strdup("MPI pool: the initializer is not in this rank's program");
        return EINVAL;
    }
    return cf__remote_init(init, (void *)(uintptr_t)s->init_arg, msg);
}

/* After the first agreement: the initializers. 0 | an error of some rank's initializer, with
 * its message on the root (*msg). */
static int agree_initialized(MPI_Comm comm, int rank, const cf__mp_setup *s, char **msg)
{
    int err = 0;
    *msg = NULL;
    if (rank > 0 && rank <= s->nworkers && s->init_fn)
        err = run_initializer(s, msg);
    struct { int err, rank; } mine = { err, rank }, worst;
    if (MPI_Allreduce(&mine, &worst, 1, MPI_2INT, MPI_MAXLOC, comm) != MPI_SUCCESS)
        return CF_EBROKEN;
    if (!worst.err)
        return 0;
    /* The failing rank's message, to the root: its length first (0: none). */
    int len = 0;
    if (rank == worst.rank) {
        len = *msg ? (int)strnlen(*msg, CF__WIRE_MSG_MAX) : 0;
        if (rank != 0) {
            MPI_Send(&len, 1, MPI_INT, 0, CF__MP_TAG_RESULTS, comm);
            if (len)
                MPI_Send(*msg, len, MPI_CHAR, 0, CF__MP_TAG_RESULTS, comm);
        }
    }
    if (rank == 0 && worst.rank != 0) {
        MPI_Recv(&len, 1, MPI_INT, worst.rank, CF__MP_TAG_RESULTS, comm, MPI_STATUS_IGNORE);
        char *text = len > 0 && len <= (int)CF__WIRE_MSG_MAX ? calloc(1, (size_t)len + 1) : NULL;
        if (text)
            MPI_Recv(text, len, MPI_CHAR, worst.rank, CF__MP_TAG_RESULTS, comm, MPI_STATUS_IGNORE);
        free(*msg);
        *msg = text;
    }
    char *text = cf__remote_text("initializer failed on rank %d: %s (%s)", worst.rank,
                                 *msg ? *msg : cf_strerror(worst.err), cf_strerror(worst.err));
    free(*msg);
    *msg = rank == 0 ? text : (free(text), NULL);
    return worst.err;
}

static cf_executor *fail(int err)
{
    errno = err;
    return NULL;
}

CF_EXTERN cf_executor *cf_mpi_pool_new(MPI_Comm comm, const cf_pool_opts *opts)
{
    int inited = 0, finalized = 0, inter = 0, size = 0, rank = 0, level = 0;
    if (MPI_Initialized(&inited) != MPI_SUCCESS || !inited ||
        MPI_Finalized(&finalized) != MPI_SUCCESS || finalized || comm == MPI_COMM_NULL)
        return fail(EINVAL);
    if (MPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter ||
        MPI_Comm_size(comm, &size) != MPI_SUCCESS || MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
        return fail(EINVAL);
    if (size < 2)
        return fail(EINVAL);
    MPI_Comm dup;
    if (MPI_Comm_dup(comm, &dup) != MPI_SUCCESS)
        return fail(CF_EBROKEN);
    MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);

    /* Every rank's verdict, the root's opts and build ID, then one agreement. */
    int err = 0;
    if (MPI_Query_thread(&level) != MPI_SUCCESS || level < MPI_THREAD_SERIALIZED)
        err = EINVAL;
    cf__mp_setup s = { 0 };
    if (rank == 0) {
        s.err = check_opts(opts, size, &s);
        s.id_len = (uint32_t)cf__fnref_build_id(s.id, sizeof s.id);
    }
    if (MPI_Bcast(&s, sizeof s, MPI_BYTE, 0, dup) != MPI_SUCCESS)
        err = CF_EBROKEN;
    unsigned char id[sizeof s.id];
    if (rank != 0 && (cf__fnref_build_id(id, sizeof id) != s.id_len || memcmp(id, s.id, s.id_len)))
        err = EINVAL;                    /* another build of the program: offsets would lie */
    if (!err && s.err)
        err = s.err;
    cf__mpi_pool *p = NULL;
    if (!err && rank == 0 && !(p = new_pool(opts, dup, size, s.nworkers)))
        err = ENOMEM;
    int agreed = 0;
    if (MPI_Allreduce(&err, &agreed, 1, MPI_INT, MPI_MAX, dup) != MPI_SUCCESS)
        agreed = CF_EBROKEN;
    if (agreed) {
        if (p)
            destroy(p);
        MPI_Comm_free(&dup);
        return fail(agreed);
    }

    char *msg = NULL;
    int ierr = agree_initialized(dup, rank, &s, &msg);
    if (rank != 0) {
        int r = cf__mp_serve(&dup, rank <= s.nworkers);
        return fail(r == CF_EBROKEN ? CF_EBROKEN : 0);
    }
    if (ierr) {
        p->broken_msg = msg;
        cf__intake_break(&p->in);        /* publishes broken_msg */
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    err = pthread_create(&p->mgr, &attr, cf__mp_manager_main, p);
    pthread_attr_destroy(&attr);
    if (err) {
        cf__mp_release_ranks(&dup, size);
        destroy(p);
        return fail(ENOMEM);             /* EAGAIN: no resources for the thread */
    }
    return &p->base;
}
