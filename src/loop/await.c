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

int cf__coro_wait_fd(cf__parker *p, int fd, short events, const cf__deadline *d)
{
    cf__coro *co = cf__container_of(p, cf__coro, parker);
    cf_loop *loop = co->loop;
    /* POLLIN/POLLOUT/POLLPRI have the same values as their EPOLL twins. One-shot: it fires
     * once, so a coroutine that stopped waiting (timeout, cancel) gets no late event. */
    struct epoll_event ev = { .events = (uint32_t)events | EPOLLONESHOT, .data.ptr = co };
    int reg = fd, dupfd = -1;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int e = errno;
        if (e == EPERM)          /* a regular file (or a directory): always ready, as poll says */
            return 0;
        if (e != EEXIST)
            return e;            /* EBADF, ENOMEM, ENOSPC */
        /* Another coroutine waits on fd: epoll keys a registration on (file, fd), so a duplicate
         * descriptor gets its own. */
        if ((dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
            return errno;
        reg = dupfd;
        if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, dupfd, &ev) != 0) {
            e = errno;
            close(dupfd);
            return e;
        }
    }
    loop->fd_waits++;
    cf__parker_arm(p, true);
    int r = cf__parker_park(p, d, 0);
    loop->fd_waits--;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, reg, NULL);
    if (dupfd >= 0)
        close(dupfd);
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
