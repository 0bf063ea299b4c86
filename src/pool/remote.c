/* SPDX-License-Identifier: MIT */
/* remote.c: the parts of a remote executor that do not depend on its transport (remote.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../future/task.h"
#include "executor.h"
#include "map.h"
#include "remote.h"

char *cf__remote_text(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

void *cf__remote_fn(const cf_future *f)
{
    switch (f->kind) {
    case CF__KIND_BYTES: return (void *)((const cf__bytes_job *)f->arg)->fn;
    case CF__KIND_FULL:  return (void *)((const cf__full_job *)f->arg)->fn;
    case CF__KIND_CHUNK: return (void *)((const cf__chunk *)f->arg)->job->fn;
    default:             return (void *)f->fn;
    }
}

uint32_t cf__remote_kind(const cf_future *f)
{
    return f->kind == CF__KIND_FULL ? CF__KIND_CALL : f->kind;
}

size_t cf__remote_items(const cf_future *f)
{
    return f->kind == CF__KIND_CHUNK ? ((const cf__chunk *)f->arg)->count : 1;
}

size_t cf__remote_task_size(const cf_future *f)
{
    if (f->kind == CF__KIND_BYTES)
        return cf__wire_task_size(((const cf__bytes_job *)f->arg)->len);
    return cf__wire_task_size(8 * cf__remote_items(f) * (f->kind == CF__KIND_CHUNK));
}

void cf__remote_encode(unsigned char *o, const cf_future *f, uint64_t seq, uint64_t fnword)
{
    cf__ptask t = { .seq = seq, .kind = cf__remote_kind(f), .fn = fnword,
                    .arg = (uint64_t)(uintptr_t)f->arg };
    const void *payload = NULL;
    size_t plen = 0;
    if (f->kind == CF__KIND_BYTES) {
        const cf__bytes_job *j = f->arg;
        t.arg = j->len;
        payload = j->data;
        plen = j->len;
    } else if (f->kind == CF__KIND_FULL) {
        t.arg = (uint64_t)(uintptr_t)((const cf__full_job *)f->arg)->arg;
    } else if (f->kind == CF__KIND_CHUNK) {
        /* The argument words go straight into the batch (no copy of the chunk's args). */
        const cf__chunk *c = f->arg;
        t.n = (uint32_t)c->count;
        plen = 8 * c->count;
        uint64_t *dst = (uint64_t *)(o + sizeof t);
        for (size_t i = 0; i < c->count; i++)
            dst[i] = (uint64_t)(uintptr_t)c->job->args[c->start + i];
        payload = dst;
    }
    cf__wire_put_task(o, &t, payload, plen);
}

int cf__remote_run(cf__wbuf *o, const cf__ptask *t, const unsigned char *payload,
                   const _Atomic uint64_t *cancel_seq, void (*refresh)(void *), void *arg)
{
    cf__task_ctx ctx;
    cf__task_ctx *prev = cf__task_enter(&ctx, NULL, NULL);
    ctx.cancel_seq = cancel_seq;
    ctx.refresh = refresh;
    ctx.refresh_arg = arg;
    ctx.seq = t->seq;
    int r;
    if (t->kind == CF__KIND_CALL) {
        void *v = ((cf_fn)(uintptr_t)t->fn)((void *)(uintptr_t)t->arg);
        cf__task_leave(prev);
        r = cf__wire_put_result(o, t->seq, CF__PR_RESULT, ctx.err, ctx.msg,
                                ctx.err ? 0 : (uint64_t)(uintptr_t)v, NULL, 0);
    } else if (t->kind == CF__KIND_BYTES) {
        cf_bytes b = cf__call_bytes((cf_bytes_fn)(uintptr_t)t->fn, payload, (size_t)t->arg);
        cf__task_leave(prev);
        r = cf__wire_put_result(o, t->seq, CF__PR_RESULT, ctx.err, ctx.msg, b.len, b.data, b.len);
        free(b.data);
    } else {                            /* CHUNK: map.c's loop; words are pointers (LP64) */
        void **res = malloc(t->n * sizeof *res + 1);
        size_t done = 0;
        if (!res)
            cf_task_fail(ENOMEM, "worker out of memory");
        else
            done = cf__run_items((cf_fn)(uintptr_t)t->fn, (void *const *)payload, res, t->n);
        cf__task_leave(prev);
        r = cf__wire_put_result(o, t->seq, CF__PR_RESULT, ctx.err, ctx.msg, done, res,
                                done * sizeof *res);
        free(res);
    }
    free(ctx.msg);
    return r;
}

int cf__remote_init(void (*fn)(void *), void *arg, char **msg)
{
    cf__task_ctx ctx;
    cf__task_ctx *prev = cf__task_enter(&ctx, NULL, NULL);
    fn(arg);
    cf__task_leave(prev);
    *msg = ctx.msg;
    return ctx.err;
}

int cf__remote_outcome(cf_future *f, const cf__wresult *r, char **msg, void **value, size_t *blen)
{
    int err = r->err;
    *value = NULL;
    *blen = 0;
    if (f->kind == CF__KIND_CALL || f->kind == CF__KIND_FULL) {
        *value = (void *)(uintptr_t)r->value;
    } else if (f->kind == CF__KIND_BYTES) {
        free(f->arg);                   /* the argument copy is not needed any more */
        f->arg = NULL;
        if (!err && r->value) {
            if (!(*value = malloc(r->value))) {
                err = ENOMEM;
                free(*msg);
                *msg = cf__remote_text("no memory for a %llu-byte result",
                                       (unsigned long long)r->value);
            } else {
                memcpy(*value, r->payload, r->value);
                *blen = r->value;
            }
        }
    } else {
        cf__chunk *c = f->arg;
        size_t done = (size_t)r->value;
        const unsigned char *words = r->payload;   /* 8-byte aligned in the message */
        if (c->count == 1) {
            if (done)
                memcpy(value, words, sizeof *value);
        } else {
            memcpy(c->job->res + c->start, words, done * sizeof(void *));
            if (err)
                c->failed_done = done;
            *value = (void *)(uintptr_t)done;
        }
    }
    if (err)
        *value = NULL;
    return err;
}
