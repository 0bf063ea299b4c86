/* queue.c: the public cf_queue calls: argument checks, then the implementation's vtable. */
#include <errno.h>

#include "../wait/parker.h"
#include "queue.h"
#include "queue_store.h"

CF_EXTERN cf_queue *cf_queue_new(size_t maxsize)
{
    if (maxsize > 0 && maxsize <= CF__RING_MAX)
        return cf__queue_ring_new(maxsize);
    return cf__queue_locked_new(CF__FIFO, maxsize, NULL);
}

CF_EXTERN cf_queue *cf_queue_new_lifo(size_t maxsize)
{
    return cf__queue_locked_new(CF__LIFO, maxsize, NULL);
}

CF_EXTERN cf_queue *cf_queue_new_priority(size_t maxsize, cf_cmp_fn cmp)
{
    if (!cmp) {
        errno = EINVAL;
        return NULL;
    }
    return cf__queue_locked_new(CF__PRIO, maxsize, cmp);
}

/* In a coroutine, a call that would sleep on the queue's futex instead retries with timeout 0
 * and naps the coroutine in between (cf__wait_retry): the loop keeps running its other
 * coroutines, which may be the ones to put or get. */
static const cf__deadline poll_now = { .poll = true };

typedef struct attempt_args {
    cf_queue *q;
    void     *item;
    void    **out;
} attempt_args;

static int put_once(void *ctx)
{
    attempt_args *a = ctx;
    return a->q->ops->put(a->q, a->item, &poll_now);
}

static int get_once(void *ctx)
{
    attempt_args *a = ctx;
    return a->q->ops->get(a->q, &poll_now, a->out);
}

static int join_once(void *ctx)
{
    attempt_args *a = ctx;
    int r = a->q->ops->join(a->q, &poll_now);
    return r == ETIMEDOUT ? EAGAIN : r;
}

CF_EXTERN int cf_queue_put(cf_queue *q, void *item, double timeout)
{
    cf__deadline d;
    if (!q || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (!d.poll && cf__in_coroutine())
        return cf__wait_retry(&d, put_once, &(attempt_args){ q, item, NULL });
    return q->ops->put(q, item, &d);
}

CF_EXTERN int cf_queue_get(cf_queue *q, double timeout, void **item)
{
    cf__deadline d;
    if (!q || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (!d.poll && cf__in_coroutine())
        return cf__wait_retry(&d, get_once, &(attempt_args){ q, NULL, item });
    return q->ops->get(q, &d, item);
}

CF_EXTERN size_t cf_queue_size(cf_queue *q) { return q ? q->ops->size(q) : 0; }

CF_EXTERN int cf_queue_task_done(cf_queue *q) { return q ? q->ops->task_done(q) : EINVAL; }

CF_EXTERN int cf_queue_join(cf_queue *q, double timeout)
{
    cf__deadline d;
    if (!q || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (!d.poll && cf__in_coroutine())
        return cf__wait_retry(&d, join_once, &(attempt_args){ q, NULL, NULL });
    return q->ops->join(q, &d);
}

CF_EXTERN void cf_queue_shutdown(cf_queue *q, bool immediate)
{
    if (q)
        q->ops->shutdown(q, immediate);
}

CF_EXTERN void cf_queue_free(cf_queue *q)
{
    if (q)
        q->ops->destroy(q);
}
