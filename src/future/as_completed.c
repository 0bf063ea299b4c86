/* SPDX-License-Identifier: MIT */
/* as_completed.c: an iterator that yields futures as they become done, each distinct future once.
 *
 * Each distinct future gets a slot with a listener. Completion (in the completing thread, under
 * f->lock) appends the slot to the ready list under the iterator's lock and wakes whoever waits in
 * next(), which pops from that list and parks on the iterator's wait queue while it is empty.
 * Lock order: f->lock -> it->lk; next() never touches a future's lock, and free() unlistens
 * without holding it->lk. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "future.h"
#include "../wait/parker.h"

typedef struct slot {
    cf__waiter       l;          /* on the future */
    cf_as_completed *it;
    cf_future       *f;
    cf__list         ready_link; /* in it->ready once done */
} slot;

struct cf_as_completed {
    cf__lock    lk;
    cf__waitq   q;               /* a caller of next(), parked */
    size_t      n, yielded;      /* distinct futures; how many next() has returned */
    cf__list    ready;           /* done, not yet yielded, in completion order */
    slot       *slots;
};

static void make_ready(cf_as_completed *it, slot *s)   /* it->lk held */
{
    cf__list_push_back(&it->ready, &s->ready_link);
}

static bool on_done(cf__waiter *l, int reason)
{
    (void)reason;
    slot *s = cf__container_of(l, slot, l);
    cf_as_completed *it = s->it;
    cf__lock_acquire(&it->lk);
    make_ready(it, s);
    cf__waitq_wake_all(&it->q, 0);
    cf__lock_release(&it->lk);
    return true;
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (cf_future *const *)a, y = (uintptr_t) * (cf_future *const *)b;
    return (x > y) - (x < y);
}

CF_EXTERN cf_as_completed *cf_as_completed_new(cf_future *const *fs, size_t n)
{
    if (n > 0 && !fs) {
        errno = EINVAL;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!fs[i]) {
            errno = EINVAL;
            return NULL;
        }
    cf_as_completed *it = calloc(1, sizeof *it);
    cf_future **sorted = n ? malloc(n * sizeof *sorted) : NULL;
    if (!it || (n && !sorted) || (n && !(it->slots = calloc(n, sizeof *it->slots)))) {
        if (it)
            free(it->slots);
        free(it);
        free(sorted);
        errno = ENOMEM;
        return NULL;
    }
    cf__lock_init(&it->lk);
    cf__waitq_init(&it->q);
    cf__list_init(&it->ready);
    /* Deduplicate: yield order is by completion, so sorting by address loses nothing. */
    for (size_t i = 0; i < n; i++)
        sorted[i] = fs[i];
    if (n)
        qsort(sorted, n, sizeof *sorted, by_address);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && sorted[i] == sorted[i - 1])
            continue;
        slot *s = &it->slots[it->n++];
        s->it = it;
        s->f = cf_future_ref(sorted[i]);
        cf__waiter_init(&s->l, NULL);
        s->l.func = on_done;
        if (!cf__future_listen(s->f, &s->l)) {
            cf__lock_acquire(&it->lk);
            make_ready(it, s);
            cf__lock_release(&it->lk);
        }
    }
    free(sorted);
    return it;
}

CF_EXTERN int cf_as_completed_next(cf_as_completed *it, double timeout, cf_future **out)
{
    cf__deadline d;
    if (!it || cf__wait_deadline(&d, timeout))
        return EINVAL;
    cf__waiter me;
    cf__waiter_init(&me, cf__parker_self());
    cf__lock_acquire(&it->lk);
    int r = 0;
    for (;;) {
        if (!cf__list_empty(&it->ready)) {
            slot *s = cf__container_of(cf__list_pop_front(&it->ready), slot, ready_link);
            it->yielded++;
            if (out)
                *out = s->f;
            r = 0;
            break;
        }
        if (it->yielded == it->n) {
            r = ENOENT;
            break;
        }
        if (r == ETIMEDOUT)
            break;
        /* on ETIMEDOUT, look at the list one last time */
        r = cf__waitq_sleep(&it->q, &me, &it->lk, &d, true, CF__PARK_SOON);
        if (r == ECANCELED)
            break;                          /* a cancelled coroutine: delivered, ready or not */
    }
    cf__lock_release(&it->lk);
    return r;
}

CF_EXTERN void cf_as_completed_free(cf_as_completed *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < it->n; i++) {
        cf__future_unlisten(it->slots[i].f, &it->slots[i].l);
        cf_future_unref(it->slots[i].f);
    }
    free(it->slots);
    free(it);
}
