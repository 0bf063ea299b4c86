/* SPDX-License-Identifier: MIT */
/* coro.c: a coroutine's life (spawn, first run, switches, finish), waking and parking, and the
 * hook that cancels a running coroutine.
 *
 * Design notes.
 * - A coroutine's future is PENDING while it waits for its first run; the loop moves it to
 *   RUNNING (cf__future_set_running) right before, so a cancel that wins that race means it never
 *   runs. It stays RUNNING while suspended and is completed by the loop after the coroutine
 *   returned, on the loop's stack (done-callbacks then never run on a stack about to be reused).
 * - Cancelling a RUNNING coroutine (the owner hook, under the future's lock) records
 *   cancel_accepted and cancels its parker (a cancel pending, and its wait ended if it waits in
 *   a cancellable one). The decision
 *   "cancelled or finished" is taken under the same lock when the coroutine has returned
 *   (finishing), so cf_future_cancel returns true exactly when the future will end CANCELLED.
 * - Waits go through the coroutine's parker (wait/parker.h), installed as the thread's current
 *   one while the coroutine runs: suspending is switching out (with a timer for a deadline), and
 *   the one wake that wins queues it on its loop (the ready list from the loop's own thread, the
 *   remote list from any other).
 * - Each coroutine has its own task context (task.h), swapped in and out with it, so
 *   cf_task_cancelled and cf_task_fail speak of the coroutine running now.
 * - Switching out goes to the next ready coroutine directly when the loop allows it
 *   (cf__loop_next_direct), else to the scheduler. Whoever switches sets cf__parker_cur and
 *   the task context for the coroutine it enters, so the scheduler, when it gets the thread back,
 *   finds out from cf__parker_cur which coroutine gave it back (maybe not the one it resumed).
 *   A finished coroutine always goes back to the scheduler: its stack can only be released from
 *   another one.
 * - Sanitizers: every switch is announced (fiber_san.h). The scheduler's stack bounds, which
 *   AddressSanitizer needs for switches back to it, are learned only on entries from the
 *   scheduler (from_sched), since a run may happen on another thread each time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fiber_san.h"
#include "loop.h"

/* ---- allocation ----
 * Coroutines spawned on the loop's own thread come from the loop's slabs (SLAB at a time) and go
 * back to its free list: no malloc, no free per coroutine. A spawn from another thread uses
 * calloc (the free list is the loop thread's alone). Slabs are freed with the loop. */

#define SLAB 256

typedef struct coro_slab {
    struct coro_slab *next;
    cf__coro          co[SLAB];
} coro_slab;

static cf__coro *coro_alloc(cf_loop *loop)
{
    if (cf__loop_running != loop) {
        cf__coro *co = calloc(1, sizeof *co);
        if (co)
            co->heap = true;
        return co;
    }
    if (cf__list_empty(&loop->co_free)) {
        coro_slab *s = malloc(sizeof *s);
        if (!s)
            return NULL;
        s->next = loop->slabs;
        loop->slabs = s;
        for (int i = 0; i < SLAB; i++)
            cf__list_push_back(&loop->co_free, &s->co[i].qlink);
    }
    cf__coro *co = cf__coro_of(cf__list_pop_front(&loop->co_free));
    memset(co, 0, sizeof *co);
    return co;
}

static void coro_release(cf_loop *loop, cf__coro *co)
{
    if (co->heap) {
        free(co);
        return;
    }
    cf__list_push_front(&loop->co_free, &co->qlink);
}

void cf__coro_slabs_free(cf_loop *loop)
{
    for (coro_slab *s = loop->slabs, *next; s; s = next) {
        next = s->next;
        free(s);
    }
    loop->slabs = NULL;
    cf__list_init(&loop->co_free);
}

/* ---- spawn ---- */

static const cf__parker_ops coro_ops;

