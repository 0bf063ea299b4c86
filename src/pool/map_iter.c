/* SPDX-License-Identifier: MIT */
/* map_iter.c: cf_map_iter, the lazy, ordered map (Python 3.14's Executor.map with buffersize).
 *
 * A ring of `window` slots holds the futures of items [next_yield, next_submit): submitted in
 * argument order, at most window of them not yet yielded. Each yield frees a slot, which the next
 * item's submit takes, so memory and work in flight stay bounded however long args is. A slot
 * whose submit failed holds NULL and the submit's errno, which cf_map_next reports at that
 * item's turn, in order, like a task's error. The last yielded future is kept until the next call,
 * so the message handed out lives that long. Single-consumer: one thread or coroutine iterates. */
#include <errno.h>
#include <stdlib.h>

#include "cfutures/errors.h"
#include "cfutures/executor.h"
#include "cfutures/future.h"

struct cf_map_iter {
    cf_executor  *ex;
    cf_fn         fn;
    void *const  *args;
    size_t        n, window;
    size_t        next_submit, next_yield;
    cf_future    *last;        /* the future yielded last (its message is out) */
    cf_future   **ring;        /* window slots */
    int          *serr;        /* the submit error of a NULL slot */
};

static void refill(cf_map_iter *it)
{
    while (it->next_submit < it->n && it->next_submit - it->next_yield < it->window) {
        size_t slot = it->next_submit % it->window;
        it->ring[slot] = cf_submit(it->ex, it->fn, it->args[it->next_submit]);
        it->serr[slot] = it->ring[slot] ? 0 : errno;
        it->next_submit++;
    }
}

CF_EXTERN cf_map_iter *cf_map_iter_new(cf_executor *ex, cf_fn fn, void *const *args, size_t n,
                                       size_t buffersize)
{
    if (!ex || !fn || (n && !args)) {
        errno = EINVAL;
        return NULL;
    }
    size_t window = buffersize && buffersize < n ? buffersize : n ? n : 1;
    cf_map_iter *it = malloc(sizeof *it);
    cf_future **ring = calloc(window, sizeof *ring);
    int *serr = calloc(window, sizeof *serr);
    if (!it || !ring || !serr) {
        free(it);
        free(ring);
        free(serr);
        errno = ENOMEM;
        return NULL;
    }
    *it = (cf_map_iter){ .ex = ex, .fn = fn, .args = args, .n = n, .window = window,
                         .ring = ring, .serr = serr };
    refill(it);
    return it;
}

CF_EXTERN int cf_map_next(cf_map_iter *it, double timeout, void **result, const char **msg)
{
    if (!it || timeout != timeout)
        return EINVAL;
    if (it->next_yield == it->n)
        return ENOENT;
    size_t slot = it->next_yield % it->window;
    cf_future *f = it->ring[slot];
    int r;
    void *v = NULL;
    const char *m = NULL;
    if (!f) {
        r = it->serr[slot];
        m = cf_strerror(r);
    } else {
        r = cf_future_result(f, timeout, &v);
        /* Not this item's outcome: the wait ran out, or the calling coroutine was cancelled
         * (the future itself is still not done). The item stays next. */
        if (r == ETIMEDOUT || (r == ECANCELED && !cf_future_done(f)))
            return r;
        if (r)
            cf_future_error(f, 0, &m);
    }
    cf_future_unref(it->last);
    it->last = f;
    it->ring[slot] = NULL;
    it->next_yield++;
    refill(it);
    if (result)
        *result = r ? NULL : v;
    if (msg)
        *msg = m;
    return r;
}

CF_EXTERN void cf_map_iter_free(cf_map_iter *it)
{
    if (!it)
        return;
    for (size_t i = it->next_yield; i < it->next_submit; i++) {
        cf_future *f = it->ring[i % it->window];
        cf_future_cancel(f);     /* what has not started will not; running tasks finish */
        cf_future_unref(f);
    }
    cf_future_unref(it->last);
    free(it->ring);
    free(it->serr);
    free(it);
}
