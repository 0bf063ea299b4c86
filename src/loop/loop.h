/* SPDX-License-Identifier: MIT */
/* loop.h (internal): a coroutine and a loop, shared by the files of src/loop/.
 *
 * Threads. A loop's coroutines, ready list, timers and stacks belong to the thread running the
 * loop (loop->running). Other threads reach a loop only through cf__loop_make_ready (a
 * coroutine woken or spawned from elsewhere goes on the remote list, under rlock) and
 * cf__loop_ring (the eventfd). Lock order: a future's lock -> rlock (wakes run in listeners). */
#ifndef CF__LOOP_INTERNAL_H
#define CF__LOOP_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "cfutures/loop.h"
#include "../common/lock.h"
#include "../future/future.h"
#include "../future/task.h"
#include "../wait/parker.h"
#include "stack.h"
#include "switch.h"
#include "timer.h"

typedef struct cf__coro cf__coro;

struct cf__coro {
    cf__ctx      ctx;
    cf_loop     *loop;
    cf_future   *future;          /* the loop's reference */
    cf_fn        fn;
    void        *arg;
    cf__list     qlink;           /* in the ready, the remote or the free list (one at a time) */
    cf__list     all_link;        /* in `all` from its start to its finish */
    cf__stack    stack;
    bool         started, done, free_cancelled;
    bool         heap;            /* calloc'd (spawned from another thread), not from a slab */
    cf__parker   parker;          /* how it waits (wait/parker.h): wakes queue it on its loop */
    bool         cancel_accepted; /* under future->lock: the coroutine will end CANCELLED */
    bool         finishing;       /* under future->lock: too late to cancel */
    cf__timer    timer;
    cf__task_ctx task;            /* cf_task_cancelled / cf_task_fail while it runs */
    void        *result;
    void        *asan_fake;
    void        *tsan_fiber;
};

struct cf_loop {
    int              epfd, evfd;
    cf__list         ready;                /* FIFO */
    size_t           nready, budget;       /* runs left in this pass (see loop.c) */
    bool             from_sched;           /* the coroutine now running was entered from it */
    cf__lock         rlock;                /* guards remote */
    cf__list         remote;
    size_t           nremote;              /* under rlock */
    atomic_bool      remote_any;           /* remote is not empty: a hint, read without rlock */
    _Atomic uint32_t sleeping;             /* the doorbell's word (common/doorbell.h) on evfd */
    atomic_bool      stop;
    bool             stop_seen;            /* the budget was cut to a stop (loop.c) */
    atomic_bool      running;
    atomic_size_t    live;                 /* spawned and not finished */
    cf__list         all;                  /* started and not finished (for cf_loop_free) */
    cf__timer_heap   timers;               /* room for one timer per started coroutine */
    size_t           nstarted;
    size_t           fd_waits;             /* coroutines waiting for fds */
    _Atomic int      signals;              /* signal handlers of this loop (signal.c) */
    bool             sig_watched;          /* the signals' eventfd is in epfd (under its lock) */
    int              host_timer;           /* cf_loop_fd's timerfd, in epfd (loop.c) */
    cf__list         regs, dead_regs;      /* watched fds (watch.c), under its mutex */
    atomic_bool      dead_any;
    atomic_bool      host_timer_made;
    size_t           future_waits;         /* coroutines parked on a future (see spin_for_remote) */
    unsigned         passes;
    cf__ctx          sched;                /* the context of the thread running the loop */
    cf__owner        owner;                /* hooks on the coroutines' futures */
    cf__stack_pool   stacks;
    cf__list         co_free;              /* finished coroutines' memory, for the next spawns */
    struct coro_slab *slabs;
    /* The stack the coroutines return to, as AddressSanitizer must be told. */
    const void      *sched_bottom;
    size_t           sched_size;
    void            *sched_fake;
    void            *tsan_sched;
};

/* The coroutine running on this thread (its parker is the current one), or NULL. */
static inline cf__coro *cf__coro_of(cf__list *qlink) { return cf__container_of(qlink, cf__coro, qlink); }

static inline cf__coro *cf__coro_self(void)
{
    cf__parker *p = cf__parker_cur;
    return p ? cf__container_of(p, cf__coro, parker) : NULL;
}

/* The loop being run by this thread, or NULL. */
extern CF__TLS cf_loop *cf__loop_running;

/* Makes co ready to run: on the loop's thread straight into the ready list, from any other
 * thread onto the remote list (and the loop is woken). */
void cf__loop_make_ready(cf_loop *loop, cf__coro *co);
void cf__loop_ring(cf_loop *loop);
/* The next ready coroutine, taken off the list, if the running one may hand over to it directly
 * (it has started and the pass's budget lasts); else NULL. */
cf__coro *cf__loop_next_direct(cf_loop *loop);
/* The loop's thread runs co until it suspends or returns (then it is finished and freed). */
void cf__loop_resume(cf_loop *loop, cf__coro *co);
/* The running coroutine gives the thread back to its loop; done: for good. */
void cf__coro_switch_out(cf__coro *co, bool done);
void cf__coro_slabs_free(cf_loop *loop);
/* The coroutine parker's wait for fds (await.c). */
int  cf__coro_wait_fds(cf__parker *p, struct pollfd *fds, int n, const cf__deadline *d);
/* Watched fds (watch.c): the coroutine parker's wait; whether an event is a watch's; delivering
 * a poll's watch events; freeing detached registrations before a poll; detaching all (free). */
int  cf__coro_wait_watch(cf__parker *p, cf__fdwatch *w, short events, const cf__deadline *d);
bool cf__loop_watch_event(void *data);
void cf__loop_watch_deliver(cf_loop *loop, const struct epoll_event *evs, int n);
void cf__loop_watch_reap(cf_loop *loop);
void cf__loop_watch_free_all(cf_loop *loop);
/* Signals (signal.c): anything pending for some loop; spawning the handlers of this loop's (and
 * ringing the others'); removing this loop's handlers (cf_loop_free); the epoll marker. */
extern atomic_bool cf__signals_pending;
void cf__loop_dispatch_signals(cf_loop *loop);
void cf__loop_remove_signals(cf_loop *loop);
bool cf__is_signal_event(const void *ptr);
/* The loop's hooks on a coroutine's future. */
void cf__coro_owner_init(cf__owner *o);

#endif
