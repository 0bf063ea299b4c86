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
 * - Sleeping: futex sequence words in the shared mapping (non-private futexes), bumped and
 *   woken under the lock (next note). Sleeper counts say whether a wake syscall is needed; a
 *   process killed while asleep leaves its count behind, which only costs spurious wake-ups; a
 *   woken sleeper then waits for the lock, which costs a second wake-up per message while
 *   someone sleeps (a busy queue pays neither).
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
#include <stdlib.h>
#include <string.h>
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

typedef struct mpq_shm {
    _Atomic uint32_t lock;                 /* plock.h */
    _Atomic uint32_t not_empty, not_full;
    _Atomic int      getters, putters;     /* sleepers: hints for whether to wake */
    bool             closed;               /* under the lock */
    _Atomic uint32_t broken;               /* corrupt state seen by some process */
    uint64_t         capacity;             /* as created: informative, never re-read */
    alignas(64) cf__bring ring;            /* head/tail used under the lock only */
} mpq_shm;

struct cf_mpqueue {
    mpq_shm *s;
    size_t   map_len;
    uint64_t capacity, size;               /* this handle's own copies */
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
static void close_locked(mpq_shm *s)
{
    s->closed = true;
    atomic_fetch_add(&s->not_empty, 1);
    atomic_fetch_add(&s->not_full, 1);
    cf__futex_wake_shared(&s->not_empty, CF__WAKE_ALL);
    cf__futex_wake_shared(&s->not_full, CF__WAKE_ALL);
}

/* With the lock held: corrupt state. Raises broken (and closed) for every process, wakes every
 * sleeper, releases the lock. Returns EPROTO. */
static int break_locked(mpq_shm *s)
{
    atomic_store(&s->broken, 1);
    close_locked(s);
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

/* With the lock held: sleeps on *seq with it released. 0 (the lock is held again) | ETIMEDOUT
 * (held again, or not: *held says). */
static int sleep_on(mpq_shm *s, _Atomic uint32_t *seq, _Atomic int *sleepers, const cf__deadline *d,
                    bool *held)
{
    uint32_t seen = atomic_load_explicit(seq, memory_order_relaxed);
    atomic_fetch_add(sleepers, 1);
    unlock(s);
    int r = cf__futex_wait_shared(seq, seen, d);
    int l = lock(s, d);
    atomic_fetch_sub(sleepers, 1);
    *held = l == 0;
    return l ? l : r;
}

/* With the lock held, before the commit: see the design notes. */
static void wake(_Atomic uint32_t *seq, _Atomic int *sleepers, int n)
{
    if (atomic_load(sleepers) > 0) {
        atomic_fetch_add_explicit(seq, 1, memory_order_relaxed);
        cf__futex_wake_shared(seq, n);
    }
}

/* In a coroutine, a put or get that would sleep on the shared futex retries with timeout 0 and
 * naps the coroutine in between (cf__wait_retry), so the loop keeps running. */
typedef struct attempt_args {
    cf_mpqueue *q;
    const void *msg;
    size_t      len, *lenp;
    void      **out;
} attempt_args;

static int put_once(void *ctx)
{
    attempt_args *a = ctx;
    return cf_mpqueue_put(a->q, a->msg, a->len, 0);
}

static int get_once(void *ctx)
{
    attempt_args *a = ctx;
    return cf_mpqueue_get(a->q, a->out, a->lenp, 0);
}

CF_EXTERN int cf_mpqueue_put(cf_mpqueue *q, const void *msg, size_t len, double timeout)
{
    cf__deadline d;
    if (!q || (len && !msg) || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (!d.poll && cf__in_coroutine())
        return cf__wait_retry(&d, put_once, &(attempt_args){ q, msg, len, NULL, NULL });
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
            return break_locked(s);
        if (q->size - u >= need)
            break;
        if (d.poll || r == ETIMEDOUT) {
            unlock(s);
            return d.poll ? EAGAIN : ETIMEDOUT;
        }
        bool held;
        r = sleep_on(s, &s->not_full, &s->putters, &d, &held);
        if (!held)
            return r;
    }
    uint64_t tail = atomic_load_explicit(&s->ring.tail, memory_order_relaxed), l = len;
    cf__bring_put(&s->ring, q->size, tail, &l, sizeof l);
    if (len)
        cf__bring_put(&s->ring, q->size, tail + CF__MPQ_HDR, msg, len);
    wake(&s->not_empty, &s->getters, 1);
    atomic_store_explicit(&s->ring.tail, tail + need, memory_order_relaxed);   /* commit */
    unlock(s);
    return 0;
}

CF_EXTERN int cf_mpqueue_get(cf_mpqueue *q, void **msg, size_t *len, double timeout)
{
    cf__deadline d;
    if (!q || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (!d.poll && cf__in_coroutine())
        return cf__wait_retry(&d, get_once, &(attempt_args){ q, NULL, 0, len, msg });
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
            return break_locked(s);
        if (u > 0)
            break;
        if (s->closed) {
            unlock(s);
            return EPIPE;
        }
        if (d.poll || r == ETIMEDOUT) {
            unlock(s);
            return d.poll ? EAGAIN : ETIMEDOUT;
        }
        bool held;
        r = sleep_on(s, &s->not_empty, &s->getters, &d, &held);
        if (!held)
            return r;
    }
    uint64_t head = atomic_load_explicit(&s->ring.head, memory_order_relaxed), l;
    if (u < CF__MPQ_HDR)
        return break_locked(s);
    cf__bring_get(&s->ring, q->size, head, &l, sizeof l);
    if (l > q->capacity || rec_size(l) > u)
        return break_locked(s);         /* a length no put could have written */
    void *buf = malloc(l ? l : 1);
    if (!buf) {
        unlock(s);                      /* the message stays for another try */
        return ENOMEM;
    }
    if (l)
        cf__bring_get(&s->ring, q->size, head + CF__MPQ_HDR, buf, l);
    wake(&s->not_full, &s->putters, CF__WAKE_ALL);   /* sizes differ: let each putter re-check */
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
    cf__deadline d;
    cf__deadline_init(&d, -1);
    lock(s, &d);
    close_locked(s);
    unlock(s);
}

CF_EXTERN void cf_mpqueue_free(cf_mpqueue *q)
{
    if (!q)
        return;
    cf__shm_unmap(q->s, q->map_len);
    free(q);
}

cf__bring *cf__mpqueue_ring(cf_mpqueue *q, uint64_t *size)
{
    *size = q->size;
    return &q->s->ring;
}
