/* backlog.c: max_pending slots for the pools (see backlog.h for the protocol). */
#include <errno.h>

#include "../common/futex.h"
#include "backlog.h"

void cf__backlog_wake(cf__backlog *b)
{
    if (atomic_load(&b->nblocked) > 0) {
        atomic_fetch_add(&b->seq, 1);
        cf__futex_wake(&b->seq, CF__WAKE_ALL);
    }
}

void cf__backlog_take(cf__backlog *b) { atomic_fetch_add(&b->reserved, 1); }

void cf__backlog_release(cf__backlog *b)
{
    atomic_fetch_sub(&b->reserved, 1);
    cf__backlog_wake(b);
}

int cf__backlog_reserve(cf__backlog *b, const cf__deadline *d, int (*closed)(void *), void *ctx)
{
    bool timed_out = false;
    for (;;) {
        size_t n = atomic_load(&b->reserved);
        while (n < b->max)
            if (atomic_compare_exchange_weak(&b->reserved, &n, n + 1))
                return 0;
        int reason = closed(ctx);
        if (reason)
            return reason;
        if (d->poll)
            return EAGAIN;
        if (timed_out)
            return ETIMEDOUT;
        uint32_t seq = atomic_load(&b->seq);
        atomic_fetch_add(&b->nblocked, 1);
        if (atomic_load(&b->reserved) >= b->max && !closed(ctx))
            timed_out = cf__futex_wait(&b->seq, seq, d) == ETIMEDOUT;
        atomic_fetch_sub(&b->nblocked, 1);
    }
}
