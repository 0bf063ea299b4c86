/* SPDX-License-Identifier: MIT */
/* parker.h (internal): who is waiting. Every wait of the library suspends "the current parker":
 * the calling thread's own (it sleeps on a futex), or, while a loop runs a coroutine, the
 * coroutine's (it suspends and its loop goes on). The loop installs its coroutine's parker when
 * it switches to it (cf__parker_cur); nothing below the loop knows a loop exists.
 *
 * Protocol (the kernel's prepare_to_wait / schedule / wake_up, Rust's Waker):
 *   arm           the caller announces it is about to wait (state ARMED);
 *   register      it hangs a waiter wherever the wake will come from (a wait queue, a future);
 *   park          it suspends until a wake, its deadline, or (coroutines) a cancel.
 * Any thread may call cf__parker_wake: the first claim of an ARMED parker wins (one CAS that also
 * stores the reason), the others do nothing and say so, so a waker that wants to wake exactly one
 * waiter moves on to the next and a wake-one is never swallowed by a timer or a cancel that won.
 * A caller that decides not to park after arming calls unarm: if a waker already won, the reason
 * is the waker's (and a coroutine, already queued on its loop, still passes through it once).
 *
 * Memory order: the winning CAS is acq_rel and the parker reads the state with acquire, so what
 * the waker wrote before the wake (a lock hand-off, an item) is visible to the woken caller. */
#ifndef CF__PARKER_H
#define CF__PARKER_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../common/deadline.h"
#include "../common/tls.h"

typedef struct cf__parker cf__parker;

/* An fd waited on again and again (a stream's): a coroutine's loop registers it once, edge-
 * triggered, and keeps it; the fields are the loop's (src/loop/watch.c), set up zeroed but for fd.
 * A plain thread just polls fd. At most one reader and one writer wait on it at a time. */
typedef struct cf__fdwatch cf__fdwatch;
struct cf__fdwatch {
    int         fd;
    void       *reg;          /* the loop's registration, or NULL */
    uint32_t    ready;        /* edges seen with nobody waiting (POLLIN, POLLOUT) */
    cf__parker *waiter[2];    /* the reader's, the writer's, while they wait */
    /* Set by the loop that registered it: undoes the registration (any thread). */
    void (*_Atomic detach)(cf__fdwatch *w);
};

/* Before w's fd is closed or its memory goes: no loop touches it afterwards. */
static inline void cf__fdwatch_detach(cf__fdwatch *w)
{
    void (*d)(cf__fdwatch *) = atomic_load_explicit(&w->detach, memory_order_acquire);
    if (d)
        d(w);
}

/* Bits of `flags` for park. */
enum {
    CF__PARK_SOON = 1,   /* the wake will likely come from another thread within microseconds
                            (a future an executor completes): a loop may watch before sleeping */
};

typedef struct cf__parker_ops {
    /* Suspends the caller until p's state is no longer armed; d NULL or forever: no deadline. At
     * d, claims p for ETIMEDOUT itself (cf__parker_claim) and returns. */
    void (*suspend)(cf__parker *p, const cf__deadline *d, unsigned flags);
    /* After a winning claim from any thread: makes the parked caller run again. */
    void (*resume)(cf__parker *p);
    /* Waits until one of the n (<= CF__WAIT_FDS) fds is ready for its events, or d: 0 (the
     * revents filled in, as poll(2) does) | ETIMEDOUT | ECANCELED | an errno. Threads poll;
     * coroutines register the fds with their loop. */
    int  (*wait_fds)(cf__parker *p, struct pollfd *fds, int n, const cf__deadline *d);
    /* Waits until w's fd is ready for events (POLLIN or POLLOUT, one of them) or d: 0 |
     * ETIMEDOUT | ECANCELED | an errno. 0 may be spurious: the caller re-tries its syscall. */
    int  (*wait_watch)(cf__parker *p, cf__fdwatch *w, short events, const cf__deadline *d);
} cf__parker_ops;

typedef struct cf__scope {
    int      token;
    uint64_t at;                   /* CLOCK_MONOTONIC ns; UINT64_MAX: no deadline */
} cf__scope;

