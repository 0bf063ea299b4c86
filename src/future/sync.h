/* sync.h (internal): a mutex + condition variable on CLOCK_MONOTONIC, for the waiters that sleep
 * on many futures at once (cf_wait, as_completed). */
#ifndef CF__SYNC_H
#define CF__SYNC_H

#include <pthread.h>

#include "../common/deadline.h"

typedef struct cf__monitor {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
} cf__monitor;

int  cf__monitor_init(cf__monitor *m);       /* 0 | an errno from pthreads */
void cf__monitor_destroy(cf__monitor *m);
/* Called with m->mu held: sleeps until signalled or the deadline passes. 0 | ETIMEDOUT. */
int  cf__monitor_wait(cf__monitor *m, const cf__deadline *d);

#endif
