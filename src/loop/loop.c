/* SPDX-License-Identifier: MIT */
/* loop.c: the event loop: creation and teardown, the ready list, the remote list, one scheduler
 * pass, and running until a future is done or no coroutine is left.
 *
 * Design notes.
 * - One pass: take the remote list, fire due timers, poll I/O (blocking only when nothing is
 *   ready), then run ready coroutines in FIFO order: all those ready when the pass began, or
 *   PASS_MIN runs if that is more (the budget), so that coroutines that keep yielding cannot
 *   starve timers and I/O. While coroutines are ready, I/O is polled only every 16th pass and
 *   only if a coroutine waits on an fd: a busy loop makes no syscall.
 * - Direct hand-off: a coroutine that suspends while the budget lasts and the next ready
 *   coroutine has started switches straight to it (cf__loop_next_direct) instead of through the
 *   scheduler: one context switch per hand-over instead of two. The scheduler learns who comes
 *   back from cf__parker_cur.
 * - Waking a sleeping loop: the doorbell (common/doorbell.h). A thread that puts a coroutine on
 *   the remote list (rlock held) rings it; before sleeping, the loop announces itself and then
 *   looks at the remote list under rlock: whichever of the two takes rlock first, the item is
 *   either seen or the bell rung. A busy loop is not announced, so completions from other
 *   threads cost it no syscall, and rings coalesce: one write per sleep at most.
 * - Before sleeping while a coroutine awaits a future, the loop watches the remote list for up to
 *   30 us, yielding the CPU (spin_for_remote): a thread pool's result usually comes back within a
 *   wake-up's time, and the completing thread then writes no eventfd (the loop is not announced).
 * - Both lists link coroutines through co->qlink (list.h); a coroutine is in at most one of
 *   them, once (a spawn, or one won wake). */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "../common/doorbell.h"
#include "fiber_san.h"
#include "loop.h"

#define EVENTS_PER_POLL 64
#define IO_EVERY        16
#define PASS_MIN        64   /* coroutine runs a pass may make, at least */
#define SPIN_NS      30000   /* how long an idle loop watches for a future's completion */

CF__TLS cf_loop *cf__loop_running;

CF_EXTERN cf_loop *cf_loop_new(void)
{
    cf_loop *loop = calloc(1, sizeof *loop);
    if (!loop) {
        errno = ENOMEM;
        return NULL;
    }
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->evfd = cf__bell_open();
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    if (loop->epfd < 0 || loop->evfd < 0 || epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->evfd, &ev)) {
        int e = errno;
        if (loop->epfd >= 0)
            close(loop->epfd);
        if (loop->evfd >= 0)
            close(loop->evfd);
        free(loop);
        errno = e;
        return NULL;
    }
    cf__lock_init(&loop->rlock);
    loop->stacks.size = CF__STACK_SIZE;
    cf__list_init(&loop->ready);
    cf__list_init(&loop->remote);
    cf__list_init(&loop->all);
    cf__list_init(&loop->co_free);
    cf__list_init(&loop->regs);
    cf__list_init(&loop->dead_regs);
    cf__coro_owner_init(&loop->owner);
    return loop;
}

/* ---- the two lists ---- */

static void push_ready(cf_loop *loop, cf__coro *co)
{
    loop->nready++;
    cf__list_push_back(&loop->ready, &co->qlink);
}

static void ring_locked(cf_loop *loop)
{
    cf__bell_ring(&loop->sleeping, loop->evfd);
}

void cf__loop_ring(cf_loop *loop)
{
    cf__lock_acquire(&loop->rlock);
    ring_locked(loop);
    cf__lock_release(&loop->rlock);
}

void cf__loop_make_ready(cf_loop *loop, cf__coro *co)
{
    if (cf__loop_running == loop) {
        push_ready(loop, co);
        return;
    }
    /* Everything is done under rlock, the eventfd write included: once the loop has taken the
     * list (under rlock), this thread no longer touches the loop, which may then be freed. */
    cf__lock_acquire(&loop->rlock);
    cf__list_push_back(&loop->remote, &co->qlink);
    loop->nremote++;
    atomic_store_explicit(&loop->remote_any, true, memory_order_relaxed);
    ring_locked(loop);
    cf__lock_release(&loop->rlock);
}

