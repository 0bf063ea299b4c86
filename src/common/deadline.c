/* SPDX-License-Identifier: MIT */
/* deadline.c: timeout arithmetic on CLOCK_MONOTONIC (immune to wall-clock jumps). */
#include "deadline.h"

#include <errno.h>
#include <math.h>

#define CF__FOREVER_ABOVE 1e9   /* seconds; ~31 years, also keeps tv_sec far from overflow */

const cf__deadline cf__forever = { .forever = true };

uint64_t cf__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t cf__mono_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double cf__now(void)
{
    return (double)cf__mono_ns() * 1e-9;
}

int cf__deadline_init(cf__deadline *d, double timeout)
{
    d->forever = d->poll = d->scoped = false;
    if (isnan(timeout))
        return EINVAL;
    if (timeout < 0 || timeout > CF__FOREVER_ABOVE) {
        d->forever = true;
        return 0;
    }
    if (timeout == 0) {
        d->poll = true;
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &d->at);
    double whole = floor(timeout);
    d->at.tv_sec += (time_t)whole;
    d->at.tv_nsec += (long)((timeout - whole) * 1e9);
    if (d->at.tv_nsec >= 1000000000L) {
        d->at.tv_sec++;
        d->at.tv_nsec -= 1000000000L;
    }
    return 0;
}

bool cf__deadline_passed(const cf__deadline *d)
{
    if (d->forever)
        return false;
    if (d->poll)
        return true;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->at.tv_sec || (now.tv_sec == d->at.tv_sec && now.tv_nsec >= d->at.tv_nsec);
}

struct timespec *cf__deadline_rel(const cf__deadline *d, struct timespec *ts)
{
    if (d->forever)
        return NULL;
    double s = cf__deadline_left(d);
    ts->tv_sec = (time_t)s;
    ts->tv_nsec = (long)((s - (double)ts->tv_sec) * 1e9);
    return ts;
}

double cf__deadline_left(const cf__deadline *d)
{
    if (d->poll || d->forever)
        return 0;
    double left = (double)d->at.tv_sec + (double)d->at.tv_nsec * 1e-9 - cf__now();
    return left > 0 ? left : 0;
}

uint64_t cf__deadline_ns(const cf__deadline *d)
{
    if (d->forever)
        return UINT64_MAX;
    if (d->poll)
        return 0;
    return (uint64_t)d->at.tv_sec * 1000000000u + (uint64_t)d->at.tv_nsec;
}

void cf__deadline_at_ns(cf__deadline *d, uint64_t ns)
{
    d->forever = d->poll = false;
    d->at.tv_sec = (time_t)(ns / 1000000000u);
    d->at.tv_nsec = (long)(ns % 1000000000u);
}
