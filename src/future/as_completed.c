/* as_completed.c: an iterator that yields futures as they become done, each distinct future once.
 *
 * Each distinct future gets a slot with a listener. Completion (in the completing thread, under
 * f->lock) appends the slot to the ready list under the iterator's monitor and signals it; next()
 * pops from that list, sleeping on the monitor while it is empty. Lock order: f->lock -> it->m.mu;
 * next() never touches a future's lock, and free() unlistens without holding the monitor. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "future.h"
#include "sync.h"

typedef struct slot {
    cf__listener     l;          /* first: notify gets &slot->l */
    cf_as_completed *it;
    cf_future       *f;
    struct slot     *next_ready;
} slot;

struct cf_as_completed {
    cf__monitor m;
    size_t      n, yielded;      /* distinct futures; how many next() has returned */
    slot       *ready, **ready_tail;
    slot       *slots;
};

static void make_ready(cf_as_completed *it, slot *s)   /* it->m.mu held */
{
    s->next_ready = NULL;
    *it->ready_tail = s;
    it->ready_tail = &s->next_ready;
}

static void on_done(cf__listener *l, cf_future *f)
{
    (void)f;
    slot *s = (slot *)l;
    cf_as_completed *it = s->it;
    pthread_mutex_lock(&it->m.mu);
    make_ready(it, s);
    cf__monitor_signal(&it->m);
    pthread_mutex_unlock(&it->m.mu);
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
    int r = cf__monitor_init(&it->m);
    if (r) {
        free(it->slots);
        free(it);
        free(sorted);
        errno = r;
        return NULL;
    }
    it->ready_tail = &it->ready;
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
        s->l.notify = on_done;
        if (!cf__future_listen(s->f, &s->l)) {
            pthread_mutex_lock(&it->m.mu);
            make_ready(it, s);
            pthread_mutex_unlock(&it->m.mu);
        }
    }
    free(sorted);
    return it;
}

CF_EXTERN int cf_as_completed_next(cf_as_completed *it, double timeout, cf_future **out)
{
    cf__deadline d;
    if (!it || cf__deadline_init(&d, timeout))
        return EINVAL;
    pthread_mutex_lock(&it->m.mu);
    int r = 0;
    for (;;) {
        if (it->ready) {
            slot *s = it->ready;
            if (!(it->ready = s->next_ready))
                it->ready_tail = &it->ready;
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
        r = cf__monitor_wait(&it->m, &d);   /* on ETIMEDOUT, look at the list one last time */
        if (r == ECANCELED)
            break;                          /* a cancelled coroutine: delivered, ready or not */
    }
    pthread_mutex_unlock(&it->m.mu);
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
    cf__monitor_destroy(&it->m);
    free(it->slots);
    free(it);
}