static cf__coro *pop_ready(cf_loop *loop)
{
    loop->nready--;
    return cf__coro_of(cf__list_pop_front(&loop->ready));
}

/* A stop seen for the first time ends the pass after the coroutines ready now (asyncio runs
 * the batch that was ready, not a budget's worth of a coroutine that keeps yielding). */
static void notice_stop(cf_loop *loop)
{
    if (!loop->stop_seen && atomic_load_explicit(&loop->stop, memory_order_relaxed)) {
        loop->stop_seen = true;
        if (loop->budget > loop->nready)
            loop->budget = loop->nready;
    }
}

cf__coro *cf__loop_next_direct(cf_loop *loop)
{
    notice_stop(loop);
    if (loop->budget == 0 || cf__list_empty(&loop->ready) ||
        !cf__coro_of(cf__list_first(&loop->ready))->started)
        return NULL;
    loop->budget--;
    return pop_ready(loop);
}

static void take_remote(cf_loop *loop)
{
    /* A relaxed peek first: a pass must not cost two atomic RMWs when nothing came. An item
     * pushed right after the peek is taken on the next pass, or before the loop sleeps (which
     * looks under rlock). */
    if (!atomic_load_explicit(&loop->remote_any, memory_order_relaxed))
        return;
    cf__lock_acquire(&loop->rlock);
    atomic_store_explicit(&loop->remote_any, false, memory_order_relaxed);
    loop->nready += loop->nremote;
    loop->nremote = 0;
    cf__list_splice(&loop->ready, &loop->remote);
    cf__lock_release(&loop->rlock);
}

/* ---- one pass ---- */

static void fire_timers(cf_loop *loop)
{
    cf__timer *t = cf__timer_first(&loop->timers);
    if (!t)
        return;
    uint64_t now = cf__mono_ns();
    while ((t = cf__timer_first(&loop->timers)) && t->at <= now) {
        cf__timer_remove(&loop->timers, t);
        cf__parker_wake(&cf__container_of(t, cf__coro, timer)->parker, ETIMEDOUT);
    }
}

/* Nanoseconds epoll may sleep: until the first timer, or UINT64_MAX (no timer). */
static uint64_t sleep_ns(cf_loop *loop)
{
    cf__timer *t = cf__timer_first(&loop->timers);
    if (!t)
        return UINT64_MAX;
    uint64_t now = cf__mono_ns();
    return t->at <= now ? 0 : t->at - now;
}

/* epoll_wait with a nanosecond timeout (UINT64_MAX: forever). epoll_pwait2 (Linux 5.11) keeps
 * short sleeps short; without it, milliseconds rounded up, so a timer never fires early. Called
 * through syscall(): glibc's wrapper (2.35) would make the library need that glibc to load. */
static int wait_events(cf_loop *loop, struct epoll_event *evs, int max, uint64_t ns)
{
#ifdef SYS_epoll_pwait2
    static atomic_bool no_pwait2;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
        int n = (int)syscall(SYS_epoll_pwait2, loop->epfd, evs, max,
                             ns == UINT64_MAX ? NULL : &ts, NULL, (size_t)0); /* no mask */
        if (n >= 0 || errno != ENOSYS)
            return n;
        atomic_store_explicit(&no_pwait2, true, memory_order_relaxed);
    }
#endif
    uint64_t ms = ns == UINT64_MAX ? 0 : (ns + 999999) / 1000000;
    int timeout = ns == UINT64_MAX ? -1 : ms > INT32_MAX ? INT32_MAX : (int)ms;
    return epoll_wait(loop->epfd, evs, max, timeout);
}

/* A coroutine awaits a future that another thread will complete, often within a wake-up's time:
 * before sleeping in epoll, watch the remote list for a moment. It yields while it watches: on a
 * small machine the thread that will complete the future may be queued on this CPU. */
