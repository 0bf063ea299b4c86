/* SPDX-License-Identifier: MIT */
/* scope.c: deadline scopes (asyncio.timeout, Trio's move_on_after) and the deadline of every
 * wait the user asks for.
 *
 * Each parker (a thread, or a coroutine) keeps its open scopes as a stack, with the earliest of
 * their deadlines cached in scope_at; cf__wait_deadline cuts a wait's deadline to it, so every
 * wait of the library honours scopes without knowing about them, and work that never waits is
 * never interrupted. A coroutine's scopes are its own: one spawned inside a scope is not under
 * it (asyncio). Only the owner touches its stack, so nothing here is shared between threads but
 * the token counter.
 *
 * A scope "fired" when its deadline passed while it was open: cf_scope_exit compares the clock
 * with its own deadline, so an inner scope cut short by an outer deadline says false. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cfutures/sync.h"
#include "parker.h"

static atomic_int next_token = 1;

static int new_token(void)
{
    int t = atomic_fetch_add_explicit(&next_token, 1, memory_order_relaxed);
    if (t <= 0) {              /* wrapped after 2^31 scopes: start again at 1 */
        int expected = t + 1;
        atomic_compare_exchange_strong(&next_token, &expected, 2);
        t = 1;
    }
    return t;
}

static cf__scope *stack_of(cf__parker *p) { return p->scopes ? p->scopes : p->scope0; }

static void recompute(cf__parker *p)
{
    const cf__scope *v = stack_of(p);
    uint64_t at = UINT64_MAX;
    for (uint32_t i = 0; i < p->nscopes; i++)
        if (v[i].at < at)
            at = v[i].at;
    p->scope_at = at;
}

CF_EXTERN int cf_scope_enter(double seconds)
{
    if (isnan(seconds)) {
        errno = EINVAL;
        return -1;
    }
    cf__parker *p = cf__parker_self();
    uint32_t cap = p->scopes ? p->cap : 2;
    if (p->nscopes == cap) {
        cf__scope *v = malloc(2 * (size_t)cap * sizeof *v);
        if (!v) {
            errno = ENOMEM;
            return -1;
        }
        const cf__scope *old = stack_of(p);
        for (uint32_t i = 0; i < p->nscopes; i++)
            v[i] = old[i];
        free(p->scopes);
        p->scopes = v;
        p->cap = 2 * cap;
    }
    uint64_t at = UINT64_MAX;
    if (seconds >= 0) {
        cf__deadline d;
        cf__deadline_init(&d, seconds);
        at = d.poll ? cf__mono_ns() : cf__deadline_ns(&d);
    }
    cf__scope *s = &stack_of(p)[p->nscopes++];
    s->token = new_token();
    s->at = at;
    if (at < p->scope_at)
        p->scope_at = at;
    return s->token;
}

CF_EXTERN bool cf_scope_exit(int token)
{
    cf__parker *p = cf__parker_self();
    cf__scope *v = stack_of(p);
    uint32_t i = p->nscopes;
    while (i > 0 && v[i - 1].token != token)
        i--;
    if (i == 0 || token <= 0)
        return false;          /* not open here: nothing changes */
    bool fired = v[i - 1].at != UINT64_MAX && cf__mono_ns() >= v[i - 1].at;
    p->nscopes = i - 1;        /* and the inner ones left open */
    recompute(p);
    if (p->nscopes == 0 && p->scopes) {
        free(p->scopes);       /* a thread's parker lives as long as the thread: give it back */
        p->scopes = NULL;
        p->cap = 0;
    }
    return fired;
}

int cf__wait_deadline(cf__deadline *d, double timeout)
{
    int r = cf__deadline_init(d, timeout);
    if (r || d->poll)
        return r;              /* a poll polls, in a scope too */
    uint64_t at = cf__parker_self()->scope_at;
    if (at != UINT64_MAX && at < cf__deadline_ns(d)) {
        cf__deadline_at_ns(d, at);
        d->scoped = true;
    }
    return 0;
}
