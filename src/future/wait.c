/* wait.c: cf_wait, Python's concurrent.futures.wait over an array of futures.
 * ALL_COMPLETED waits on each future in turn (no allocation, no listener). The FIRST_* modes hang
 * a listener on every pending future and sleep on one monitor; completions count themselves in
 * under the monitor's lock and signal it, so nothing polls. Listeners are removed before return:
 * cf__future_unlisten waits out a notify in progress, so the stack frame may then go. */
#include <errno.h>
#include <stdlib.h>

#include "future.h"
#include "sync.h"

#define CF__WAIT_STACK 32

typedef struct waiter {
    cf__monitor m;
    size_t      done;     /* entries of fs that are done */
    bool        failed;   /* one finished with an error (cancelled is not an error here) */
} waiter;

typedef struct slot {
    cf__listener l;       /* first: notify gets &slot->l */
    waiter      *w;
} slot;

static bool failed_now(cf_future *f)
{
    return cf_future_state(f) == CF_FINISHED && f->err != 0;
}

static bool satisfied(const waiter *w, size_t n, cf_return_when when)
{
    if (w->done == n)
        return true;
    if (when == CF_FIRST_COMPLETED)
        return w->done > 0;
    return when == CF_FIRST_EXCEPTION && w->failed;
}

static void count_done(waiter *w, cf_future *f)
{
    w->done++;
    if (failed_now(f))
        w->failed = true;
}

static void on_done(cf__listener *l, cf_future *f)
{
    waiter *w = ((slot *)l)->w;
    pthread_mutex_lock(&w->m.mu);
    count_done(w, f);
    cf__monitor_signal(&w->m);
    pthread_mutex_unlock(&w->m.mu);
}

static int wait_all(cf_future *const *fs, size_t n, const cf__deadline *d)
{
    for (size_t i = 0; i < n; i++) {
        int r = cf__future_wait(fs[i], d);
        if (r)
            return r;   /* ETIMEDOUT, or ECANCELED in a cancelled coroutine */
    }
    return 0;
}

static int wait_first(cf_future *const *fs, size_t n, const cf__deadline *d, cf_return_when when)
{
    waiter w = { .done = 0, .failed = false };
    for (size_t i = 0; i < n; i++)
        if (cf_future_done(fs[i]))
            count_done(&w, fs[i]);
    if (satisfied(&w, n, when))
        return 0;
    if (d->poll)
        return ETIMEDOUT;

    slot stack[CF__WAIT_STACK];
    slot *slots = n <= CF__WAIT_STACK ? stack : malloc(n * sizeof *slots);
    if (!slots)
        return ENOMEM;
    int r = cf__monitor_init(&w.m);
    if (r) {
        if (slots != stack)
            free(slots);
        return r;
    }
    w.done = 0;
    w.failed = false;
    pthread_mutex_lock(&w.m.mu);
    for (size_t i = 0; i < n; i++) {
        slots[i].w = &w;
        slots[i].l.notify = on_done;
        slots[i].l.linked = false;
        pthread_mutex_unlock(&w.m.mu);     /* lock order: never hold the monitor into f->lock */
        bool listening = cf__future_listen(fs[i], &slots[i].l);
        pthread_mutex_lock(&w.m.mu);
        if (!listening)
            count_done(&w, fs[i]);
    }
    r = 0;
    while (!satisfied(&w, n, when) && r == 0)
        r = cf__monitor_wait(&w.m, d);
    if (r == ETIMEDOUT && satisfied(&w, n, when))
        r = 0;          /* but ECANCELED (a cancelled coroutine) is delivered, satisfied or not */
    pthread_mutex_unlock(&w.m.mu);

    for (size_t i = 0; i < n; i++)
        cf__future_unlisten(fs[i], &slots[i].l);
    cf__monitor_destroy(&w.m);
    if (slots != stack)
        free(slots);
    return r;
}

CF_EXTERN int cf_wait(cf_future *const *fs, size_t n, double timeout, cf_return_when when)
{
    cf__deadline d;
    if ((n > 0 && !fs) || cf__deadline_init(&d, timeout))
        return EINVAL;
    if (when != CF_FIRST_COMPLETED && when != CF_FIRST_EXCEPTION && when != CF_ALL_COMPLETED)
        return EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!fs[i])
            return EINVAL;
    if (n == 0)
        return 0;
    if (when == CF_ALL_COMPLETED)
        return wait_all(fs, n, &d);
    return wait_first(fs, n, &d, when);
}