static bool spin_for_remote(cf_loop *loop)
{
    /* Watching, not announced: completers need not ring meanwhile. If nothing comes, poll_io
     * announces the loop and looks under rlock before it sleeps, as usual. */
    uint64_t until = cf__mono_ns() + SPIN_NS;
    while (!atomic_load_explicit(&loop->remote_any, memory_order_relaxed)) {
        cf__timer *t = cf__timer_first(&loop->timers);
        uint64_t now = cf__mono_ns();
        if (now >= until || (t && t->at <= now))
            return false;
        sched_yield();
    }
    return true;
}

/* Announces the loop to its wakers (the doorbell), then looks at the remote list under rlock:
 * true if a coroutine is waiting there (whichever of a waker and this takes rlock first, the
 * coroutine is either seen here or the bell rung). */
static bool announce(cf_loop *loop)
{
    cf__bell_sleeping(&loop->sleeping);
    cf__lock_acquire(&loop->rlock);
    bool remote = !cf__list_empty(&loop->remote);
    cf__lock_release(&loop->rlock);
    return remote;
}

/* Polls the epoll set; block: sleeps while nothing is ready, up to cap_ns (UINT64_MAX: no cap)
 * or the first timer. */
static void poll_io(cf_loop *loop, bool block, uint64_t cap_ns)
{
    uint64_t timeout = 0;
    if (block && loop->future_waits && spin_for_remote(loop) && !loop->fd_waits)
        return;   /* it came: no syscall at all */
    if (block) {
        timeout = announce(loop) ? 0 : sleep_ns(loop);
        if (timeout > cap_ns)
            timeout = cap_ns;
    }
    struct epoll_event evs[EVENTS_PER_POLL];
    cf__loop_watch_reap(loop);             /* no event fetched before names them any more */
    int n = wait_events(loop, evs, EVENTS_PER_POLL, timeout);
    if (block)
        atomic_store_explicit(&loop->sleeping, 0, memory_order_relaxed);   /* busy again */
    bool watches = false;
    for (int i = 0; i < n; i++) {
        if (cf__loop_watch_event(evs[i].data.ptr)) {
            watches = true;
            continue;
        }
        cf__coro *co = evs[i].data.ptr;
        if (!co) {
            cf__bell_drain(loop->evfd);
            continue;
        }
        if (cf__is_signal_event(co))
            continue;                      /* the next pass dispatches (signal.c) */
        if ((void *)co == (void *)&loop->host_timer) {
            uint64_t v;
            ssize_t r = read(loop->host_timer, &v, sizeof v);   /* consumed: cf_loop_fd quiets */
            (void)r;
            continue;
        }
        cf__parker_wake(&co->parker, 0);   /* ready, hang-up or error: cf_await_fd says 0 for all three */
    }
    if (watches)
        cf__loop_watch_deliver(loop, evs, n);
}

/* Signals delivered since the last look become coroutines (signal.c). */
static void signals(cf_loop *loop)
{
    if (atomic_load_explicit(&cf__signals_pending, memory_order_relaxed) &&
        atomic_load_explicit(&loop->signals, memory_order_relaxed))
        cf__loop_dispatch_signals(loop);
}

/* One pass; cap_ns: how long it may sleep when nothing is ready (0: never; UINT64_MAX: until
 * something comes); always_io: poll the epoll set even with coroutines ready (run_once). */
static void pass(cf_loop *loop, uint64_t cap_ns, bool always_io)
{
    signals(loop);
    take_remote(loop);
    fire_timers(loop);
    bool block = cap_ns > 0 && cf__list_empty(&loop->ready);
    if (block || always_io || (loop->fd_waits && ++loop->passes % IO_EVERY == 0)) {
        poll_io(loop, block, cap_ns);
        signals(loop);
        take_remote(loop);
        fire_timers(loop);
    }
    loop->budget = loop->nready > PASS_MIN ? loop->nready : PASS_MIN;
    for (;;) {
        notice_stop(loop);
        if (cf__list_empty(&loop->ready) || loop->budget == 0)
            break;
        loop->budget--;
        cf__loop_resume(loop, pop_ready(loop));
    }
}

static void run_pass(cf_loop *loop, bool may_block)
{
    pass(loop, may_block ? UINT64_MAX : 0, false);
}

/* ---- running ---- */

typedef struct until_listener {
    cf__waiter l;
    cf_loop   *loop;
} until_listener;

