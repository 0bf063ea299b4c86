/* SPDX-License-Identifier: MIT */
/* task_group.c: cf_task_group, structured concurrency over any executor (asyncio.TaskGroup,
 * Trio's nursery): members are futures of coroutines, pool tasks or anything else, and the first
 * one to fail cancels the rest.
 *
 * Design notes.
 * - Members are nodes on an append-only list, each holding a reference to its future, freed
 *   only with the group: whoever walks the list may let go of lk between nodes (to cancel a
 *   future, which may run done-callbacks, ours included) and pick up at node->next.
 * - A member's done-callback counts it out (pending) and records the first failure (finished
 *   with an error; CF_CANCELLED is no failure). The first failure closes the group (no more
 *   members: ESHUTDOWN) and its callback walks the list cancelling the others, outside lk (a
 *   future's lock is never taken under lk: lock order future -> lk, as callbacks run).
 * - The group is settled when no member is pending and no walk is under way; waiters park on q
 *   until then (the last callback or walk to finish wakes them). Being settled is also what
 *   makes freeing safe: no callback or walk touches the group afterwards.
 * - A waiting coroutine that is cancelled closes the group, cancels the members and waits for
 *   them (uncut), then returns ECANCELED; free does the same without a result. */
#include <errno.h>
#include <stdlib.h>

#include "cfutures/executor.h"
#include "cfutures/loop.h"
#include "cfutures/sync.h"
#include "../future/future.h"
#include "../wait/waitq.h"

typedef struct member {
    cf__list       link;
    cf_future     *f;        /* the group's reference */
    cf_task_group *g;
} member;

struct cf_task_group {
    cf__lock  lk;
    cf__list  members;
    cf__waitq q;             /* cf_task_group_wait and free, parked */
    size_t    pending;       /* members whose callback has not run */
    size_t    walks;         /* cancel walks under way */
    int       first_err;     /* the first failure's error, 0 if none */
    bool      closed;        /* failed, cancelled or being freed: no more members */
};

static bool settled(const cf_task_group *g) { return g->pending == 0 && g->walks == 0; }

/* With lk held: wakes the waiters if the group is settled. */
static void maybe_settled(cf_task_group *g)
{
    if (settled(g))
        cf__waitq_wake_all(&g->q, 0);
}

/* Cancels every member not done yet; called without lk, once the group is closed (so the list
 * no longer grows). */
static void cancel_members(cf_task_group *g)
{
    cf__lock_acquire(&g->lk);
    g->walks++;
    for (cf__list *n = g->members.next; n != &g->members; n = n->next) {
        cf_future *f = cf__container_of(n, member, link)->f;
        cf__lock_release(&g->lk);
        if (!cf_future_done(f))
            cf_future_cancel(f);
        cf__lock_acquire(&g->lk);
    }
    g->walks--;
    maybe_settled(g);
    cf__lock_release(&g->lk);
}

static void member_done(cf_future *f, void *arg)
{
    member *m = arg;
    cf_task_group *g = m->g;
    bool failed = cf_future_state(f) == CF_FINISHED && f->err != 0;
    cf__lock_acquire(&g->lk);
    bool first = failed && g->first_err == 0 && !g->closed;
    if (failed && g->first_err == 0)
        g->first_err = f->err;
    if (first) {
        g->closed = true;
        g->walks++;          /* settled only after the walk below */
    }
    g->pending--;
    maybe_settled(g);
    cf__lock_release(&g->lk);
    if (first) {
        cancel_members(g);
        cf__lock_acquire(&g->lk);
        g->walks--;
        maybe_settled(g);
        cf__lock_release(&g->lk);
    }
}

CF_EXTERN cf_task_group *cf_task_group_new(void)
{
    cf_task_group *g = calloc(1, sizeof *g);
    if (!g) {
        errno = ENOMEM;
        return NULL;
    }
    cf__lock_init(&g->lk);
    cf__list_init(&g->members);
    cf__waitq_init(&g->q);
    return g;
}

