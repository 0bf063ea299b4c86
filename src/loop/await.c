/* await.c: what a coroutine can wait for: a future (cf_await, and cf__future_wait under
 * cf_future_result, cf_wait, cf_map, ...), time (cf_sleep), its turn (cf_yield), an fd
 * (cf_await_fd), many futures (cf_gather). Outside a coroutine each blocks the thread instead.
 *
 * A cancel is delivered at the next await even when that await would not suspend (its future is
 * already done): "the await it is suspended in, or its next one" gets ECANCELED, once.
 * A future's waker is a listener (future.h): it runs in the completing thread under the future's
 * lock, so it only wins the coroutine's wake and queues it. cf__future_unlisten after the park
 * waits out a notify still running, so the listener may live on the coroutine's stack. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "loop.h"

typedef struct future_waiter {
    cf__listener l;     /* first: notify gets &w->l */
    cf__coro    *co;
} future_waiter;

static void future_done(cf__listener *l, cf_future *f)
{
    (void)f;
    cf__coro_wake(((future_waiter *)l)->co, 0);
}

int cf__coro_wait_future(cf__coro *co, cf_future *f, const cf__deadline *d)
{
    if (f == co->future)
        return EDEADLK;         /* its own end: it would wait forever (asyncio: RuntimeError) */
    if (cf__coro_take_cancel(co))
        return ECANCELED;
    if (cf_future_done(f))
        return 0;
    if (d->poll)
        return ETIMEDOUT;
    future_waiter w = { .l = { .notify = future_done }, .co = co };
    cf__coro_arm(co);
    if (!cf__future_listen(f, &w.l))
        return cf__coro_unarm(co, 0);   /* done meanwhile */
    co->loop->future_waits++;
    int r = cf__coro_park(co, d);
    co->loop->future_waits--;
    cf__future_unlisten(f, &w.l);
    return r;
}

int cf__coro_retry(const cf__deadline *d, int (*attempt)(void *ctx), void *ctx)
{
    double nap = 20e-6;
    for (;;) {
        int r = attempt(ctx);
        if (r != EAGAIN)
            return r;
        if (cf__deadline_passed(d))
            return ETIMEDOUT;
        double left = d->forever ? nap : cf__deadline_left(d);
        if (cf_sleep(left < nap ? left : nap) == ECANCELED)
            return ECANCELED;
        nap = nap * 2 < 1e-3 ? nap * 2 : 1e-3;
    }
}

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
    return cf__coro_take_cancel(co) ? ECANCELED : 0;
}

CF_EXTERN int cf_sleep(double seconds)
{
    cf__deadline d;
    if (isnan(seconds))
        return EINVAL;
    cf__coro *co = cf__coro_self();
    if (seconds <= 0)
        return cf_yield();
    if (cf__deadline_init(&d, seconds))
        return EINVAL;
    if (!co) {
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d.at, NULL) == EINTR)
            ;
        return 0;
    }
    cf__coro_arm(co);
    int r = cf__coro_park(co, &d);   /* delivers a pending cancel without sleeping */
    return r == ECANCELED ? ECANCELED : 0;   /* ETIMEDOUT is the sleep ending */
}

#define POLL_EVENTS (POLLIN | POLLOUT | POLLPRI)

static int poll_fd(int fd, short events, const cf__deadline *d)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events };
        struct timespec left;
        int n = ppoll(&p, 1, cf__deadline_rel(d, &left), NULL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0) {
            if (d->poll || cf__deadline_passed(d))
                return ETIMEDOUT;
            continue;
        }
        return p.revents & POLLNVAL ? EBADF : 0;
    }
}

CF_EXTERN int cf_await_fd(int fd, short events, double timeout)
{
    cf__deadline d;
    if (cf__deadline_init(&d, timeout) || !(events & POLL_EVENTS) || (events & ~POLL_EVENTS))
        return EINVAL;
    if (fd < 0)
        return EBADF;
    cf__coro *co = cf__coro_self();
    if (!co)
        return poll_fd(fd, events, &d);
    if (cf__coro_take_cancel(co))
        return ECANCELED;

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
    cf__coro_arm(co);
    int r = cf__coro_park(co, &d);
    loop->fd_waits--;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, reg, NULL);
    if (dupfd >= 0)
        close(dupfd);
    return r;
}

CF_EXTERN int cf_gather(cf_future *const *fs, size_t n, double timeout, void **values)
{
    cf__deadline d;
    if ((n > 0 && !fs) || cf__deadline_init(&d, timeout))
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
