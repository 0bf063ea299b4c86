/* SPDX-License-Identifier: MIT */
/* task.h (internal): the per-thread context of the task running now, read by cf_task_fail and
 * cf_task_cancelled. Executors set it around each task and around the initializer. */
#ifndef CF__TASK_H
#define CF__TASK_H

#include <stdatomic.h>
#include <stdint.h>

#include "../common/tls.h"
#include "future.h"

typedef struct cf__task_ctx {
    cf_future         *future;        /* NULL while an initializer runs */
    const atomic_bool *also_cancel;   /* the executor's "cancel running tasks" flag, or NULL */
    /* Process workers have no future: cancellation of task `seq` is asked through shared memory. */
    const _Atomic uint64_t *cancel_seq;
    /* Called by cf_task_cancelled before it reads cancel_seq, for an executor that must look
     * for cancels itself (an MPI worker polls its messages); NULL: none. */
    void             (*refresh)(void *arg);
    void              *refresh_arg;
    uint64_t           seq;
    int                err;           /* set by cf_task_fail */
    char              *msg;           /* malloc'd, owned by the context */
} cf__task_ctx;

/* Enters ctx (zeroing err/msg) and returns the context it replaces, to restore with leave. */
cf__task_ctx *cf__task_enter(cf__task_ctx *ctx, cf_future *f, const atomic_bool *also_cancel);
void          cf__task_leave(cf__task_ctx *prev);
/* Makes ctx (already entered once) current again, as coroutines switch: returns the previous.
 * Inline: the loop does it twice per switch. */
extern CF__TLS cf__task_ctx *cf__task_current;
static inline cf__task_ctx *cf__task_swap(cf__task_ctx *ctx)
{
    cf__task_ctx *prev = cf__task_current;
    cf__task_current = ctx;
    return prev;
}
/* The future of the task running on this thread, or NULL. */
cf_future    *cf__task_future(void);
/* The error cf_task_fail recorded so far in the running task, 0 if none (or no task). */
int           cf__task_failed(void);

#endif
