/* SPDX-License-Identifier: MIT */
/* deadline.h: turns the API's "timeout in seconds" into an absolute CLOCK_MONOTONIC deadline, so
 * that a wait interrupted and restarted (spurious wake-up, EINTR) never extends the timeout. */
#ifndef CF__DEADLINE_H
#define CF__DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "export.h"

typedef struct cf__deadline {
    bool            forever;  /* negative timeout */
    bool            poll;     /* timeout 0: never sleep */
    bool            scoped;   /* `at` is a deadline scope's, earlier than the timeout asked */
    struct timespec at;       /* CLOCK_MONOTONIC, valid unless forever or poll */
} cf__deadline;

/* No deadline: for the waits that must finish (nothing but their event ends them). */
extern const cf__deadline cf__forever;

/* 0 | EINVAL (NaN). Timeouts beyond ~30 years are taken as forever. */
int  cf__deadline_init(cf__deadline *d, double timeout);
bool cf__deadline_passed(const cf__deadline *d);
/* Seconds from now to the deadline, >= 0; meaningless when forever. */
double cf__deadline_left(const cf__deadline *d);
/* The time left as a relative timeout for ppoll and the like: ts filled and returned, or NULL
 * when forever (a poll or a passed deadline gives zero). */
struct timespec *cf__deadline_rel(const cf__deadline *d, struct timespec *ts);
/* The one clock of the library: CLOCK_MONOTONIC, in nanoseconds and in seconds. */
CF__SHARED uint64_t cf__mono_ns(void);
double   cf__now(void);
/* The same clock at the kernel tick's resolution (1-4 ms), for a check too frequent to afford
 * the precise read (~25 ns against ~4 ns): "has a tick passed since". */
CF__SHARED uint64_t cf__mono_coarse_ns(void);
/* The deadline in CLOCK_MONOTONIC ns; UINT64_MAX when forever, 0 for a poll. */
uint64_t cf__deadline_ns(const cf__deadline *d);
/* Sets d to the absolute time ns (not forever, not a poll). */
void     cf__deadline_at_ns(cf__deadline *d, uint64_t ns);

#endif