CF_EXTERN cf_future *cf_loop_spawn(cf_loop *loop, cf_fn fn, void *arg)
{
    if (!loop || !fn) {
        errno = EINVAL;
        return NULL;
    }
    cf__coro *co = coro_alloc(loop);
    cf_future *f = co ? cf__future_alloc() : NULL;
    if (!f) {
        if (co)
            coro_release(loop, co);
        errno = ENOMEM;
        return NULL;
    }
    f->owner = &loop->owner;
    f->xtag = (uintptr_t)co;
    cf__list_init(&co->qlink);
    cf__list_init(&co->all_link);
    cf__parker_init(&co->parker, &coro_ops);
    co->parker.own = f;
    co->loop = loop;
    co->fn = fn;
    co->arg = arg;
    co->future = cf_future_ref(f);    /* the loop's; the caller keeps the first */
    atomic_fetch_add_explicit(&loop->live, 1, memory_order_relaxed);
    cf__loop_make_ready(loop, co);
    return f;
}

/* ---- the coroutine's side ---- */

static void check_stack(cf__coro *co)
{
    if (cf__stack_smashed(&co->stack)) {
        fprintf(stderr, "cfutures: coroutine stack overflow (an unguarded stack's canary at %p "
                        "was overwritten); aborting\n", co->stack.lo);
        abort();
    }
}

/* After a switch into co: finish the sanitizer's switch. Only a switch from the scheduler tells
 * where the scheduler's stack is (it may be another thread's each run). */
static void entered(cf__coro *co, void *fake)
{
    cf_loop *loop = co->loop;
    const void *bottom = loop->sched_bottom;
    size_t size = loop->sched_size;
    cf__san_finish(fake, &bottom, &size);
    if (loop->from_sched) {
        loop->sched_bottom = bottom;
        loop->sched_size = size;
    }
}

static void coro_main(void *p)
{
    cf__coro *co = p;
    entered(co, NULL);   /* a coroutine's first entry is always from the scheduler */
    co->result = co->fn(co->arg);
    co->done = true;
    cf__coro_switch_out(co, true);
}

void cf__coro_switch_out(cf__coro *co, bool done)
{
    cf_loop *loop = co->loop;
    cf__coro *next = done ? NULL : cf__loop_next_direct(loop);
    if (next == co)
        return;   /* it is the next ready coroutine itself (a lone cf_yield): carry on */
    if (next) {
        check_stack(co);
        cf__parker_cur = &next->parker;
        cf__task_swap(&next->task);
        loop->from_sched = false;
        cf__san_start(&co->asan_fake, next->stack.lo, loop->stacks.size);
        cf__tsan_switch(next->tsan_fiber);
        cf__ctx_switch(&co->ctx, &next->ctx);
    } else {
        cf__san_start(done ? NULL : &co->asan_fake, loop->sched_bottom, loop->sched_size);
        cf__tsan_switch(loop->tsan_sched);
        cf__ctx_switch(&co->ctx, &loop->sched);
    }
    entered(co, co->asan_fake);   /* resumed, by the scheduler or by another coroutine */
}

/* ---- the loop's side ---- */

static void drop(cf_loop *loop, cf__coro *co)
{
    cf_future_unref(co->future);
    coro_release(loop, co);
    atomic_fetch_sub_explicit(&loop->live, 1, memory_order_release);
}

static bool start(cf_loop *loop, cf__coro *co)
{
    if (!cf__future_set_running(co->future)) {   /* cancelled (or completed) before it ran */
        drop(loop, co);
        return false;
    }
    if (cf__timer_reserve(&loop->timers, loop->nstarted + 1) != 0 ||
        cf__stack_get(&loop->stacks, &co->stack) != 0) {
        cf__future_complete_owner(co->future, CF_FINISHED, ENOMEM, NULL,
                                  NULL, 0);
        drop(loop, co);
        return false;
    }
    co->started = true;
    loop->nstarted++;
    cf__ctx_make(&co->ctx, co->stack.lo, loop->stacks.size, coro_main, co);
    cf__task_leave(cf__task_enter(&co->task, co->future, NULL));   /* fresh err/msg */
    co->tsan_fiber = cf__tsan_create();
    cf__list_push_front(&loop->all, &co->all_link);
    return true;
}

