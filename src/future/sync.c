/* sync.c: the monitor used by multi-future waiters; timed waits use absolute CLOCK_MONOTONIC.
 * A coroutine never sleeps in pthread_cond_wait (that would block its whole loop): it parks,
 * with a node on the monitor that cf__monitor_signal wakes. The node lives on the coroutine's
 * stack and is unlinked under mu before the wait returns. */
#include <errno.h>

#include "../loop/park.h"
#include "sync.h"

struct cf__monitor_coro {
    cf__monitor_coro *next;
    cf__coro         *co;
};

int cf__monitor_init(cf__monitor *m)
{
    m->coros = NULL;
    pthread_condattr_t a;
    int r = pthread_condattr_init(&a);
    if (r)
        return r;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    r = pthread_cond_init(&m->cv, &a);
    pthread_condattr_destroy(&a);
    if (r)
        return r;
    if ((r = pthread_mutex_init(&m->mu, NULL)))
        pthread_cond_destroy(&m->cv);
    return r;
}

void cf__monitor_destroy(cf__monitor *m)
{
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
}

static int coro_wait(cf__monitor *m, cf__coro *co, const cf__deadline *d)
{
    if (cf__coro_take_cancel(co))
        return ECANCELED;
    if (d->poll)
        return ETIMEDOUT;
    cf__monitor_coro node = { .next = m->coros, .co = co };
    m->coros = &node;
    cf__coro_arm(co);             /* before mu is let go: a signal from then on wakes us */
    pthread_mutex_unlock(&m->mu);
    int r = cf__coro_park(co, d);
    pthread_mutex_lock(&m->mu);
    for (cf__monitor_coro **p = &m->coros; *p; p = &(*p)->next)
        if (*p == &node) {
            *p = node.next;
            break;
        }
    return r;
}

int cf__monitor_wait(cf__monitor *m, const cf__deadline *d)
{
    cf__coro *co = cf__coro_self();
    if (co)
        return coro_wait(m, co, d);
    if (d->poll)
        return ETIMEDOUT;
    if (d->forever)
        return pthread_cond_wait(&m->cv, &m->mu);
    return pthread_cond_timedwait(&m->cv, &m->mu, &d->at) == ETIMEDOUT ? ETIMEDOUT : 0;
}

void cf__monitor_signal(cf__monitor *m)
{
    pthread_cond_signal(&m->cv);
    for (cf__monitor_coro *n = m->coros; n; n = n->next)
        cf__coro_wake(n->co, 0);
}
