/* SPDX-License-Identifier: MIT */
/* process_manager.h (internal): what the manager thread's two files share. process_manager.c
 * runs the loop and owns the workers' lives (spawn, results, deaths, timeouts, breaking);
 * process_dispatch.c moves futures from the submit queue to the workers (intake, the FIFO of
 * unsent futures, assignment, stealing). Everything here runs on the manager thread only. */
#ifndef CF__PROCESS_MANAGER_H
#define CF__PROCESS_MANAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "process_pool.h"

#define CF__PP_STEAL_NS 2000000   /* a task running this long makes its queue worth stealing */

typedef struct cf__mgr {
    cf__process_pool *p;
    int   epfd;
    bool  sealed;        /* closed and no submit in flight: the wfcq only drains now */
    bool  cancelled_all; /* cancel_futures handled */
    bool  killed_all;    /* terminate/broken: every worker was sent SIGKILL */
    bool  starting;      /* creation waits for the first workers' spawn reports */
    int   start_err;     /* ... and the first reason one could not start */
    int   fruitless;     /* deaths in a row of workers that neither ran nor claimed a task */
    int   spawn_fails;   /* failed attempts in a row to start a worker */
    int   fs_deaths;     /* fork servers lost in a row with no result in between */
    int64_t fs_restart_ns; /* the fork server is gone: start a new one from then on (0: none) */
} cf__mgr;

/* ---- process_manager.c ---- */

/* Completes a future the pool ran (or failed for a reason of its own), then drops the pool's
 * reference; msg (malloc'd or NULL) goes to the future. */
void  cf__pm_finish(cf__process_pool *p, cf_future *f, int err, void *value, char *msg, size_t blen);
/* Fails a future that never reached a worker (broken pool). */
void  cf__pm_fail_unsent(cf__process_pool *p, cf_future *f, int err);
/* The worker can take tasks (live, not leaving, under its max_tasks_per_child). */
bool  cf__pm_usable(cf__process_pool *p, cf__pworker *w);
/* A worker whose pipe or messages cannot be trusted any more: killed, and handled as dead when
 * the fork server reports it; the task it was running fails with CF_EWORKER and says why. */
void  cf__pm_kill_corrupt(cf__pworker *w);
/* Usable, with nothing to do and nothing still on its way to it: a worker that may steal. */
bool  cf__pm_idle(cf__process_pool *p, cf__pworker *w);

/* ---- process_dispatch.c ---- */

/* The FIFO of futures not yet sent (one reference each). push: false when out of memory. */
bool       cf__pm_pend_push(cf__process_pool *p, cf_future *f, bool front);
cf_future *cf__pm_pend_peek(cf__process_pool *p);
void       cf__pm_pend_pop(cf__process_pool *p);
/* Takes f, sent to a worker and not started, back for another (its lock taken here); false if
 * it is done or its worker started it. */
bool   cf__pm_take_back(cf__process_pool *p, cf_future *f);
/* Moves submissions into the FIFO: true if there were any. */
bool   cf__pm_intake(cf__mgr *m);
/* Sends what waits to the workers that should take it: true if anything moved. */
bool   cf__pm_dispatch(cf__mgr *m, int64_t now);

#endif
