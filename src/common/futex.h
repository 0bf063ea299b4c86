/* SPDX-License-Identifier: MIT */
/* futex.h: the two futex calls the library sleeps and wakes with (Linux only).
 * Every user pairs them with atomics in the classic way: the sleeper re-checks its condition after
 * publishing that it sleeps, and futex_wait compares the word in the kernel, so a wake that comes
 * between the check and the sleep is never lost. Memory ordering comes from those atomics, not
 * from the syscall, which keeps ThreadSanitizer's view complete. */
#ifndef CF__FUTEX_H
#define CF__FUTEX_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "deadline.h"

/* Sleeps while *word == val, until woken or the deadline passes (absolute CLOCK_MONOTONIC).
 * Returns 0 (woken, value changed, or spurious: re-check) | ETIMEDOUT. */
static inline int cf__futex_wait(_Atomic uint32_t *word, uint32_t val, const cf__deadline *d)
{
    if (d && d->poll)
        return ETIMEDOUT;
    const struct timespec *ts = (d && !d->forever) ? &d->at : NULL;
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val, ts,
                     NULL, FUTEX_BITSET_MATCH_ANY);
    if (r == -1 && errno == ETIMEDOUT)
        return ETIMEDOUT;
    return 0;
}

static inline void cf__futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

/* The same on memory shared between processes (no FUTEX_PRIVATE_FLAG). */
static inline int cf__futex_wait_shared(_Atomic uint32_t *word, uint32_t val, const cf__deadline *d)
{
    if (d && d->poll)
        return ETIMEDOUT;
    const struct timespec *ts = (d && !d->forever) ? &d->at : NULL;
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET, val, ts, NULL,
                     FUTEX_BITSET_MATCH_ANY);
    if (r == -1 && errno == ETIMEDOUT)
        return ETIMEDOUT;
    return 0;
}

static inline void cf__futex_wake_shared(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

#define CF__WAKE_ALL INT_MAX

#endif
