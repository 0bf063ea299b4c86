/* backlog.h (internal): max_pending, shared by the pools: a counter of reserved slots that
 * submitters take (sleeping while none is free) and the pool gives back when a task starts or
 * leaves PENDING. Blocked submitters count themselves in nblocked, then re-check `reserved` and
 * the pool's closed state (seq_cst both ways), so a release or close made before they sleep is
 * never missed: the releaser bumps `seq` (a futex) only when someone blocks. */
#ifndef CF__BACKLOG_H
#define CF__BACKLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/deadline.h"

typedef struct cf__backlog {
    size_t           max;         /* 0: unbounded, nothing is counted */
    _Atomic size_t   reserved;
    _Atomic uint32_t seq;
    _Atomic int      nblocked;
} cf__backlog;

/* Takes a slot, sleeping while none is free: 0 | EAGAIN (poll) | ETIMEDOUT | what closed(ctx)
 * returns once the pool is closed. */
int  cf__backlog_reserve(cf__backlog *b, const cf__deadline *d, int (*closed)(void *), void *ctx);
/* Takes a slot without waiting (the pool's own threads, which must never block on it). */
void cf__backlog_take(cf__backlog *b);
/* Gives a slot back and wakes blocked submitters. */
void cf__backlog_release(cf__backlog *b);
/* Wakes blocked submitters so they re-check (the pool closed). */
void cf__backlog_wake(cf__backlog *b);

#endif
