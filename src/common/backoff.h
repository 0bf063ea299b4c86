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
#include <stdint.h>
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

/* For a waiter with nothing to sleep on (an MPI rank polling for messages): how long to nap now,
 * having been idle idle_ns. 0 for the first spin_ns (keep looking, yielding: a message comes
 * microseconds after the last one while work flows, and a nap would stall the flow); then an
 * eighth of the idle time, so that work arriving late waits at most ~1/8 longer than it was
 * awaited, from 10 us to cap_ns (an idle rank then costs a wake-up per cap_ns). */
static inline int64_t cf__idle_nap_ns(int64_t idle_ns, int64_t spin_ns, int64_t cap_ns)
{
    if (idle_ns < spin_ns)
        return 0;
    int64_t nap = idle_ns / 8;
    return nap < 10000 ? 10000 : nap > cap_ns ? cap_ns : nap;
}

#endif
