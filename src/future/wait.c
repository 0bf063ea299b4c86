/* SPDX-License-Identifier: MIT */
/* wait.c: cf_wait, Python's concurrent.futures.wait over an array of futures.
 * ALL_COMPLETED waits on each future in turn (no allocation, no listener). The FIRST_* modes hang
 * a listener on every pending future and park the caller on the waiter's own wait queue;
 * completions count themselves in under the waiter's lock and wake it, so nothing polls.
 * Listeners are removed before return: cf__future_unlisten waits out a wake in progress, so the
 * stack frame may then go. Lock order: f->lock -> the waiter's lock. */
#include <errno.h>
#include <stdlib.h>

#include "future.h"
#include "../wait/parker.h"

#define CF__WAIT_STACK 32

typedef struct waiter {
    cf__lock  lk;
    cf__waitq q;          /* the caller, parked */
    size_t    done;       /* entries of fs that are done */
    bool      failed;     /* one finished with an error (cancelled is not an error here) */
} waiter;

typedef struct slot {
    cf__waiter l;         /* on the future */
    waiter    *w;
    cf_future *f;
} slot;

static bool failed_now(cf_future *f)
{
    return cf_future_state(f) == CF_FINISHED && f->err != 0;
}

static bool satisfied(const waiter *w, size_t n, cf_return_when when)
{
    if (w->done == n)
        return true;
    if (when == CF_FIRST_COMPLETED)
        return w->done > 0;
    return when == CF_FIRST_EXCEPTION && w->failed;
}

static void count_done(waiter *w, cf_future *f)
{
    w->done++;
    if (failed_now(f))
        w->failed = true;
}

static bool on_done(cf__waiter *l, int reason)
{
    (void)reason;
    slot *s = cf__container_of(l, slot, l);
    waiter *w = s->w;
    cf__lock_acquire(&w->lk);
    count_done(w, s->f);
    cf__waitq_wake_all(&w->q, 0);
    cf__lock_release(&w->lk);
    return true;
}

static int wait_all(cf_future *const *fs, size_t n, const cf__deadline *d)
{
    for (size_t i = 0; i < n; i++) {
        int r = cf__future_wait(fs[i], d);
        if (r)
            return r;   /* ETIMEDOUT, or ECANCELED in a cancelled coroutine */
    }
    return 0;
}

static int wait_first(cf_future *const *fs, size_t n, const cf__deadline *d, cf_return_when when)
{
    waiter w = { .done = 0, .failed = false };
    for (size_t i = 0; i < n; i++)
        if (cf_future_done(fs[i]))
            count_done(&w, fs[i]);
    if (satisfied(&w, n, when))
        return 0;
    if (d->poll)
        return ETIMEDOUT;

    slot stack[CF__WAIT_STACK];
    slot *slots = n <= CF__WAIT_STACK ? stack : malloc(n * sizeof *slots);
    if (!slots)
        return ENOMEM;
    cf__lock_init(&w.lk);
    cf__waitq_init(&w.q);
    w.done = 0;
    w.failed = false;
    cf__lock_acquire(&w.lk);
    for (size_t i = 0; i < n; i++) {
        slots[i].w = &w;
        slots[i].f = fs[i];
        cf__waiter_init(&slots[i].l, NULL);
        slots[i].l.func = on_done;
        cf__lock_release(&w.lk);     /* lock order: never hold the waiter's lock into f->lock */
        bool listening = cf__future_listen(fs[i], &slots[i].l);
        cf__lock_acquire(&w.lk);
        if (!listening)
            count_done(&w, fs[i]);
    }
    int r = 0;
    cf__waiter me;
    cf__waiter_init(&me, cf__parker_self());
    while (!satisfied(&w, n, when) && r == 0)
        r = cf__waitq_sleep(&w.q, &me, &w.lk, d, true, CF__PARK_SOON);
    if (r == ETIMEDOUT && satisfied(&w, n, when))
        r = 0;          /* but ECANCELED (a cancelled coroutine) is delivered, satisfied or not */
    cf__lock_release(&w.lk);

    for (size_t i = 0; i < n; i++)
        cf__future_unlisten(fs[i], &slots[i].l);
    if (slots != stack)
        free(slots);
    return r;
}

CF_EXTERN int cf_wait(cf_future *const *fs, size_t n, double timeout, cf_return_when when)
{
    cf__deadline d;
    if ((n > 0 && !fs) || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (when != CF_FIRST_COMPLETED && when != CF_FIRST_EXCEPTION && when != CF_ALL_COMPLETED)
        return EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!fs[i])
            return EINVAL;
    if (n == 0)
        return 0;
    if (when == CF_ALL_COMPLETED)
        return wait_all(fs, n, &d);
    return wait_first(fs, n, &d, when);
}
