/* SPDX-License-Identifier: MIT */
/* mpqueue.c: cf_mpqueue, a multi-producer multi-consumer queue of byte messages shared by every
 * process forked after its creation.
 *
 * Design notes.
 * - One shared byte ring of records (an 8-byte length, then the payload padded to 8) under a
 *   process lock (plock.h: a word naming the holder, taken over from a holder that died). A put
 *   copies the whole record, then commits it by advancing tail; a get copies a record out, then
 *   commits by advancing head. A process killed inside either leaves the committed positions
 *   untouched, so the waiter that takes the lock over carries on: a half-written message was
 *   never committed (dropped), a half-read one is still there (delivered to the next getter:
 *   never duplicated, never torn).
 * - Sleeping: a thread sleeps on a futex sequence word in the shared mapping (non-private
 *   futexes); a coroutine cannot (its loop would stop), so it waits for a doorbell its loop can
 *   watch: an eventfd per side, made with the queue and inherited by every forked process, in
 *   semaphore mode (each wake is one unit, each woken coroutine takes one, so two wakes are never
 *   merged into one). Both are rung under the lock (next note), each only when its sleeper count
 *   says someone waits that way. A process killed while waiting leaves its count behind, which
 *   only costs spurious wake-ups (so does a unit nobody took); a woken sleeper then waits for the
 *   lock, which costs a second wake-up per message while someone sleeps (a busy queue pays
 *   neither). A peer that scribbles on the counts can only cause spurious or missing wakes, as a
 *   peer that stops putting can: waiters still end at their timeouts.
 * - close is a flag in the shared header: it reaches every process.
 * - A waker that dies is not a lost wake-up: the wake is issued under the lock, before the
 *   commit. A process killed before it woke has not committed (nothing to see); one killed after
 *   waking, still holding the lock, leaves a dead holder, and the woken sleeper takes the lock
 *   over and finds the committed record.
 * - Locking honours the caller's deadline: a peer stopped with SIGSTOP while holding the lock
 *   costs other processes their timeout, never a hang; a poll that finds the lock held for a
 *   whole slice returns EAGAIN.
 * - Trust: every process mapping the queue can write all of it. Capacity and ring size are kept
 *   per handle, never re-read; positions and record lengths are checked before use
 *   (cf__bring_span, a record inside the used bytes, a length within capacity). Corrupt state
 *   breaks the queue for every process: `broken` and `closed` are raised, all sleepers woken, and
 *   every later put and get fails with EPROTO. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../wait/parker.h"
#include "../common/deadline.h"
#include "../common/futex.h"
#include "bytering.h"
#include "cfutures/pipe.h"
#include "plock.h"
#include "rings.h"
#include "shm.h"

#define CF__MPQ_DEFAULT (1u << 20)
#define CF__MPQ_HDR 8u

/* Where one kind of waiter (getters, or putters) waits. */
typedef struct mpq_side {
    _Atomic uint32_t seq;                  /* threads' futex */
    _Atomic int      sleepers;             /* threads waiting: hints for whether to wake */
    _Atomic int      fd_sleepers;          /* coroutines waiting on the side's eventfd */
} mpq_side;

enum { NOT_EMPTY = 0, NOT_FULL = 1 };

typedef struct mpq_shm {
    _Atomic uint32_t lock;                 /* plock.h */
    mpq_side         side[2];              /* NOT_EMPTY: getters wait; NOT_FULL: putters */
    bool             closed;               /* under the lock */
    _Atomic uint32_t broken;               /* corrupt state seen by some process */
    uint64_t         capacity;             /* as created: informative, never re-read */
    alignas(64) cf__bring ring;            /* head/tail used under the lock only */
} mpq_shm;

struct cf_mpqueue {
    mpq_shm *s;
    size_t   map_len;
    uint64_t capacity, size;               /* this handle's own copies */
    int      efd[2];                       /* the sides' doorbells for coroutines */
};

static uint64_t rec_size(uint64_t len) { return CF__MPQ_HDR + cf__pad8(len); }

