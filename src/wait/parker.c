/* SPDX-License-Identifier: MIT */
/* parker.c: the parker protocol (parker.h) and the plain thread's parker.
 *
 * Design notes.
 * - state is the only word wakers race on: IDLE (0) while the owner does not wait, ARMED or
 *   ARMED_NOCANCEL while it is about to wait or waits, WOKEN + reason once a claim won. Only a
 *   claim leaves ARMED (one CAS, which also carries the reason), and only the owner leaves
 *   WOKEN (back to IDLE, when park returns), so exactly one of the wakers, the deadline and a
 *   cancel wins each wait.
 * - A cancel is a claim for ECANCELED that an ARMED_NOCANCEL state refuses; cancel_pending is set
 *   first, so a refused or early cancel is delivered by the next cancellable wait.
 * - A thread sleeps on state itself with a private futex: the value it passes to futex_wait is
 *   the armed value it saw, so a claim between its check and its sleep makes the sleep return at
 *   once. It spins a little first (backoff.h): a hand-off between two threads is usually
 *   answered within a wake-up's time.
 * - A waker may resume a thread whose wait ended meanwhile (its futex_wake finds nobody, or a
 *   later wait, which re-checks): harmless. Waiters never hand their parker to a waker past the
 *   wait: whoever calls cf__parker_wake holds the lock its waiter list is under (waitq.h), and
 *   the waiter takes that lock before it returns. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "../common/backoff.h"
#include "../common/futex.h"
#include "parker.h"

enum { IDLE = 0, ARMED = 1, ARMED_NOCANCEL = 2, WOKEN = 16 };

#define THREAD_PAUSES 200   /* spins of a thread before it sleeps: a few microseconds */
#define THREAD_YIELDS 4

CF__TLS cf__parker *cf__parker_cur;

static bool armed(uint32_t s) { return s == ARMED || s == ARMED_NOCANCEL; }

void cf__parker_init(cf__parker *p, const cf__parker_ops *ops)
{
    atomic_init(&p->state, IDLE);
    atomic_init(&p->cancel_pending, false);
    p->ops = ops;
    p->own = NULL;
    p->scope_at = UINT64_MAX;
    p->scopes = NULL;
    p->nscopes = p->cap = 0;
}

void cf__parker_destroy(cf__parker *p)
{
    free(p->scopes);
    p->scopes = NULL;
    p->nscopes = p->cap = 0;
    p->scope_at = UINT64_MAX;
}

void cf__parker_arm(cf__parker *p, bool cancellable)
{
    atomic_store_explicit(&p->state, cancellable ? ARMED : ARMED_NOCANCEL, memory_order_relaxed);
}

bool cf__parker_claim(cf__parker *p, int reason)
{
    uint32_t s = atomic_load_explicit(&p->state, memory_order_relaxed);
    while (armed(s)) {
        if (reason == ECANCELED && s == ARMED_NOCANCEL)
            return false;
        if (atomic_compare_exchange_weak_explicit(&p->state, &s, WOKEN + (uint32_t)reason,
                                                  memory_order_acq_rel, memory_order_relaxed))
            return true;
    }
    return false;
}

bool cf__parker_wake(cf__parker *p, int reason)
{
    if (!cf__parker_claim(p, reason))
        return false;
    p->ops->resume(p);
    return true;
}

/* The owner, after the claim: the reason, and the parker is IDLE again. */
static int woken(cf__parker *p)
{
    int r = (int)(atomic_load_explicit(&p->state, memory_order_acquire) - WOKEN);
    atomic_store_explicit(&p->state, IDLE, memory_order_relaxed);
    if (r == ECANCELED)
        atomic_store_explicit(&p->cancel_pending, false, memory_order_relaxed);   /* delivered */
    return r;
}

int cf__parker_unarm(cf__parker *p, int r)
{
    uint32_t s = atomic_load_explicit(&p->state, memory_order_relaxed);
    while (armed(s))
        if (atomic_compare_exchange_weak_explicit(&p->state, &s, IDLE, memory_order_relaxed,
                                                  memory_order_relaxed))
            return r;
    /* A waker won: a coroutine is queued on its loop and must pass through it once. */
    p->ops->suspend(p, NULL, 0);
    return woken(p);
}

