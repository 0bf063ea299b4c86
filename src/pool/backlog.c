/* SPDX-License-Identifier: MIT */
/* backlog.c: max_pending slots for the pools (see backlog.h for the protocol). */
#include <errno.h>

#include "../common/futex.h"
#include "backlog.h"

void cf__backlog_init(cf__backlog *b, size_t max)
{
    b->max = max;
    atomic_init(&b->reserved, 0);
    cf__ecount_init(&b->freed);
}

void cf__backlog_wake(cf__backlog *b) { cf__ecount_notify(&b->freed, CF__WAKE_ALL); }

void cf__backlog_take(cf__backlog *b) { atomic_fetch_add(&b->reserved, 1); }

void cf__backlog_release(cf__backlog *b)
{
    atomic_fetch_sub(&b->reserved, 1);
    cf__ecount_notify(&b->freed, 1);
}

static bool try_take(cf__backlog *b)
{
    size_t n = atomic_load(&b->reserved);
    while (n < b->max)
        if (atomic_compare_exchange_weak(&b->reserved, &n, n + 1))
            return true;
    return false;
}

int cf__backlog_reserve(cf__backlog *b, const cf__deadline *d, int (*closed)(void *), void *ctx)
{
    bool timed_out = false;
    for (;;) {
        if (try_take(b))
            return 0;
        int reason = closed(ctx);
        if (reason)
            return reason;
        if (d->poll)
            return EAGAIN;
        if (timed_out)
            return ETIMEDOUT;
        uint32_t key = cf__ecount_prepare(&b->freed);
        if (atomic_load(&b->reserved) < b->max || closed(ctx)) {
            cf__ecount_cancel(&b->freed);
            continue;
        }
        int r = cf__ecount_wait(&b->freed, key, d, true);
        if (r == ECANCELED)
            return r;
        timed_out = r == ETIMEDOUT;   /* one last look: a slot freed meanwhile is taken */
    }
}
