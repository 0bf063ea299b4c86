/* SPDX-License-Identifier: MIT */
/* timer.h (internal): a binary min-heap of deadlines, ordered by (time, insertion order), so that
 * timers with equal deadlines fire first-in first-out. Each timer knows its slot: removal of a
 * timer that did not fire (the await finished first) is O(log n), and nothing stale piles up. */
#ifndef CF__TIMER_H
#define CF__TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/deadline.h"   /* cf__mono_ns */

typedef struct cf__timer {
    uint64_t at;     /* CLOCK_MONOTONIC nanoseconds */
    uint64_t seq;
    size_t   slot;   /* 1 + index in the heap; 0 when not in it */
} cf__timer;

typedef struct cf__timer_heap {
    cf__timer **v;
    size_t      n, cap;
    uint64_t    seq;
} cf__timer_heap;

/* Room for n timers: 0 | ENOMEM. The loop reserves one per started coroutine (a coroutine
 * waits on at most one timer), so that adding one never allocates and an await never fails. */
int        cf__timer_reserve(cf__timer_heap *h, size_t n);
void       cf__timer_add(cf__timer_heap *h, cf__timer *t);   /* within the reserve */
void       cf__timer_remove(cf__timer_heap *h, cf__timer *t); /* no-op when not in the heap */
/* The earliest timer, or NULL. */
static inline cf__timer *cf__timer_first(const cf__timer_heap *h) { return h->n ? h->v[0] : NULL; }
void       cf__timer_heap_destroy(cf__timer_heap *h);

#endif