static bool until_done(cf__waiter *l, int reason)
{
    (void)reason;
    cf_loop *loop = cf__container_of(l, until_listener, l)->loop;
    if (cf__loop_running != loop)
        cf__loop_ring(loop);   /* completed elsewhere: make the loop look */
    return true;
}

static bool finished(cf_loop *loop, cf_future *until)
{
    return until ? cf_future_done(until)
                 : atomic_load_explicit(&loop->live, memory_order_acquire) == 0;
}

static int run(cf_loop *loop, cf_future *until)
{
    if (cf__coro_self() || atomic_exchange(&loop->running, true))
        return EBUSY;
    cf_loop *outer = cf__loop_running;
    cf__loop_running = loop;
    loop->tsan_sched = cf__tsan_current();
    until_listener ul = { .loop = loop };
    cf__waiter_init(&ul.l, NULL);
    ul.l.func = until_done;
    bool listening = until && cf__future_listen(until, &ul.l);

    int r = 0;
    loop->stop_seen = false;
    while (!finished(loop, until)) {
        run_pass(loop, !atomic_load_explicit(&loop->stop, memory_order_relaxed));
        if (atomic_load_explicit(&loop->stop, memory_order_relaxed)) {
            r = finished(loop, until) ? 0 : EINTR;
            break;
        }
    }
    /* A stop is spent by the run it ends, and by one that had nothing to do: it never cuts the
     * run after it short. */
    atomic_store(&loop->stop, false);
    if (listening)
        cf__future_unlisten(until, &ul.l);
    cf__loop_running = outer;
    atomic_store(&loop->running, false);
    return r;
}

/* ---- embedding (libuv's uv_run(UV_RUN_ONCE) and uv_backend_fd) ----
 * The host polls epfd. Ready coroutines and due timers are not fd events, so a timerfd in the
 * epoll set stands for them: after each run_once it is armed at once (something is ready), at
 * the first timer, or not at all, and the loop is announced to its wakers (the doorbell), so a
 * coroutine woken from another thread rings evfd. A pass reads both, so the fd goes quiet once
 * the work it announced is done. */

static void arm_for_host(cf_loop *loop)
{
    bool remote = announce(loop);
    struct itimerspec its = { { 0, 0 }, { 0, 0 } };
    int flags = 0;
    cf__timer *t = cf__timer_first(&loop->timers);
    if (remote || !cf__list_empty(&loop->ready) ||
        atomic_load_explicit(&cf__signals_pending, memory_order_relaxed)) {
        its.it_value.tv_nsec = 1;                      /* now */
    } else if (t) {
        its.it_value.tv_sec = (time_t)(t->at / 1000000000u);
        its.it_value.tv_nsec = (long)(t->at % 1000000000u);
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;
        flags = TFD_TIMER_ABSTIME;
    }
    timerfd_settime(loop->host_timer, flags, &its, NULL);
}

CF_EXTERN int cf_loop_fd(cf_loop *loop)
{
    if (!loop) {
        errno = EINVAL;
        return -1;
    }
    if (atomic_load(&loop->host_timer_made))
        return loop->epfd;
    cf__lock_acquire(&loop->rlock);
    if (!atomic_load(&loop->host_timer_made)) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &loop->host_timer };
        if (fd < 0 || epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            cf__lock_release(&loop->rlock);
            errno = e;
            return -1;
        }
        loop->host_timer = fd;
        atomic_store(&loop->host_timer_made, true);
    }
    cf__lock_release(&loop->rlock);
    arm_for_host(loop);                                /* work may be waiting already */
    return loop->epfd;
}

CF_EXTERN int cf_loop_run_once(cf_loop *loop, double timeout)
{
    if (!loop || isnan(timeout))
        return EINVAL;
    if (cf__coro_self() || atomic_exchange(&loop->running, true))
        return EBUSY;
    cf_loop *outer = cf__loop_running;
    cf__loop_running = loop;
    loop->tsan_sched = cf__tsan_current();
    atomic_store_explicit(&loop->sleeping, 0, memory_order_relaxed);
    uint64_t cap = 0;
    bool idle = atomic_load_explicit(&loop->live, memory_order_acquire) == 0 &&
                !atomic_load(&loop->signals);          /* nothing to wait for: return at once */
    if (!idle && timeout != 0)
        cap = timeout < 0 || timeout > 1e9 ? UINT64_MAX : (uint64_t)(timeout * 1e9);
    loop->stop_seen = false;
    pass(loop, cap, true);
    atomic_store(&loop->stop, false);
    if (atomic_load(&loop->host_timer_made))
        arm_for_host(loop);
    cf__loop_running = outer;
    atomic_store(&loop->running, false);
    return 0;
}

