/* SPDX-License-Identifier: MIT */
/* thread_pool.h (internal): the thread pool's shared state, split between thread_pool.c (the
 * caller side: create, submit, shutdown) and thread_worker.c (the worker side: run, park). */
#ifndef CF__THREAD_POOL_H
#define CF__THREAD_POOL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <urcu/wfcqueue.h>

#include "../future/future.h"
#include "backlog.h"
#include "executor.h"

#define CF__LINE 64

typedef struct cf__thread_pool cf__thread_pool;

/* Each worker counts what it ran in its own cache line, written only by itself (a plain
 * load+store, no locked instruction, no line bouncing between workers); stats sum them. */
typedef struct cf__worker {
    alignas(CF__LINE) _Atomic size_t started, completed, failed;
    cf__thread_pool *pool;
    pthread_t        thread;
    int              index;      /* 1-based, for the name */
    bool             joined;     /* under pool->join_mu (or detached: its own thread shut down) */
} cf__worker;

struct cf__thread_pool {
    cf_executor base;

    /* Immutable after creation. */
    int    max_workers;
    void (*initializer)(void *);
    void  *initarg;
    char   name[16];

    /* The work queue: cds_wfcq, enqueue wait-free; dequeuers serialize on its head lock. */
    alignas(CF__LINE) struct cds_wfcq_head qhead;
    alignas(CF__LINE) struct cds_wfcq_tail qtail;

    /* Submit side. `inflight` counts submits between their closed check and their last touch of
     * the pool; a closer sets `closed` then waits for inflight == 0, after which nothing more is
     * enqueued (Dekker pair, both seq_cst), and only then sets `sealed`. */
    alignas(CF__LINE) _Atomic size_t submitted; /* futures queued, ever */
    _Atomic int      inflight;
    _Atomic int      closed;    /* 0, or ESHUTDOWN */
    atomic_bool      broken;    /* an initializer failed: CF_EBROKEN */
    atomic_bool      sealed;    /* closed and no submit in flight: the queue only drains now */
    atomic_bool      cancel_running;
    cf__backlog      backlog;   /* max_pending */

    /* Parking: idle workers spin briefly (nspinning), then sleep on wake_seq (nsleeping). */
    alignas(CF__LINE) _Atomic uint32_t wake_seq;
    _Atomic int      nspinning, nsleeping;
    /* Python's idle semaphore: a worker that runs out of work adds a token, a submit claims one
     * and starts a new thread only when there is none, so each idle worker covers one submit. */
    _Atomic int      idle_tokens;

    /* Futures that left PENDING without being started (cancel, user completion, broken pool):
     * rare, so shared counters. With the workers' counters and `submitted` they give the stats. */
    alignas(CF__LINE) cf__owner owner;
    _Atomic size_t   left_cancelled, left_completed, left_failed;

    /* Cold. mu guards spawning (nthreads, workers[].thread); join_mu serializes joiners. */
    pthread_mutex_t mu, join_mu;
    int             nthreads;
    _Atomic int     live;        /* worker threads not yet exited */
    cf__ecount      exits;       /* a worker left: joiners in coroutines wait for live to drop */
    _Atomic int     refs;        /* the user's handle + one per live worker */
    char           *broken_msg;  /* set once, before `broken` is published */
    cf__worker     *workers;
};

/* Takes one idle token if there is one. */
bool  cf__pool_claim_idle(cf__thread_pool *p);

/* thread_worker.c */
void *cf__worker_main(void *arg);
void  cf__pool_wake_one(cf__thread_pool *p);
void  cf__pool_wake_all(cf__thread_pool *p);
void  cf__pool_unref(cf__thread_pool *p);
/* Closes the queue (reason ESHUTDOWN) or breaks the pool (CF_EBROKEN), waits for submits in flight,
 * seals the queue and wakes everyone who sleeps on the pool. */
void  cf__pool_close(cf__thread_pool *p, int reason, char *broken_msg);
/* The pool whose worker runs on this thread, or NULL. */
cf__thread_pool *cf__pool_of_this_thread(void);

#endif
