/* SPDX-License-Identifier: MIT */
/* plock.h (internal): a lock in memory shared with processes that are not trusted, and may die
 * or stop while they hold it.
 *
 * Why not a pthread robust mutex: glibc links a robust mutex it holds into the thread's robust
 * list through pointers stored in the mutex itself, and follows them at unlock; a peer that
 * scribbles over the mutex can make our unlock write anywhere in our memory, and corrupt kinds
 * reach asserts inside glibc. This lock is one 32-bit word, and every value of it is safe.
 *
 * The word: 0 free, else the holder's process id, with WAITERS set once someone sleeps on it.
 * Locking spins briefly, then sleeps on the word (a shared futex) in slices of at most
 * CF__PLOCK_SLICE; between slices it looks at the holder: a process that no longer exists (or a
 * zombie, or no process at all: the word was scribbled) has died holding the lock, and the
 * waiter takes the lock over from that exact word (compare-and-swap, so only one waiter does).
 * A holder that is alive but stopped only costs waiters their timeouts. A pid reused by an
 * unrelated process after the holder died is not told apart: waiters then wait to their
 * deadline. Callers keep the protected state consistent at every instant a holder may die (see
 * mpqueue.c), which is what makes a takeover safe. */
#ifndef CF__PLOCK_H
#define CF__PLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../common/deadline.h"

#define CF__PLOCK_SLICE 0.01     /* seconds between looks at a holder that keeps the lock */

/* Takes the lock by the deadline: 0 | 1 (taken over from a dead holder) | ETIMEDOUT. */
int  cf__plock_lock(_Atomic uint32_t *word, const cf__deadline *d);
void cf__plock_unlock(_Atomic uint32_t *word);

#endif