struct cf__parker {
    _Atomic uint32_t      state;   /* IDLE, ARMED(_NOCANCEL), or WOKEN + reason (parker.c) */
    atomic_bool           cancel_pending;   /* coroutines: a cancel not yet delivered to a wait */
    const cf__parker_ops *ops;
    const void           *own;     /* what the caller itself completes (a coroutine's future):
                                      waiting on it is EDEADLK */
    /* Deadline scopes (scope.c): a stack, owned by the parker's thread or coroutine. */
    uint64_t              scope_at;   /* the earliest deadline of the open scopes, or UINT64_MAX */
    cf__scope            *scopes;
    uint32_t              nscopes, cap;
    cf__scope             scope0[2];  /* the first two need no allocation */
};

/* The coroutine running on this thread, as its loop installed it, or NULL (a plain thread). */
extern CF__TLS cf__parker *cf__parker_cur;

/* This thread's own parker (initial-exec TLS: one %fs-relative address, no call). */
extern CF__TLS cf__parker cf__parker_own;
static inline cf__parker *cf__parker_thread(void) { return &cf__parker_own; }
static inline cf__parker *cf__parker_self(void)
{
    cf__parker *p = cf__parker_cur;
    return p ? p : &cf__parker_own;
}
static inline bool cf__in_coroutine(void) { return cf__parker_cur != 0; }

/* Initializes a parker for ops (a loop does it for each coroutine). */
void cf__parker_init(cf__parker *p, const cf__parker_ops *ops);
/* Frees what the parker's scopes allocated. */
void cf__parker_destroy(cf__parker *p);

/* Arms p. cancellable false: a cancel does not end this wait (it stays pending for the next),
 * for waits that must finish (re-taking a condition's lock, freeing an executor). */
void cf__parker_arm(cf__parker *p, bool cancellable);
/* Claims an armed p for reason without resuming it: true if this call won. */
bool cf__parker_claim(cf__parker *p, int reason);
/* Any thread: claims p for reason and resumes it. true if this call won. */
bool cf__parker_wake(cf__parker *p, int reason);
/* Suspends until the wake: the winner's reason (0 from a waker) | ETIMEDOUT at d | ECANCELED
 * (cancellable waits of a cancelled coroutine; the cancel is then delivered). */
int  cf__parker_park(cf__parker *p, const cf__deadline *d, unsigned flags);
/* Ends an armed wait without parking: r, unless a waker won meanwhile (then its reason). */
int  cf__parker_unarm(cf__parker *p, int r);
/* A cancel not yet delivered is taken: true once per cancel (threads: never). Inline: every
 * wait asks, most find nothing (one relaxed load). */
static inline bool cf__parker_take_cancel(cf__parker *p)
{
    return atomic_load_explicit(&p->cancel_pending, memory_order_relaxed) &&
           atomic_exchange_explicit(&p->cancel_pending, false, memory_order_relaxed);
}
/* For a coroutine's loop: marks a cancel pending and ends the wait it is in, if any. */
void cf__parker_cancel(cf__parker *p);

#define CF__WAIT_FDS 4

/* Waits for fds as the current parker does (poll, or the loop): see cf__parker_ops.wait_fds. */
int  cf__wait_fds(struct pollfd *fds, int n, const cf__deadline *d);
/* Waits for w (see cf__parker_ops.wait_watch), as the current parker does. */
int  cf__wait_watch(cf__fdwatch *w, short events, const cf__deadline *d);
/* One fd: 0 (ready, hung up or in error) | ETIMEDOUT | ECANCELED | EBADF | an errno. */
int  cf__wait_fd(int fd, short events, const cf__deadline *d);

/* Naps for ns nanoseconds, or until d if that comes first, as the caller's parker waits (for the
 * few waits with nothing to watch: another process's lock, a Unix socket's full backlog).
 * 0 (the nap ended) | ETIMEDOUT (d passed) | ECANCELED (cancellable, a cancelled coroutine). */
int  cf__wait_nap(uint64_t ns, const cf__deadline *d, bool cancellable);

/* The deadline of a wait the user asked for: timeout (seconds; EINVAL for NaN) cut to the
 * earliest open deadline scope of the caller (scope.c). Internal waits that must finish use
 * cf__deadline_init instead. */
int  cf__wait_deadline(cf__deadline *d, double timeout);

#endif