CF_EXTERN int cf_loop_run(cf_loop *loop)
{
    if (!loop)
        return EINVAL;
    return run(loop, NULL);
}

CF_EXTERN int cf_loop_run_until_complete(cf_loop *loop, cf_future *f, void **value)
{
    if (!loop || !f)
        return EINVAL;
    int r = run(loop, f);
    if (r)
        return r;
    return cf_future_result(f, 0, value);   /* not in a coroutine: never blocks, f is done */
}

CF_EXTERN void cf_loop_stop(cf_loop *loop)
{
    if (!loop)
        return;
    atomic_store(&loop->stop, true);
    cf__loop_ring(loop);
}

CF_EXTERN int cf_loop_set_stack_size(cf_loop *loop, size_t bytes)
{
    if (!loop || bytes < CF__STACK_MIN || bytes > CF__STACK_MAX)
        return EINVAL;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    bytes = (bytes + page - 1) / page * page;
    /* Stacks of the old size may be in use or pooled: only a loop that never started a
     * coroutine may change it (and only while it is not running). */
    if (atomic_load(&loop->running) || loop->stacks.nfree || loop->stacks.arenas || loop->nstarted)
        return EBUSY;
    loop->stacks.size = bytes;
    return 0;
}

CF_EXTERN double cf_loop_time(cf_loop *loop)
{
    (void)loop;
    return (double)cf__mono_ns() * 1e-9;
}

CF_EXTERN cf_loop *cf_loop_current(void)
{
    cf__coro *co = cf__coro_self();
    return co ? co->loop : NULL;
}

/* ---- teardown ---- */

static void cancel_once(cf__coro *co)
{
    if (!co->free_cancelled) {
        co->free_cancelled = true;
        cf_future_cancel(co->future);
    }
}

/* Cancels every coroutine not cancelled by free yet: started ones, and those waiting to start. */
static void cancel_left(cf_loop *loop)
{
    take_remote(loop);
    cf__list *n, *tmp;
    cf__list_each(n, tmp, &loop->all)
        cancel_once(cf__container_of(n, cf__coro, all_link));
    /* Unstarted ones become CANCELLED and are dropped when they come up. cf_future_cancel may
     * run done-callbacks, which may spawn: walk a detached copy of the list. */
    cf__list ready;
    cf__list_init(&ready);
    cf__list_splice(&ready, &loop->ready);
    cf__list_each(n, tmp, &ready)
        cancel_once(cf__coro_of(n));
    cf__list_splice(&ready, &loop->ready);   /* what callbacks spawned goes after them */
    cf__list_splice(&loop->ready, &ready);
}

CF_EXTERN void cf_loop_free(cf_loop *loop)
{
    if (!loop || cf__coro_self() || atomic_exchange(&loop->running, true))
        return;
    cf__loop_remove_signals(loop);
    cf_loop *outer = cf__loop_running;
    cf__loop_running = loop;
    loop->tsan_sched = cf__tsan_current();
    while (atomic_load_explicit(&loop->live, memory_order_acquire) > 0) {
        cancel_left(loop);
        run_pass(loop, true);
    }
    cf__loop_running = outer;
    /* Whoever woke a coroutine of this loop from another thread did it under rlock: taking it
     * once more waits the last of them out. */
    cf__lock_acquire(&loop->rlock);
    cf__lock_release(&loop->rlock);
    cf__loop_watch_free_all(loop);
    close(loop->epfd);
    close(loop->evfd);
    if (atomic_load(&loop->host_timer_made))
        close(loop->host_timer);
    cf__timer_heap_destroy(&loop->timers);
    cf__stack_pool_destroy(&loop->stacks);
    cf__coro_slabs_free(loop);
    free(loop);
}