CF_EXTERN int cf_task_group_add(cf_task_group *g, cf_future *f)
{
    if (!g || !f)
        return EINVAL;
    member *m = malloc(sizeof *m);
    if (!m)
        return ENOMEM;
    m->f = cf_future_ref(f);
    m->g = g;
    cf__lock_acquire(&g->lk);
    if (g->closed) {
        cf__lock_release(&g->lk);
        cf_future_unref(f);
        free(m);
        return ESHUTDOWN;
    }
    cf__list_push_back(&g->members, &m->link);
    g->pending++;
    cf__lock_release(&g->lk);
    /* May run member_done at once (f is done). Only a second callback on f allocates. */
    if (cf_future_add_done_callback(f, member_done, m) != 0) {
        cf__lock_acquire(&g->lk);
        g->pending--;        /* it stays listed (walks never lose their place), uncounted */
        maybe_settled(g);
        cf__lock_release(&g->lk);
        return ENOMEM;
    }
    return 0;
}

static bool is_closed(cf_task_group *g)
{
    cf__lock_acquire(&g->lk);
    bool closed = g->closed;
    cf__lock_release(&g->lk);
    return closed;
}

/* A member future made for the group (a spawn, a submit) joins it, or is cancelled and dropped. */
static cf_future *join(cf_task_group *g, cf_future *f)
{
    if (!f)
        return NULL;         /* errno from the spawn or submit */
    int r = cf_task_group_add(g, f);
    if (r) {
        cf_future_cancel(f); /* never started, if it can be helped */
        cf_future_unref(f);
        errno = r;
        return NULL;
    }
    return f;
}

CF_EXTERN cf_future *cf_task_group_spawn(cf_task_group *g, cf_loop *loop, cf_fn fn, void *arg)
{
    if (!loop)
        loop = cf_loop_current();
    if (!g || !fn || !loop) {
        errno = EINVAL;
        return NULL;
    }
    if (is_closed(g)) {
        errno = ESHUTDOWN;
        return NULL;
    }
    return join(g, cf_loop_spawn(loop, fn, arg));
}

CF_EXTERN cf_future *cf_task_group_submit(cf_task_group *g, cf_executor *ex, cf_fn fn, void *arg)
{
    if (!g) {
        errno = EINVAL;
        return NULL;
    }
    if (is_closed(g)) {
        errno = ESHUTDOWN;
        return NULL;
    }
    return join(g, cf_submit(ex, fn, arg));
}

/* With lk held: parks until the group is settled, whatever it takes. */
static void wait_settled_uncut(cf_task_group *g, cf__parker *me)
{
    cf__waiter w;
    cf__waiter_init(&w, me);
    while (!settled(g))
        cf__waitq_sleep(&g->q, &w, &g->lk, &cf__forever, false, 0);
}

/* Closes the group, cancels what is left and waits for it; with lk held on entry and exit. */
static void close_and_drain(cf_task_group *g, cf__parker *me)
{
    g->closed = true;
    cf__lock_release(&g->lk);
    cancel_members(g);
    cf__lock_acquire(&g->lk);
    wait_settled_uncut(g, me);
}

CF_EXTERN int cf_task_group_wait(cf_task_group *g, double timeout)
{
    cf__deadline d;
    if (!g || cf__wait_deadline(&d, timeout))
        return EINVAL;
    cf__parker *me = cf__parker_self();
    cf__waiter w;
    cf__waiter_init(&w, me);
    cf__lock_acquire(&g->lk);
    int r = cf__parker_take_cancel(me) ? ECANCELED : 0;
    while (!r && !settled(g))
        r = d.poll ? ETIMEDOUT : cf__waitq_sleep(&g->q, &w, &g->lk, &d, true, 0);
    if (r == ECANCELED)
        close_and_drain(g, me);       /* asyncio: the members are cancelled with the waiter */
    else if (r == ETIMEDOUT && settled(g))
        r = 0;
    if (!r)
        r = g->first_err;
    cf__lock_release(&g->lk);
    return r;
}

CF_EXTERN void cf_task_group_free(cf_task_group *g)
{
    if (!g)
        return;
    cf__lock_acquire(&g->lk);
    close_and_drain(g, cf__parker_self());
    cf__lock_release(&g->lk);
    cf__list *n, *tmp;
    cf__list_each(n, tmp, &g->members) {
        member *m = cf__container_of(n, member, link);
        cf_future_unref(m->f);
        free(m);
    }
    free(g);
}
