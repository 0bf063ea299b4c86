/* SPDX-License-Identifier: MIT */
/* process_pool.h (internal): the process pool's state, split between process_pool.c (caller
 * side: create, submit, shutdown, stats, the future hooks), the manager thread's files
 * (process_manager.c: its loop, worker lives, results, timeouts; process_dispatch.c: intake,
 * assignment, stealing; process_manager.h between them), process_wire.c (the messages, both
 * ends) and process_worker.c (the worker process).
 *
 * Shared with the workers (one cf__pslot per worker index, in an anonymous MAP_SHARED mapping
 * made before the fork server, so every worker inherits it):
 * - ent[seq % CF__PP_K] = seq << 2 | ENT_*: who owns task `seq` of this worker. The parent writes
 *   QUEUED before sending the task; the worker CASes QUEUED -> STARTED before running it; the
 *   parent CASes QUEUED -> REVOKED to cancel it or take it back (a dead worker's queue, work
 *   stealing). Whoever wins the CAS decides: a cancelled task never runs, a started one is never
 *   re-sent. The seq in the word makes a stale CAS on a reused entry fail harmlessly.
 * - started/start_ns: the task running now (0: none), for task_timeout and the RUNNING state.
 * - cancel_seq: cf_task_cancelled() in the worker is true while it equals the running seq.
 * - init_done: set by the worker once its initializer returned: a worker that dies before it
 *   counts as a failed initializer. */
#ifndef CF__PROCESS_POOL_H
#define CF__PROCESS_POOL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <urcu/wfcqueue.h>

#include "../future/future.h"
#include "../queue/queue_store.h"
#include "../wait/latch.h"
#include "intake.h"
#include "executor.h"
#include "fork_server.h"
#include "process_wire.h"

#define CF__PP_K       1024        /* entries per worker: a power of two above the window */
#define CF__PP_WINDOW  256         /* tasks sent ahead to one worker */
#define CF__PP_RING    (1u << 20)  /* pipe ring per direction */

enum { ENT_QUEUED = 1, ENT_STARTED = 2, ENT_REVOKED = 3 };

typedef struct cf__pslot {
    alignas(64) _Atomic uint64_t started;
    _Atomic int64_t  start_ns;
    _Atomic uint64_t passed;        /* the last seq the worker ran or skipped */
    _Atomic uint32_t init_done;     /* the worker finished its initializer (or has none) */
    alignas(64) _Atomic uint64_t cancel_seq;
    alignas(64) _Atomic uint64_t ent[CF__PP_K];
} cf__pslot;

/* The parent's view of one worker index (only the manager thread touches it). */
enum { W_NONE, W_SPAWNING, W_LIVE };
typedef struct cf__pworker {
    int        state;
    pid_t      pid;
    cf_pipe   *pipe;
    uint64_t   next_seq;           /* the seq the next task gets */
    uint64_t   low_seq;            /* inf[] holds nothing below this */
    cf_future *inf[CF__PP_K];      /* sent, not yet resolved, by seq % K (one reference each) */
    size_t     nout;               /* non-NULL entries of inf */
    uint64_t   marked;             /* the last seq marked RUNNING */
    size_t     items_sent;         /* for max_tasks_per_child */
    int        kill_reason;        /* 0, or why we SIGKILLed it: ETIMEDOUT, ECANCELED, CF_EBROKEN,
                                    * EPROTO (corrupt messages), ENOMEM (a result we could not hold) */
    uint64_t   results;            /* result messages received from it */
    bool       exit_sent;
    bool       stuck;              /* dispatch: its unsent batch did not fit this pass */
    bool       pipe_eof;           /* its pipe says it is gone; the fork server has not said so */
    int64_t    eof_ns;             /* ... since then */
    int64_t    progress_ns;        /* its last sign of work: a result, a start, a first task */
    int64_t    respawn_ns;         /* W_NONE: fork a replacement from then on (0: not wanted) */
    cf__wbuf   out;                /* a batch being sent (the ring was full: resumed later) */
    size_t     out_off;            /* bytes of out already in the ring (cf__pipe_send_part) */
} cf__pworker;

typedef struct cf__process_pool cf__process_pool;
struct cf__process_pool {
    cf_executor base;
    cf__owner   owner;

    /* Immutable after creation (and the workers' copy of it). */
    int    max_workers;
    void (*initializer)(void *);
    void  *initarg;
    char   name[16];
    int    max_tasks;
    double task_timeout;
    cf__pslot *slots;
    size_t     slots_len;

    /* Submissions (intake.h): the manager sleeps in epoll on the intake's doorbell. Closing and
     * cancelling ring it unconditionally: its re-check looks only at the queue. */
    cf__intake       in;
    atomic_bool      cancel_futures, terminating;

    /* Counters (the manager and the future hooks). */
    _Atomic int live;

    /* Lifetime (intake.h); the manager says it started with a latch (threads and coroutines
     * wait for it). */
    cf__life         life;
    cf__latch        started_up;     /* 1 ok, 2 failed (startup_err) */
    int              startup_err;
    pthread_t        mgr, mgr_self;   /* mgr_self: set by the manager itself before started_up */
    char            *broken_msg;     /* set by the manager before closed = CF_EBROKEN */

    /* Manager-only state. */
    cf__fs       fs;
    cf__pworker *w;
    cf__qstore   pend;               /* FIFO of futures not yet sent */
};

#define CF__XTAG_SENT   ((uint64_t)1 << 62)   /* sent: worker index and seq below */
static inline uint64_t cf__xtag(int idx, uint64_t seq) { return CF__XTAG_SENT | (uint64_t)idx << 44 | seq; }
static inline int      cf__xtag_idx(uint64_t t) { return (int)((t >> 44) & 0x3ffff); }
static inline uint64_t cf__xtag_seq(uint64_t t) { return t & (((uint64_t)1 << 44) - 1); }

/* process_pool.c */
void  cf__pp_unref(cf__process_pool *p);
void  cf__pp_finish(cf__process_pool *p);         /* the manager's exit */
/* With f->lock held: takes f back from the worker it was sent to, if that worker has not started
 * it (QUEUED -> REVOKED on the shared entry). True if f was not sent or was taken back; false
 * if the worker started it. */
bool  cf__pp_revoke(cf__process_pool *p, cf_future *f);
bool  cf__pp_on_manager(cf__process_pool *p);
/* process_manager.c */
void *cf__pp_manager_main(void *arg);
/* process_worker.c: the worker process's main (a cf__fs_worker_fn). */
void  cf__pp_worker_main(void *ctx, int idx, const cf__pipe_raw *raw);

static inline uint64_t cf__ent(uint64_t seq, int st) { return seq << 2 | (uint64_t)st; }

#endif
