/* SPDX-License-Identifier: MIT */
/* backlog.h (internal): max_pending, shared by the pools: a counter of reserved slots that
 * submitters take (waiting while none is free) and the pool gives back when a task starts or
 * leaves PENDING. Waiting submitters prepare on an eventcount (wait/ecount.h), re-check
 * `reserved` and the pool's closed state, then park: a thread sleeps, a coroutine suspends and
 * its loop goes on. A release or close made before they park is never missed, and a releaser
 * pays for a wake only when someone waits. */
#ifndef CF__BACKLOG_H
#define CF__BACKLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/deadline.h"
#include "../wait/ecount.h"

typedef struct cf__backlog {
    size_t         max;         /* 0: unbounded, nothing is counted */
    _Atomic size_t reserved;
    cf__ecount     freed;       /* submitters waiting for a slot */
} cf__backlog;

void cf__backlog_init(cf__backlog *b, size_t max);
/* Takes a slot, waiting while none is free: 0 | EAGAIN (poll) | ETIMEDOUT | ECANCELED (a
 * cancelled coroutine) | what closed(ctx) returns once the pool is closed. */
int  cf__backlog_reserve(cf__backlog *b, const cf__deadline *d, int (*closed)(void *), void *ctx);
/* Takes a slot without waiting (the pool's own threads, which must never block on it). */
void cf__backlog_take(cf__backlog *b);
/* Gives a slot back and wakes a waiting submitter. */
void cf__backlog_release(cf__backlog *b);
/* Wakes every waiting submitter so they re-check (the pool closed). */
void cf__backlog_wake(cf__backlog *b);

#endif
