/* SPDX-License-Identifier: MIT */
/* mutex.h (internal): a mutex whose holder is a parker (a coroutine, or a plain thread), so a
 * coroutine that waits for it suspends instead of blocking its loop, and one coroutine's hold is
 * not its sibling's. FIFO hand-off: a release gives the lock to the longest waiter. cf_lock is
 * this; cf_pipe's ends serialize their senders and receivers with it. */
#ifndef CF__MUTEX_H
#define CF__MUTEX_H

#include <stdint.h>

#include "waitq.h"

typedef struct cf__mutex {
    _Atomic uintptr_t owner;   /* the holder's parker | 1 while waiters are queued; 0: free */
    cf__lock          lk;
    cf__waitq         q;
} cf__mutex;

void cf__mutex_init(cf__mutex *m);

/* The fast paths, inline: one CAS each way while nobody waits. */
static inline bool cf__mutex_trylock(cf__mutex *m, cf__parker *me)
{
    uintptr_t free_ = 0;
    return atomic_compare_exchange_strong_explicit(&m->owner, &free_, (uintptr_t)me,
                                                   memory_order_acquire, memory_order_relaxed);
}

/* Releases m if me holds it and nobody waits: false otherwise (then cf__mutex_unlock). */
static inline bool cf__mutex_unlock_fast(cf__mutex *m, cf__parker *me)
{
    uintptr_t mine = (uintptr_t)me;
    return atomic_compare_exchange_strong_explicit(&m->owner, &mine, 0, memory_order_release,
                                                   memory_order_relaxed);
}
/* Takes m for me by d. user: a wait the caller asked for (a cancel ends it; a coroutine that would
 * wait forever for its own thread's hold gets EDEADLK); else nothing but d cuts it.
 * 0 | EDEADLK (me holds it) | EAGAIN (d a poll) | ETIMEDOUT | ECANCELED. */
int  cf__mutex_lock(cf__mutex *m, cf__parker *me, const cf__deadline *d, bool user);
bool cf__mutex_held_by(cf__mutex *m, cf__parker *p);
/* Releases m, which p holds: to the longest waiter, if any. */
void cf__mutex_unlock(cf__mutex *m, cf__parker *p);

#endif
