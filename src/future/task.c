/* SPDX-License-Identifier: MIT */
/* task.c: what a running task can ask of the library: fail its future with a message, and learn
 * that cancellation was requested. A thread-local pointer names the task running on this thread;
 * nothing here blocks or takes a lock. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/tls.h"
#include "task.h"

CF__TLS cf__task_ctx *cf__task_current;   /* task.h: cf__task_swap reads it inline */

cf__task_ctx *cf__task_enter(cf__task_ctx *ctx, cf_future *f, const atomic_bool *also_cancel)
{
    cf__task_ctx *prev = cf__task_current;
    ctx->future = f;
    ctx->also_cancel = also_cancel;
    ctx->err = 0;
    ctx->msg = NULL;
    ctx->cancel_seq = NULL;
    ctx->refresh = NULL;
    ctx->refresh_arg = NULL;
    ctx->seq = 0;
    cf__task_current = ctx;
    return prev;
}

void cf__task_leave(cf__task_ctx *prev) { cf__task_current = prev; }

int cf__task_failed(void) { return cf__task_current ? cf__task_current->err : 0; }

cf_future *cf__task_future(void) { return cf__task_current ? cf__task_current->future : NULL; }

CF_EXTERN void cf_task_fail(int err, const char *fmt, ...)
{
    cf__task_ctx *ctx = cf__task_current;
    if (!ctx)
        return;
    char *msg = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
            msg = NULL;          /* out of memory: the task still fails, without its message */
        va_end(ap);
    }
    free(ctx->msg);
    ctx->msg = msg;
    ctx->err = err ? err : EINVAL;
}

CF_EXTERN bool cf_task_cancelled(void)
{
    cf__task_ctx *ctx = cf__task_current;
    if (!ctx)
        return false;
    if (ctx->also_cancel && atomic_load_explicit(ctx->also_cancel, memory_order_relaxed))
        return true;
    if (ctx->refresh)
        ctx->refresh(ctx->refresh_arg);
    if (ctx->cancel_seq && atomic_load_explicit(ctx->cancel_seq, memory_order_relaxed) == ctx->seq)
        return true;
    return ctx->future && atomic_load_explicit(&ctx->future->cancel_requested, memory_order_relaxed);
}
