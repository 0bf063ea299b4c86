/* SPDX-License-Identifier: MIT */
/* doorbell.h: the library's one wake-up that a file descriptor carries (to epoll, to poll, to
 * another process): an eventfd and a "someone sleeps" word. The event loop, the process pool's
 * manager and cf_pipe's ends use it.
 *
 *   sleeper:  cf__bell_sleeping(w) (seq_cst); last look at the work; poll/epoll on fd;
 *             cf__bell_awake(w, fd): the word cleared, the fd drained
 *   waker:    publish the work (seq_cst, or a full barrier); cf__bell_ring(w, fd)
 *
 * The Dekker pair (announce then look, publish then read the word) means a sleeper either sees
 * the work or is rung. A ring clears the word as it writes, so the rings that follow before the
 * sleeper wakes cost nothing (libuv's uv_async_send coalesces the same way), and a busy sleeper,
 * which never announces itself, costs its wakers no syscall at all. The word may live in memory
 * another process writes: it only ever decides whether a wake is sent. */
#ifndef CF__DOORBELL_H
#define CF__DOORBELL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* A new doorbell's fd (non-blocking, close-on-exec), or -1 + errno. */
static inline int cf__bell_open(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/* Makes fd readable whoever sleeps (EAGAIN: the counter is full, i.e. rung already). */
static inline void cf__bell_signal(int fd)
{
    uint64_t one = 1;
    ssize_t r = write(fd, &one, sizeof one);
    (void)r;
}

/* Consumes the rings (EAGAIN: it was not rung). */
static inline void cf__bell_drain(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
}

static inline void cf__bell_sleeping(_Atomic uint32_t *w)
{
    atomic_store_explicit(w, 1, memory_order_seq_cst);
}

static inline void cf__bell_awake(_Atomic uint32_t *w, int fd)
{
    atomic_store_explicit(w, 0, memory_order_relaxed);
    cf__bell_drain(fd);
}

/* Rings if the sleeper announced itself and nobody rang since: true if this call wrote. */
static inline bool cf__bell_ring(_Atomic uint32_t *w, int fd)
{
    if (!atomic_load_explicit(w, memory_order_seq_cst) ||
        !atomic_exchange_explicit(w, 0, memory_order_relaxed))
        return false;
    cf__bell_signal(fd);
    return true;
}

#endif
