/* SPDX-License-Identifier: MIT */
/* backoff.h: the library's one way to wait a little for another thread before sleeping.
 * A cross-thread wake costs ~20 us each way, so a waiter whose peer is microseconds away first
 * pauses (the CPU's spin hint: cheap for a sibling hyper-thread), then yields (on a small machine
 * the peer may be queued on this very CPU, and a pure spin would make it wait for us), and only
 * then sleeps. Callers pick the budget: how likely the peer is to come soon. */
#ifndef CF__BACKOFF_H
#define CF__BACKOFF_H

#include <sched.h>
#include <stdbool.h>
#include <urcu/arch.h>

typedef struct cf__backoff {
    unsigned round, pauses, yields;
} cf__backoff;

static inline cf__backoff cf__backoff_new(unsigned pauses, unsigned yields)
{
    return (cf__backoff){ 0, pauses, yields };
}

/* Waits one round: true while the budget lasts, false once it is spent (time to sleep). */
static inline bool cf__backoff_step(cf__backoff *b)
{
    if (b->round < b->pauses)
        caa_cpu_relax();
    else if (b->round < b->pauses + b->yields)
        sched_yield();
    else
        return false;
    b->round++;
    return true;
}

#endif
