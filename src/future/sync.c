/* sync.c: the monitor used by multi-future waiters; timed waits use absolute CLOCK_MONOTONIC. */
#include <errno.h>

#include "sync.h"

int cf__monitor_init(cf__monitor *m)
{
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

int cf__monitor_wait(cf__monitor *m, const cf__deadline *d)
{
    if (d->poll)
        return ETIMEDOUT;
    if (d->forever)
        return pthread_cond_wait(&m->cv, &m->mu);
    return pthread_cond_timedwait(&m->cv, &m->mu, &d->at) == ETIMEDOUT ? ETIMEDOUT : 0;
}
