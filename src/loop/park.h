/* park.h (internal): how a waiter suspends the calling coroutine instead of blocking the thread.
 * Used by the loop's awaits and by the future layer (cf__future_wait, the monitors of cf_wait and
 * as_completed), which need no more of the loop than this.
 *
 * Protocol: arm, register wherever the wake will come from, park. The first of cf__coro_wake
 * (any thread), the timer, or a cancel to disarm the coroutine wins and queues it on its loop;
 * the others do nothing. A waiter that decides not to park after arming calls unarm: if a waker
 * already won, the coroutine is queued and must still go through the loop once. */
#ifndef CF__PARK_H
#define CF__PARK_H

#include <stdbool.h>

#include "../common/deadline.h"
#include "../common/tls.h"

typedef struct cf__coro cf__coro;
typedef struct cf_future cf_future;

extern CF__TLS cf__coro *cf__coro_running;   /* the coroutine on this thread, or NULL */

static inline cf__coro *cf__coro_self(void) { return cf__coro_running; }

void cf__coro_arm(cf__coro *co);
/* Thread-safe: wakes co if it is armed; reason is what park returns. true if this call won. */
bool cf__coro_wake(cf__coro *co, int reason);
/* Suspends until woken: the waker's reason (0) | ETIMEDOUT at d | ECANCELED (the coroutine was
 * cancelled: delivered once). d NULL or forever: no timer. */
int  cf__coro_park(cf__coro *co, const cf__deadline *d);
/* Ends an armed wait without parking: r, unless a waker won meanwhile (then its reason). */
int  cf__coro_unarm(cf__coro *co, int r);
/* A cancel not yet delivered to an await is taken: true once per cancel. */
bool cf__coro_take_cancel(cf__coro *co);
/* cf__future_wait for a coroutine: 0 | ETIMEDOUT | ECANCELED | EDEADLK (f is its own future). */
int  cf__coro_wait_future(cf__coro *co, cf_future *f, const cf__deadline *d);
/* For blocking calls that sleep on their own futexes (cf_queue, cf_mpqueue) and so cannot park a
 * coroutine in place: called in a coroutine with a deadline that is not a poll, it retries
 * attempt (the call with timeout 0) until it says something else than EAGAIN, napping the
 * coroutine in between (20 us, doubling up to 1 ms). attempt's result | ETIMEDOUT | ECANCELED. */
int  cf__coro_retry(const cf__deadline *d, int (*attempt)(void *ctx), void *ctx);

#endif