CF_EXTERN cf_mpqueue *cf_mpqueue_new(size_t capacity)
{
    if (capacity == 0)
        capacity = CF__MPQ_DEFAULT;
    if (capacity > ((uint64_t)1 << 40)) {
        errno = ENOMEM;
        return NULL;
    }
    uint64_t size = rec_size(capacity);            /* a message of exactly capacity bytes fits */
    size_t len = sizeof(mpq_shm) + size;
    cf_mpqueue *q = calloc(1, sizeof *q);
    int fd = q ? cf__shm_create(len, "cf_mpqueue") : -1;
    if (fd < 0 || !(q->s = cf__shm_map(fd, len))) {
        int e = q ? errno : ENOMEM;
        if (fd >= 0)
            close(fd);
        free(q);
        errno = e;
        return NULL;
    }
    close(fd);
    for (int i = 0; i < 2; i++)
        if ((q->efd[i] = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
            int e = errno;
            if (i)
                close(q->efd[0]);
            cf__shm_unmap(q->s, len);
            free(q);
            errno = e;
            return NULL;
        }
    q->map_len = len;
    q->capacity = capacity;
    q->size = size;
    q->s->capacity = capacity;
    cf__bring_init(&q->s->ring, size);
    return q;
}

static void unlock(mpq_shm *s) { cf__plock_unlock(&s->lock); }

/* Takes the lock by the deadline (from a holder that died, too): 0 | ETIMEDOUT | EAGAIN (a poll
 * found it held). */
static int lock(mpq_shm *s, const cf__deadline *d)
{
    int r = cf__plock_lock(&s->lock, d);
    if (r == ETIMEDOUT)
        return d->poll ? EAGAIN : ETIMEDOUT;
    return 0;
}

static bool is_broken(const mpq_shm *s) { return atomic_load_explicit(&s->broken, memory_order_relaxed); }

/* With the lock held: closes the queue for every process and wakes every sleeper, under the
 * lock (see the design notes). */
static void wake(cf_mpqueue *q, int side, int n);

static void close_locked(cf_mpqueue *q)
{
    q->s->closed = true;
    wake(q, NOT_EMPTY, CF__WAKE_ALL);
    wake(q, NOT_FULL, CF__WAKE_ALL);
}

/* With the lock held: corrupt state. Raises broken (and closed) for every process, wakes every
 * sleeper, releases the lock. Returns EPROTO. */
static int break_locked(cf_mpqueue *q)
{
    mpq_shm *s = q->s;
    atomic_store(&s->broken, 1);
    close_locked(q);
    unlock(s);
    return EPROTO;
}

/* With the lock held: the used bytes, checked against this handle's size. */
static bool used(const cf_mpqueue *q, uint64_t *u)
{
    const cf__bring *r = &q->s->ring;
    return cf__bring_span(atomic_load_explicit(&r->head, memory_order_relaxed),
                          atomic_load_explicit(&r->tail, memory_order_relaxed), q->size, u);
}

/* With the lock held: waits on the side with it released (a thread on the futex, a coroutine on
 * the doorbell). 0 (the lock is held again) | ETIMEDOUT | ECANCELED (held again, or not:
 * *held says). */
static int sleep_on(cf_mpqueue *q, int side, const cf__deadline *d, bool *held)
{
    mpq_shm *s = q->s;
    mpq_side *w = &s->side[side];
    bool coro = cf__in_coroutine();
    _Atomic int *count = coro ? &w->fd_sleepers : &w->sleepers;
    uint32_t seen = atomic_load_explicit(&w->seq, memory_order_relaxed);
    atomic_fetch_add(count, 1);
    unlock(s);
    int r;
    if (coro) {
        r = cf__wait_fd(q->efd[side], POLLIN, d);
        if (r == 0) {                   /* take our unit; another coroutine may have: look anyway */
            uint64_t unit;
            ssize_t got = read(q->efd[side], &unit, sizeof unit);
            (void)got;
        }
    } else {
        r = cf__futex_wait_shared(&w->seq, seen, d);
    }
    int l = lock(s, d);
    atomic_fetch_sub(count, 1);
    *held = l == 0;
    return l ? l : r;
}

/* With the lock held, before the commit: see the design notes. n: 1 or CF__WAKE_ALL. */
static void wake(cf_mpqueue *q, int side, int n)
{
    mpq_side *w = &q->s->side[side];
    if (atomic_load(&w->sleepers) > 0) {
        atomic_fetch_add_explicit(&w->seq, 1, memory_order_relaxed);
        cf__futex_wake_shared(&w->seq, n);
    }
    int c = atomic_load(&w->fd_sleepers);   /* a peer may have written anything here */
    if (c > 0) {
        uint64_t units = n == 1 ? 1 : (uint64_t)(c < 4096 ? c : 4096);
        ssize_t wr = write(q->efd[side], &units, sizeof units);
        (void)wr;                       /* EAGAIN: the counter is full, everyone wakes anyway */
    }
}

CF_EXTERN int cf_mpqueue_put(cf_mpqueue *q, const void *msg, size_t len, double timeout)
{
    cf__deadline d;
    if (!q || (len && !msg) || cf__wait_deadline(&d, timeout))
        return EINVAL;
    mpq_shm *s = q->s;
    if (len > q->capacity)
        return EMSGSIZE;
    if (is_broken(s))
        return EPROTO;
    uint64_t need = rec_size(len), u;
    int r = lock(s, &d);
    if (r)
        return r;
    for (;;) {
        if (is_broken(s)) {
            unlock(s);
            return EPROTO;
        }
        if (s->closed) {
            unlock(s);
            return EPIPE;
        }
        if (!used(q, &u))
            return break_locked(q);
        if (q->size - u >= need)
            break;
        if (d.poll || r) {              /* ETIMEDOUT, or ECANCELED: a cancelled coroutine */
            unlock(s);
            return d.poll ? EAGAIN : r;
        }
        bool held;
        r = sleep_on(q, NOT_FULL, &d, &held);
        if (!held)
            return r;
    }
    uint64_t tail = atomic_load_explicit(&s->ring.tail, memory_order_relaxed), l = len;
    cf__bring_put(&s->ring, q->size, tail, &l, sizeof l);
    if (len)
        cf__bring_put(&s->ring, q->size, tail + CF__MPQ_HDR, msg, len);
    wake(q, NOT_EMPTY, 1);
    atomic_store_explicit(&s->ring.tail, tail + need, memory_order_relaxed);   /* commit */
    unlock(s);
    return 0;
}

CF_EXTERN int cf_mpqueue_get(cf_mpqueue *q, void **msg, size_t *len, double timeout)
{
    cf__deadline d;
    if (!q || cf__wait_deadline(&d, timeout))
        return EINVAL;
    mpq_shm *s = q->s;
    if (is_broken(s))
        return EPROTO;
    uint64_t u;
    int r = lock(s, &d);
    if (r)
        return r;
    for (;;) {
        if (is_broken(s)) {
            unlock(s);
            return EPROTO;
        }
        if (!used(q, &u))
            return break_locked(q);
        if (u > 0)
            break;
        if (s->closed) {
            unlock(s);
            return EPIPE;
        }
        if (d.poll || r) {              /* ETIMEDOUT, or ECANCELED: a cancelled coroutine */
            unlock(s);
            return d.poll ? EAGAIN : r;
        }
        bool held;
        r = sleep_on(q, NOT_EMPTY, &d, &held);
        if (!held)
            return r;
    }
    uint64_t head = atomic_load_explicit(&s->ring.head, memory_order_relaxed), l;
    if (u < CF__MPQ_HDR)
        return break_locked(q);
    cf__bring_get(&s->ring, q->size, head, &l, sizeof l);
    if (l > q->capacity || rec_size(l) > u)
        return break_locked(q);         /* a length no put could have written */
    void *buf = malloc(l ? l : 1);
    if (!buf) {
        unlock(s);                      /* the message stays for another try */
        return ENOMEM;
    }
    if (l)
        cf__bring_get(&s->ring, q->size, head + CF__MPQ_HDR, buf, l);
    wake(q, NOT_FULL, CF__WAKE_ALL);   /* sizes differ: let each putter re-check */
    atomic_store_explicit(&s->ring.head, head + rec_size(l), memory_order_relaxed);  /* commit */
    unlock(s);
    if (msg)
        *msg = buf;
    else
        free(buf);
    if (len)
        *len = l;
    return 0;
}

CF_EXTERN void cf_mpqueue_close(cf_mpqueue *q)
{
    if (!q)
        return;
    mpq_shm *s = q->s;
    lock(s, &cf__forever);
    close_locked(q);
    unlock(s);
}

CF_EXTERN void cf_mpqueue_free(cf_mpqueue *q)
{
    if (!q)
        return;
    cf__shm_unmap(q->s, q->map_len);
    close(q->efd[0]);
    close(q->efd[1]);
    free(q);
}

cf__bring *cf__mpqueue_ring(cf_mpqueue *q, uint64_t *size)
{
    *size = q->size;
    return &q->s->ring;
}
