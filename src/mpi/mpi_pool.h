/* SPDX-License-Identifier: MIT */
/* mpi_pool.h (internal): the MPI pool's state and messages, split between mpi_pool.c (creation,
 * collective on every rank; the root's caller side: submit, shutdown, stats, the future hooks),
 * mpi_manager.c (the root's manager thread: dispatch, results, cancels) and mpi_worker.c (a
 * worker rank serving tasks).
 *
 * Messages, on a duplicate of the user's communicator (so none meets the program's own):
 * - TAG_TASKS, root -> rank: a batch in process_wire.h's task format (tasks, CF__PT_CANCEL,
 *   CF__PT_EXIT). One tag for all of it: MPI keeps a sender's messages of one tag in order, so a
 *   cancel never overtakes its task and EXIT comes last.
 * - TAG_RESULTS, rank -> root: one or more results, each a uint64_t length (a multiple of 8)
 *   then a process_wire.h result of that length. A rank runs its tasks in the order sent and
 *   answers each (SKIPPED for one cancelled before it started), so results come back in seq
 *   order: anything else is a corrupt message, checked like every length.
 *
 * Seqs: per rank, from 1; a rank's tasks out are inf[seq % CF__MP_K] for seq in [low, next). */
#ifndef CF__MPI_POOL_H
#define CF__MPI_POOL_H

#include <mpi.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../future/future.h"
#include "../pool/executor.h"
#include "../pool/intake.h"
#include "../pool/process_wire.h"
#include "../queue/queue_store.h"

#define CF__MP_K       128           /* ring of a rank's tasks out: above the largest window */
#define CF__MP_WINDOW  64            /* tasks out per rank, at most */
#define CF__MP_BATCH   32768         /* bytes per batch, beyond its first task */
#define CF__MP_SENDS   4             /* batches in flight per rank */
#define CF__MP_SHORT_NS 200000       /* a rank whose tasks take less (smoothed) gets a wider window */
#define CF__MP_LONG_NS  2000000      /* ... more: a window of 2 (one running, one waiting) */

enum { CF__MP_TAG_TASKS = 1, CF__MP_TAG_RESULTS = 2 };

/* What the root tells every rank at creation (MPI_Bcast as bytes: same program, same layout). */
typedef struct cf__mp_setup {
    int32_t       err;               /* the root's verdict on opts (0 | EINVAL | ENOMEM) */
    int32_t       nworkers;          /* ranks 1..nworkers serve */
    uint64_t      init_fn;           /* fnref.h word, 0: none */
    uint64_t      init_arg;
    uint32_t      id_len;            /* the program's build ID */
    unsigned char id[40];
} cf__mp_setup;

/* The root's view of one serving rank (manager only). */
typedef struct cf__mrank {
    int         rank;
    uint64_t    low, next;           /* seqs out: [low, next) */
    cf_future  *inf[CF__MP_K];       /* one reference each */
    bool        told[CF__MP_K];      /* a CANCEL went for it */
    size_t      nout, window;
    int64_t     last_ns;             /* its last result, or when it got work while idle */
    int64_t     est_ns;              /* its time per task, smoothed (0: not known yet) */
    cf__wbuf    out;                 /* the batch being built */
    cf__wbuf    wire[CF__MP_SENDS];  /* batches being sent, each with its request */
    MPI_Request *req;                /* its CF__MP_SENDS requests in the pool's `reqs`;
                                      * MPI_REQUEST_NULL: that slot is free */
    bool        dead;                /* sent a corrupt message: gets nothing more */
} cf__mrank;

typedef struct cf__mpi_pool {
    cf_executor base;
    cf__owner   owner;
    cf__intake  in;

    /* Immutable after creation. */
    MPI_Comm    comm;                /* our duplicate */
    int         size, nworkers;
    char        name[16];

    atomic_bool cancel_futures, terminating;
    atomic_bool cancel_poke;         /* a RUNNING future was cancelled: the manager looks */

    alignas(64) _Atomic size_t running;  /* tasks out on the ranks */

    cf__life    life;                /* intake.h: the user's handle and the manager's */
    pthread_t   mgr, mgr_self;
    atomic_bool mgr_up;
    char       *broken_msg;          /* set before closed = CF_EBROKEN */

    /* Manager only. */
    cf__mrank  *r;                   /* nworkers entries: ranks 1..nworkers */
    MPI_Request *reqs;               /* every rank's send requests, tested with one call */
    int        *done;                /* MPI_Testsome's indices */
    int         sending;             /* requests not MPI_REQUEST_NULL */
    cf__qstore  pend;                /* futures not yet sent, FIFO (one reference each) */
    cf__wbuf    rx;                  /* a result message being read */
    bool        sealed, cancelled_all;
} cf__mpi_pool;

/* mpi_pool.c */
void  cf__mp_unref(cf__mpi_pool *p);
void  cf__mp_finish(cf__mpi_pool *p);          /* the manager's exit */
/* Sends EXIT to every rank and frees the communicator: how every rank's call ends. */
int   cf__mp_release_ranks(MPI_Comm *comm, int size);
/* mpi_manager.c */
void *cf__mp_manager_main(void *arg);
/* mpi_worker.c: serves tasks until EXIT (then frees comm): 0 | CF_EBROKEN (MPI failed). */
int   cf__mp_serve(MPI_Comm *comm, bool serving);

#endif
