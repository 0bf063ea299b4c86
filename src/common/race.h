/* SPDX-License-Identifier: MIT */
/* race.h (internal): CF__RACE_WINDOW() marks a point where another thread's interleaving
 * matters (a flag published before the wake that goes with it, say). In a CF_TEST_RACES build
 * it gives the CPU away there, so the stress tests see the interleavings a preemption at that
 * exact point would cause (liburcu's debug-yield idea); otherwise it is nothing. */
#ifndef CF__RACE_H
#define CF__RACE_H

#ifdef CF_TEST_RACES
#include <sched.h>
#define CF__RACE_WINDOW() ((void)sched_yield())
#else
#define CF__RACE_WINDOW() ((void)0)
#endif

#endif