static void finish(cf_loop *loop, cf__coro *co)
{
    cf__list_remove(&co->all_link);
    cf__stack_put(&loop->stacks, co->stack);
    cf__tsan_destroy(co->tsan_fiber);
    cf__parker_destroy(&co->parker);   /* scopes it left open */
    loop->nstarted--;

    cf_future *f = co->future;
    cf__lock_acquire(&f->lock);
    co->finishing = true;               /* from here on, cancel says false */
    bool cancelled = co->cancel_accepted;
    cf__lock_release(&f->lock);
    if (cancelled) {
        free(co->task.msg);
        cf__future_complete_owner(f, CF_CANCELLED, ECANCELED, NULL, NULL, 0);
    } else if (co->task.err) {
        cf__future_complete_owner(f, CF_FINISHED, co->task.err, NULL, co->task.msg, 0);
    } else {
        cf__future_complete_owner(f, CF_FINISHED, 0, co->result, NULL, 0);
    }
    drop(loop, co);
}

void cf__loop_resume(cf_loop *loop, cf__coro *co)
{
    if (!co->started && !start(loop, co))
        return;
    cf__parker_cur = &co->parker;
    cf__task_ctx *outer = cf__task_swap(&co->task);
    loop->from_sched = true;
    cf__san_start(&loop->sched_fake, co->stack.lo, loop->stacks.size);
    cf__tsan_switch(co->tsan_fiber);
    cf__ctx_switch(&loop->sched, &co->ctx);
    cf__san_finish(loop->sched_fake, NULL, NULL);
    /* Back from co, or from a coroutine co handed over to (directly or along a chain). */
    cf__coro *back = cf__coro_self();
    cf__task_swap(outer);
    cf__parker_cur = NULL;
    check_stack(back);
    if (back->done)
        finish(loop, back);
}

/* ---- the coroutine's parker ---- */

static void coro_suspend(cf__parker *p, const cf__deadline *d, unsigned flags)
{
    cf__coro *co = cf__container_of(p, cf__coro, parker);
    cf_loop *loop = co->loop;
    if (d && !d->forever) {
        co->timer.at = cf__deadline_ns(d);
        cf__timer_add(&loop->timers, &co->timer);   /* reserved when co started */
    }
    bool soon = flags & CF__PARK_SOON;
    loop->future_waits += soon;
    cf__coro_switch_out(co, false);
    loop->future_waits -= soon;
    cf__timer_remove(&loop->timers, &co->timer);
}

static void coro_resume(cf__parker *p)
{
    cf__coro *co = cf__container_of(p, cf__coro, parker);
    cf__loop_make_ready(co->loop, co);
}

static const cf__parker_ops coro_ops = {
    .suspend = coro_suspend,
    .resume = coro_resume,
    .wait_fds = cf__coro_wait_fds,
    .wait_watch = cf__coro_wait_watch,
};

/* ---- the owner hooks ---- */

static void left_pending(cf__owner *o, cf_future *f, cf_state to, int err)
{
    (void)o, (void)f, (void)to, (void)err;   /* the loop drops it when it comes up (start) */
}

static bool cancel_running(cf__owner *o, cf_future *f)
{
    (void)o;
    cf__coro *co = (cf__coro *)(uintptr_t)f->xtag;
    if (co->finishing)
        return false;
    co->cancel_accepted = true;
    cf__parker_cancel(&co->parker);
    return true;
}

void cf__coro_owner_init(cf__owner *o)
{
    o->left_pending = left_pending;
    o->may_cancel = NULL;
    o->cancel_running = cancel_running;
}