int cf__parker_park(cf__parker *p, const cf__deadline *d, unsigned flags)
{
    if (atomic_load_explicit(&p->state, memory_order_relaxed) == ARMED &&
        atomic_load_explicit(&p->cancel_pending, memory_order_relaxed)) {
        int r = cf__parker_unarm(p, ECANCELED);
        if (r == ECANCELED)
            atomic_store_explicit(&p->cancel_pending, false, memory_order_relaxed);
        return r;
    }
    if (d && d->poll)
        return cf__parker_unarm(p, ETIMEDOUT);
    p->ops->suspend(p, d, flags);
    return woken(p);
}

void cf__parker_cancel(cf__parker *p)
{
    atomic_store_explicit(&p->cancel_pending, true, memory_order_relaxed);
    cf__parker_wake(p, ECANCELED);
}

int cf__wait_fds(struct pollfd *fds, int n, const cf__deadline *d)
{
    cf__parker *p = cf__parker_self();
    if (cf__parker_take_cancel(p))
        return ECANCELED;
    return p->ops->wait_fds(p, fds, n, d);
}

int cf__wait_watch(cf__fdwatch *w, short events, const cf__deadline *d)
{
    cf__parker *p = cf__parker_self();
    if (cf__parker_take_cancel(p))
        return ECANCELED;
    return p->ops->wait_watch(p, w, events, d);
}

int cf__wait_fd(int fd, short events, const cf__deadline *d)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int r = cf__wait_fds(&pfd, 1, d);
    return r == 0 && (pfd.revents & POLLNVAL) ? EBADF : r;
}

int cf__wait_nap(uint64_t ns, const cf__deadline *d, bool cancellable)
{
    uint64_t now = cf__mono_ns(), end = cf__deadline_ns(d);
    if (now >= end)
        return ETIMEDOUT;
    cf__deadline n;
    cf__deadline_at_ns(&n, end - now <= ns ? end : now + ns);
    cf__parker *p = cf__parker_self();
    cf__parker_arm(p, cancellable);
    int r = cf__parker_park(p, &n, 0);
    if (r == ECANCELED)
        return r;
    return end - now <= ns ? ETIMEDOUT : 0;
}

/* ---- the plain thread's parker ---- */

static void thread_suspend(cf__parker *p, const cf__deadline *d, unsigned flags)
{
    (void)flags;
    cf__backoff b = cf__backoff_new(THREAD_PAUSES, THREAD_YIELDS);
    while (armed(atomic_load_explicit(&p->state, memory_order_relaxed)))
        if (!cf__backoff_step(&b))
            break;
    for (;;) {
        uint32_t s = atomic_load_explicit(&p->state, memory_order_relaxed);
        if (!armed(s))
            return;
        if (cf__futex_wait(&p->state, s, d) == ETIMEDOUT && cf__parker_claim(p, ETIMEDOUT))
            return;
    }
}

static void thread_resume(cf__parker *p)
{
    cf__futex_wake(&p->state, 1);
}

static int thread_wait_fds(cf__parker *p, struct pollfd *fds, int n, const cf__deadline *d)
{
    (void)p;
    for (;;) {
        struct timespec left;
        int k = ppoll(fds, (nfds_t)n, cf__deadline_rel(d, &left), NULL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        if (k == 0) {
            if (d->poll || cf__deadline_passed(d))
                return ETIMEDOUT;
            continue;
        }
        return 0;
    }
}

static int thread_wait_watch(cf__parker *p, cf__fdwatch *w, short events, const cf__deadline *d)
{
    struct pollfd pfd = { .fd = w->fd, .events = events };
    int r = thread_wait_fds(p, &pfd, 1, d);
    return r == 0 && (pfd.revents & POLLNVAL) ? EBADF : r;
}

static const cf__parker_ops thread_ops = {
    .suspend = thread_suspend,
    .resume = thread_resume,
    .wait_fds = thread_wait_fds,
    .wait_watch = thread_wait_watch,
};

CF__TLS cf__parker cf__parker_own = {
    .ops = &thread_ops,
    .scope_at = UINT64_MAX,
};
