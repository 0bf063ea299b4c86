/* SPDX-License-Identifier: MIT */
/* watch.c: fds a loop keeps registered (a stream's), so that a coroutine that waits on one again
 * and again costs no epoll_ctl per wait: the first wait registers it edge-triggered for reading
 * and writing together, later waits only park, and the loop's poll wakes the reader or the
 * writer on an edge (or remembers the edge when neither waits: the next wait then re-tries at
 * once instead of parking).
 *
 * Design notes.
 * - The registration is a small object of the loop's (reg), not the watch itself, so that the
 *   watch's owner (a stream) may be closed from any thread: detach, under watch_mu, removes the
 *   fd from the epoll set and cuts reg from the watch; the loop frees detached regs at its next
 *   poll, when no event it fetched earlier can still name them. The loop takes watch_mu once per
 *   poll that brought watch events, and delivers only to regs still attached.
 * - A watch registered with another loop (or with a loop that was freed: cf_loop_free detaches
 *   its regs) is waited on with a one-shot registration instead (cf__coro_wait_fds).
 * - epoll_event.data carries reg | 1: the low bit tells a watch from a coroutine (poll_io). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "loop.h"

typedef struct cf__fdreg {
    cf__fdwatch *watch;        /* NULL once detached */
    cf_loop     *loop;
    cf__list     link;         /* in loop->regs, then in loop->dead_regs */
} cf__fdreg;

static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;

/* With watch_mu held. */
static void detach_locked(cf__fdreg *r)
{
    cf__fdwatch *w = r->watch;
    if (w) {
        epoll_ctl(r->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
        w->reg = NULL;
        atomic_store_explicit(&w->detach, NULL, memory_order_relaxed);
        r->watch = NULL;
    }
    cf__list_remove(&r->link);
    cf__list_push_back(&r->loop->dead_regs, &r->link);
    atomic_store_explicit(&r->loop->dead_any, true, memory_order_relaxed);
}

static void detach(cf__fdwatch *w)
{
    pthread_mutex_lock(&watch_mu);
    if (w->reg)                /* cf_loop_free may have cut it meanwhile */
        detach_locked(w->reg);
    pthread_mutex_unlock(&watch_mu);
}

/* Registers w with co's loop: 0 | 1 (a regular file: always ready) | an errno. */
static int attach(cf_loop *loop, cf__fdwatch *w)
{
    cf__fdreg *r = malloc(sizeof *r);
    if (!r)
        return ENOMEM;
    r->watch = w;
    r->loop = loop;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                              .data.u64 = (uint64_t)(uintptr_t)r | 1 };
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, w->fd, &ev) != 0) {
        int e = errno;
        free(r);
        return e == EPERM ? 1 : e;
    }
    pthread_mutex_lock(&watch_mu);
    cf__list_push_back(&loop->regs, &r->link);
    w->reg = r;
    w->ready = 0;
    atomic_store_explicit(&w->detach, detach, memory_order_release);
    pthread_mutex_unlock(&watch_mu);
    return 0;
}

/* A wait that registers w's fd for itself only (cf__coro_wait_fds). */
static int one_shot(cf__parker *p, cf__fdwatch *w, short events, const cf__deadline *d)
{
    struct pollfd pfd = { .fd = w->fd, .events = events };
    return cf__coro_wait_fds(p, &pfd, 1, d);
}

int cf__coro_wait_watch(cf__parker *p, cf__fdwatch *w, short events, const cf__deadline *d)
{
    cf__coro *co = cf__container_of(p, cf__coro, parker);
    cf_loop *loop = co->loop;
    if (!(events & POLLIN))
        return one_shot(p, w, events, d);      /* a writer (see the notes) */
    cf__fdreg *r = w->reg;
    if (!r) {
        int a = attach(loop, w);
        if (a == 1)
            return 0;
        if (a == EEXIST || a == ENOMEM)        /* in this epoll set already, or no memory */
            return one_shot(p, w, events, d);
        if (a)
            return a;
        r = w->reg;
    } else if (r->loop != loop) {
        return one_shot(p, w, events, d);      /* another loop's */
    }
    int side = 0;
    uint32_t bit = POLLIN;
    if (w->ready & bit) {                      /* an edge came while nobody waited */
        w->ready &= ~bit;
        return 0;
    }
    w->waiter[side] = p;
    loop->fd_waits++;
    cf__parker_arm(p, true);
    int res = cf__parker_park(p, d, 0);
    loop->fd_waits--;
    w->waiter[side] = NULL;
    return res;
}

bool cf__loop_watch_event(void *data) { return ((uintptr_t)data & 1) != 0; }

void cf__loop_watch_deliver(cf_loop *loop, const struct epoll_event *evs, int n)
{
    (void)loop;
    pthread_mutex_lock(&watch_mu);
    for (int i = 0; i < n; i++) {
        uintptr_t v = (uintptr_t)evs[i].data.u64;
        if (!(v & 1))
            continue;
        cf__fdreg *r = (cf__fdreg *)(v & ~(uintptr_t)1);
        cf__fdwatch *w = r->watch;
        if (!w)
            continue;                          /* detached since the poll fetched it */
        uint32_t e = evs[i].events;
        bool err = e & (EPOLLERR | EPOLLHUP);
        uint32_t bits[2] = { (e & (EPOLLIN | EPOLLRDHUP)) || err ? POLLIN : 0,
                             (e & EPOLLOUT) || err ? POLLOUT : 0 };
        for (int side = 0; side < 2; side++) {
            if (!bits[side])
                continue;
            cf__parker *p = w->waiter[side];
            if (!p || !cf__parker_wake(p, 0))
                w->ready |= bits[side];
        }
    }
    pthread_mutex_unlock(&watch_mu);
}

void cf__loop_watch_reap(cf_loop *loop)
{
    if (!atomic_load_explicit(&loop->dead_any, memory_order_relaxed))
        return;
    pthread_mutex_lock(&watch_mu);
    atomic_store_explicit(&loop->dead_any, false, memory_order_relaxed);
    cf__list *n, *tmp;
    cf__list_each(n, tmp, &loop->dead_regs) {
        cf__list_remove(n);
        free(cf__container_of(n, cf__fdreg, link));
    }
    pthread_mutex_unlock(&watch_mu);
}

void cf__loop_watch_free_all(cf_loop *loop)
{
    pthread_mutex_lock(&watch_mu);
    cf__list *n, *tmp;
    cf__list_each(n, tmp, &loop->regs)
        detach_locked(cf__container_of(n, cf__fdreg, link));
    cf__list_each(n, tmp, &loop->dead_regs) {
        cf__list_remove(n);
        free(cf__container_of(n, cf__fdreg, link));
    }
    pthread_mutex_unlock(&watch_mu);
}
