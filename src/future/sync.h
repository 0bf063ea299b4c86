/* sync.h (internal): a mutex + condition variable on CLOCK_MONOTONIC, for the waiters that sleep
 * on many futures at once (cf_wait, as_completed). A coroutine waiting on a monitor suspends
 * instead of sleeping in the condition variable: it hangs a node on the monitor (under mu), and
 * cf__monitor_signal wakes those too. */
#ifndef CF__SYNC_H
#define CF__SYNC_H

#include <pthread.h>

#include "../common/deadline.h"

typedef struct cf__monitor_coro cf__monitor_coro;

typedef struct cf__monitor {
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    cf__monitor_coro *coros;    /* under mu: coroutines parked in cf__monitor_wait */
} cf__monitor;

int  cf__monitor_init(cf__monitor *m);       /* 0 | an errno from pthreads */
void cf__monitor_destroy(cf__monitor *m);
/* Called with m->mu held: sleeps (or, in a coroutine, suspends) until signalled or the deadline
 * passes. 0 | ETIMEDOUT | ECANCELED (a cancelled coroutine). Wake-ups may be spurious. */
int  cf__monitor_wait(cf__monitor *m, const cf__deadline *d);
/* Called with m->mu held: wakes the thread or coroutines waiting. */
void cf__monitor_signal(cf__monitor *m);

#endif
