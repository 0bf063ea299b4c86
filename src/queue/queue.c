/* SPDX-License-Identifier: MIT */
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

/* Every implementation waits through the caller's parker (wait/): a coroutine suspends and is
 * woken by the peer operation, a thread sleeps. */

CF_EXTERN int cf_queue_put(cf_queue *q, void *item, double timeout)
{
    cf__deadline d;
    if (!q || cf__wait_deadline(&d, timeout))
        return EINVAL;
    return q->ops->put(q, item, &d);
}

CF_EXTERN int cf_queue_get(cf_queue *q, double timeout, void **item)
{
    cf__deadline d;
    if (!q || cf__wait_deadline(&d, timeout))
        return EINVAL;
    return q->ops->get(q, &d, item);
}

CF_EXTERN size_t cf_queue_size(cf_queue *q) { return q ? q->ops->size(q) : 0; }

CF_EXTERN int cf_queue_task_done(cf_queue *q) { return q ? q->ops->task_done(q) : EINVAL; }

CF_EXTERN int cf_queue_join(cf_queue *q, double timeout)
{
    cf__deadline d;
    if (!q || cf__wait_deadline(&d, timeout))
        return EINVAL;
    return q->ops->join(q, &d);
}

CF_EXTERN int cf_queue_set_item_free(cf_queue *q, cf_free_fn item_free)
{
    if (!q)
        return EINVAL;
    q->item_free = item_free;
    return 0;
}

CF_EXTERN void cf_queue_shutdown(cf_queue *q, bool immediate)
{
    if (q)
        q->ops->shutdown(q, immediate);
}

CF_EXTERN void cf_queue_free(cf_queue *q)
{
    if (!q)
        return;
    if (q->item_free) {
        /* Nobody else is inside (free's rule): a poll takes what is left, shut down or not. An
         * immediate shutdown freed its drops already. */
        cf__deadline poll;
        cf__deadline_init(&poll, 0);
        void *item;
        while (q->ops->get(q, &poll, &item) == 0)
            q->item_free(item);
    }
    q->ops->destroy(q);
}
