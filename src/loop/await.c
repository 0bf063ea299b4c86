/* SPDX-License-Identifier: MIT */
/* await.c: the awaits of loop.h: a future (cf_await), time (cf_sleep), its turn (cf_yield), an
 * fd (cf_await_fd), many futures (cf_gather), and the coroutine parker's fd wait, which registers
 * the fd with the loop's epoll. Each goes through the caller's parker (wait/parker.h), so outside
 * a coroutine it blocks the thread instead, and a deadline scope cuts it.
 *
 * A cancel is delivered at the next await even when that await would not suspend (its future is
 * already done): "the await it is suspended in, or its next one" gets ECANCELED, once. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "loop.h"

CF_EXTERN int cf_await(cf_future *f, double timeout, void **value)
{
    return cf_future_result(f, timeout, value);   /* suspends in a coroutine (cf__future_wait) */
}

CF_EXTERN int cf_yield(void)
{
    cf__coro *co = cf__coro_self();
    if (!co) {
        sched_yield();
        return 0;
    }
    /* A cancel is delivered on the way back, as asyncio's sleep(0) raises when the task resumes. */
    cf__loop_make_ready(co->loop, co);   /* to the back of the ready list */
    cf__coro_switch_out(co, false);
    return cf__parker_take_cancel(&co->parker) ? ECANCELED : 0;
}

CF_EXTERN int cf_sleep(double seconds)
{
    cf__deadline d;
    if (isnan(seconds))
        return EINVAL;
    if (seconds <= 0)
        return cf_yield();
    cf__wait_deadline(&d, seconds);
    /* Nobody wakes this wait: its deadline ends it (or a cancel, which park delivers at once if
     * one is pending). A thread sleeps on its parker's futex the same way. */
    cf__parker *p = cf__parker_self();
    cf__parker_arm(p, true);
    int r = cf__parker_park(p, &d, 0);
    if (r == ETIMEDOUT && !d.scoped)
        return 0;                        /* the sleep ended */
    return r;                            /* ECANCELED, or a deadline scope's ETIMEDOUT */
}

#define POLL_EVENTS (POLLIN | POLLOUT | POLLPRI)

CF_EXTERN int cf_await_fd(int fd, short events, double timeout)
{
    cf__deadline d;
    if (cf__wait_deadline(&d, timeout) || !(events & POLL_EVENTS) || (events & ~POLL_EVENTS))
        return EINVAL;
    if (fd < 0)
        return EBADF;
    return cf__wait_fd(fd, events, &d);
}

/* Registers fd for co: one-shot (it fires once, so a coroutine that stopped waiting gets no
 * late event). Another coroutine may wait on fd already: epoll keys a registration on (file,
 * fd), so a duplicate descriptor gets its own (*dupfd, to close). 0 | 1 (a regular file or a
 * directory: always ready, as poll says) | an errno. */
static int add_fd(cf_loop *loop, cf__coro *co, int fd, short events, int *reg, int *dupfd)
{
    /* POLLIN/POLLOUT/POLLPRI have the same values as their EPOLL twins. */
    struct epoll_event ev = { .events = (uint32_t)events | EPOLLONESHOT, .data.ptr = co };
    *reg = fd;
    *dupfd = -1;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    int e = errno;
    if (e == EPERM)
        return 1;
    if (e != EEXIST)
        return e;            /* EBADF, ENOMEM, ENOSPC */
    if ((*dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
        return errno;
    *reg = *dupfd;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, *dupfd, &ev) != 0) {
        e = errno;
        close(*dupfd);
        *dupfd = -1;
        return e;
    }
    return 0;
}

int cf__coro_wait_fds(cf__parker *p, struct pollfd *fds, int n, const cf__deadline *d)
{
    cf__coro *co = cf__container_of(p, cf__coro, parker);
    cf_loop *loop = co->loop;
    int reg[CF__WAIT_FDS], dup[CF__WAIT_FDS], added = 0, r = 0;
    bool ready = false;
    for (; added < n; added++) {
        int a = add_fd(loop, co, fds[added].fd, fds[added].events, &reg[added], &dup[added]);
        if (a == 1)
            ready = true;
        else if (a) {
            r = a;
            break;
        }
    }
    if (!r && !ready) {
        loop->fd_waits++;
        cf__parker_arm(p, true);
        r = cf__parker_park(p, d, 0);
        loop->fd_waits--;
    }
    for (int i = 0; i < added; i++) {
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, reg[i], NULL);
        if (dup[i] >= 0)
            close(dup[i]);
    }
    if (r == 0 && poll(fds, (nfds_t)n, 0) < 0)   /* which of them: as poll would say */
        r = errno;
    return r;
}

CF_EXTERN int cf_gather(cf_future *const *fs, size_t n, double timeout, void **values)
{
    cf__deadline d;
    if ((n > 0 && !fs) || cf__wait_deadline(&d, timeout))
        return EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!fs[i])
            return EINVAL;
    /* One pass: waiting in argument order, every earlier future is done when f is looked at.
     * After a timeout (or this coroutine's cancel) the rest are only looked at. */
    int waited = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        cf_future *f = fs[i];
        if (!waited)
            waited = cf__future_wait(f, &d);   /* ETIMEDOUT, or ECANCELED: this coroutine's */
        void *v = NULL;
        cf_state s = cf__state_of(atomic_load_explicit(&f->word, memory_order_acquire));
        if (s == CF_CANCELLED) {
            if (!first)
                first = ECANCELED;
        } else if (s == CF_FINISHED) {
            if (f->err && !first)
                first = f->err;
            else if (!f->err)
                v = f->value;
        }
        if (values)
            values[i] = v;
    }
    return waited ? waited : first;
}
