/* mpqueue.c: cf_mpqueue, a multi-producer multi-consumer queue of byte messages shared by every
 * process forked after its creation.
 *
 * Design notes.
 * - One shared byte ring of records (an 8-byte length, then the payload padded to 8) under a
 *   process-shared robust mutex. A put copies the whole record, then commits it by advancing
 *   tail; a get copies a record out, then commits by advancing head. A process killed inside
 *   either leaves the committed positions untouched: the next locker gets EOWNERDEAD, marks the
 *   mutex consistent, and carries on; a half-written message was never committed (dropped), a
 *   half-read one is still there (delivered to the next getter: never duplicated, never torn).
 * - Sleeping: futex sequence words in the shared mapping (non-private futexes), bumped under the
 *   lock and woken after it. Sleeper counts say whether a wake syscall is needed; a process
 *   killed while asleep leaves its count behind, which only costs spurious wake-ups.
 * - close is a flag in the shared header: it reaches every process. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../loop/park.h"
#include "../common/deadline.h"
#include "../common/futex.h"
#include "bytering.h"
#include "cfutures/pipe.h"
#include "shm.h"

#define CF__MPQ_DEFAULT (1u << 20)
#define CF__MPQ_HDR 8u

typedef struct mpq_shm {
    pthread_mutex_t  mu;
    _Atomic uint32_t not_empty, not_full;
    int              getters, putters;     /* under mu */
    bool             closed;               /* under mu */
    uint64_t         capacity;
    alignas(64) cf__bring ring;            /* head/tail used under mu only */
} mpq_shm;

struct cf_mpqueue {
    mpq_shm *s;
    size_t   map_len;
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
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&q->s->mu, &a);
    pthread_mutexattr_destroy(&a);
    q->s->capacity = capacity;
    cf__bring_init(&q->s->ring, size);
    return q;
}

/* Takes the lock, recovering it from a process that died holding it: the committed positions
 * are consistent by construction (see the design notes). */
static void lock(mpq_shm *s)
{
    if (pthread_mutex_lock(&s->mu) == EOWNERDEAD)
        pthread_mutex_consistent(&s->mu);
}

static uint64_t used(const mpq_shm *s)
{
    return atomic_load_explicit(&s->ring.tail, memory_order_relaxed) -
           atomic_load_explicit(&s->ring.head, memory_order_relaxed);
}

/* With the lock held: sleeps on *seq with it released. Returns with it held; 0 | ETIMEDOUT. */
static int sleep_on(mpq_shm *s, _Atomic uint32_t *seq, int *sleepers, const cf__deadline *d)
{
    uint32_t seen = atomic_load_explicit(seq, memory_order_relaxed);
    (*sleepers)++;
    pthread_mutex_unlock(&s->mu);
    int r = cf__futex_wait_shared(seq, seen, d);
    lock(s);
    (*sleepers)--;
    return r;
}

static void wake(_Atomic uint32_t *seq, int sleepers, int n)
{
    if (sleepers > 0)
        cf__futex_wake_shared(seq, n);
}

/* In a coroutine, a put or get that would sleep on the shared futex retries with timeout 0 and
 * naps the coroutine in between (cf__coro_retry), so the loop keeps running. */
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
    if (!q || (len && !msg) || cf__deadline_init(&d, timeout))
        return EINVAL;
    if (!d.poll && cf__coro_self())
        return cf__coro_retry(&d, put_once, &(attempt_args){ q, msg, len, NULL, NULL });
    mpq_shm *s = q->s;
    if (len > s->capacity)
        return EMSGSIZE;
    uint64_t need = rec_size(len);
    bool timed_out = false;
    lock(s);
    for (;;) {
        if (s->closed) {
            pthread_mutex_unlock(&s->mu);
            return EPIPE;
        }
        if (s->ring.size - used(s) >= need)
            break;
        if (d.poll || timed_out) {
            pthread_mutex_unlock(&s->mu);
            return d.poll ? EAGAIN : ETIMEDOUT;
        }
        timed_out = sleep_on(s, &s->not_full, &s->putters, &d) == ETIMEDOUT;
    }
    uint64_t tail = atomic_load_explicit(&s->ring.tail, memory_order_relaxed), l = len;
    cf__bring_put(&s->ring, tail, &l, sizeof l);
    if (len)
        cf__bring_put(&s->ring, tail + CF__MPQ_HDR, msg, len);
    atomic_store_explicit(&s->ring.tail, tail + need, memory_order_relaxed);   /* commit */
    int getters = s->getters;
    if (getters)
        atomic_fetch_add_explicit(&s->not_empty, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->mu);
    wake(&s->not_empty, getters, 1);
    return 0;
}

CF_EXTERN int cf_mpqueue_get(cf_mpqueue *q, void **msg, size_t *len, double timeout)
{
    cf__deadline d;
    if (!q || cf__deadline_init(&d, timeout))
        return EINVAL;
    if (!d.poll && cf__coro_self())
        return cf__coro_retry(&d, get_once, &(attempt_args){ q, NULL, 0, len, msg });
    mpq_shm *s = q->s;
    bool timed_out = false;
    lock(s);
    for (;;) {
        if (used(s) > 0)
            break;
        if (s->closed) {
            pthread_mutex_unlock(&s->mu);
            return EPIPE;
        }
        if (d.poll || timed_out) {
            pthread_mutex_unlock(&s->mu);
            return d.poll ? EAGAIN : ETIMEDOUT;
        }
        timed_out = sleep_on(s, &s->not_empty, &s->getters, &d) == ETIMEDOUT;
    }
    uint64_t head = atomic_load_explicit(&s->ring.head, memory_order_relaxed), l;
    cf__bring_get(&s->ring, head, &l, sizeof l);
    void *buf = malloc(l ? l : 1);
    if (!buf) {
        pthread_mutex_unlock(&s->mu);      /* the message stays for another try */
        return ENOMEM;
    }
    if (l)
        cf__bring_get(&s->ring, head + CF__MPQ_HDR, buf, l);
    atomic_store_explicit(&s->ring.head, head + rec_size(l), memory_order_relaxed);  /* commit */
    int putters = s->putters;
    if (putters)
        atomic_fetch_add_explicit(&s->not_full, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->mu);
    wake(&s->not_full, putters, CF__WAKE_ALL);   /* sizes differ: let each putter re-check */
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
    lock(s);
    s->closed = true;
    atomic_fetch_add(&s->not_empty, 1);
    atomic_fetch_add(&s->not_full, 1);
    pthread_mutex_unlock(&s->mu);
    cf__futex_wake_shared(&s->not_empty, CF__WAKE_ALL);
    cf__futex_wake_shared(&s->not_full, CF__WAKE_ALL);
}

CF_EXTERN void cf_mpqueue_free(cf_mpqueue *q)
{
    if (!q)
        return;
    cf__shm_unmap(q->s, q->map_len);
    free(q);
}
