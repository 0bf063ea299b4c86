/* SPDX-License-Identifier: MIT */
/* pipe.c: cf_pipe, a duplex message channel between two processes.
 *
 * Design notes.
 * - Data: one shared byte ring per direction (bytering.h), in a memfd that each end maps on its
 *   own. Each direction has exactly one sending and one receiving end; threads of a process that
 *   share an end are serialized by the end's send and receive mutexes.
 * - Framing: a message up to a quarter of the ring travels as one FIRST|LAST record, written
 *   only once there is room for all of it, so a send that fails wrote nothing. A larger one
 *   streams as chunks of about an eighth of the ring (so sender and receiver copy in parallel); every chunk but the last leaves CF__REC_HDR bytes free, so that a send that times out
 *   halfway can always append an ABORT record. The receiver assembles chunks in a private buffer
 *   and hands out only complete messages; an ABORT, or end of file, drops the partial one.
 * - Waking: per direction two doorbells (common/doorbell.h), "data" and "space", their words
 *   in the ring. A receiver that finds the ring empty spins briefly, then announces itself in
 *   reader_waiting, re-checks, and waits on "data"; a sender publishes tail (seq_cst), then rings
 *   only if someone sleeps: a busy stream costs no syscall at all. The space side is the same
 *   Dekker pair on writer_waiting.
 * - Once cf_pipe_fd has been asked for (fd_mode), "data" must be readable exactly while bytes
 *   wait: the sender also signals when the receiver had consumed everything before this record,
 *   and the receiver that empties the ring resets "data", then re-reads tail and re-arms it if a
 *   record slipped in (seq_cst on both sides, so nothing is lost and, at rest, readable means
 *   data). That costs a syscall per message when the receiver keeps up, so only event-loop
 *   users pay it.
 * - Peer death: a futex cannot tell that a process was SIGKILLed, the kernel can: each end owns
 *   one socket of a socketpair, never written. Every wait polls it with the eventfd; end of file
 *   on it means the other end's last holder is gone.
 * - Trust: the peer can write every byte of the shared rings. Each end keeps the ring size and the
 *   position it owns (its outgoing tail, its incoming head) in private memory and reads only the
 *   peer's position from the ring, checked by cf__bring_span; every record header is checked
 *   (known flags, chunk within the bytes published, chunks adding up to the announced total,
 *   no chunk without a FIRST) before a byte of it is copied, and a message is assembled in a
 *   buffer grown as chunks arrive, so a lying total costs no memory. Impossible state breaks the
 *   channel: this end fails every later call with EPROTO, raises `broken` in both rings and
 *   shuts its socket down, so the peer's waits end and its calls fail with EPROTO too.
 *   take_records handles at most two rings' worth of bytes per call, so a peer that streams a
 *   message without end cannot keep a receiver past its deadline.
 * - cf_pipe_fd is an epoll descriptor holding this end's "data" eventfd and socket.
 * - Fork: create the pipe, fork, then each process closes the end it does not use, as with
 *   pipe(2); otherwise its own copy keeps the peer "alive". */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/backoff.h"
#include "../common/deadline.h"
#include "../common/doorbell.h"
#include "../wait/mutex.h"
#include "../wait/parker.h"
#include "bytering.h"
#include "pipe_raw.h"
#include "rings.h"
#include "cfutures/pipe.h"
#include "shm.h"

#define CF__PIPE_DEFAULT (1u << 20)
#define CF__PIPE_SPIN    200

struct cf_pipe {
    void          *map;
    size_t         map_len;
    cf__bring     *out, *in;
    uint64_t       size;                  /* data bytes of each ring: ours, never re-read */
    uint64_t       out_tail, in_head;     /* the positions this end owns (under send_mu/recv_mu) */
    _Atomic bool   broken;                /* corrupt state seen: every call fails with EPROTO */
    int            sock;
    int            out_data, out_space;   /* eventfds of the direction we send on */
    int            in_data, in_space;     /* ... and of the one we receive on */
    int            epfd;
    cf__mutex      send_mu, recv_mu;      /* the holder is a coroutine or a thread (wait/mutex.h) */
    unsigned char *part;                  /* message being assembled */
    uint64_t       part_len, part_got, part_cap;
    bool           part_active, part_nomem;
};

/* ---- waiting ---- */

static bool peer_gone(int sock)
{
    struct pollfd pf = { .fd = sock, .events = POLLIN | POLLRDHUP };
    return poll(&pf, 1, 0) > 0;          /* never written to: readable means end of file */
}

/* Corrupt shared state: this end is done, and the peer is told (its rings' flag, and end of
 * file on its socket, which ends any wait of its own). Returns EPROTO. */
static int break_pipe(cf_pipe *p)
{
    atomic_store(&p->broken, true);
    atomic_store(&p->out->broken, 1);
    atomic_store(&p->in->broken, 1);
    shutdown(p->sock, SHUT_RDWR);
    return EPROTO;
}

/* Either end raised `broken`. */
static bool is_broken(cf_pipe *p)
{
    return atomic_load_explicit(&p->broken, memory_order_relaxed) ||
           atomic_load_explicit(&p->out->broken, memory_order_relaxed) ||
           atomic_load_explicit(&p->in->broken, memory_order_relaxed);
}

/* Waits until efd is readable, the peer is gone, or the deadline, as the caller's parker waits
 * (a thread polls, a coroutine suspends on its loop): 0 | EPIPE | ETIMEDOUT | ECANCELED. */
static int wait_fd(int efd, int sock, const cf__deadline *d)
{
    struct pollfd pf[2] = { { .fd = efd, .events = POLLIN },
                            { .fd = sock, .events = POLLIN | POLLRDHUP } };
    int r = cf__wait_fds(pf, 2, d);
    if (r == 0 && pf[1].revents)
        return EPIPE;
    return r == 0 || r == ETIMEDOUT || r == ECANCELED ? r : ETIMEDOUT;
}

/* ---- creation and teardown ---- */

static int fcntl_dup(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

static void end_free(cf_pipe *p)
{
    int fds[] = { p->sock, p->out_data, p->out_space, p->in_data, p->in_space, p->epfd };
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    cf__shm_unmap(p->map, p->map_len);
    free(p->part);
    free(p);
}

static cf_pipe *end_new(void)
{
    cf_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->sock = p->out_data = p->out_space = p->in_data = p->in_space = p->epfd = -1;
    cf__mutex_init(&p->send_mu);
    cf__mutex_init(&p->recv_mu);
    return p;
}

/* One ring's bytes in the mapping (header and data, to a cache line); the mapping holds two. */
static uint64_t ring_stride(uint64_t size) { return (cf__bring_bytes(size) + 63) & ~(uint64_t)63; }

/* Maps the region for one end and wires its rings, eventfds (dup'd) and socket. The positions
 * start where this end's rings are now (a fresh pipe: 0); from then on they are this end's. */
static int end_setup(cf_pipe *p, int memfd, uint64_t size, int dir_out, const int efd[4], int sock)
{
    size_t len = (size_t)(2 * ring_stride(size));
    if (!(p->map = cf__shm_map(memfd, len)))
        return errno;
    p->map_len = len;
    p->size = size;
    cf__bring *r0 = p->map, *r1 = (cf__bring *)((unsigned char *)p->map + ring_stride(size));
    p->out = dir_out == 0 ? r0 : r1;
    p->in = dir_out == 0 ? r1 : r0;
    p->out_tail = atomic_load(&p->out->tail);
    p->in_head = atomic_load(&p->in->head);
    /* efd: [0] data dir0, [1] space dir0, [2] data dir1, [3] space dir1 */
    int o = dir_out * 2, i = (1 - dir_out) * 2;
    if ((p->out_data = fcntl_dup(efd[o])) < 0 || (p->out_space = fcntl_dup(efd[o + 1])) < 0 ||
        (p->in_data = fcntl_dup(efd[i])) < 0 || (p->in_space = fcntl_dup(efd[i + 1])) < 0)
        return errno;
    p->sock = sock;
    if ((p->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return errno;
    struct epoll_event ev = { .events = EPOLLIN };
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->in_data, &ev) < 0)
        return errno;
    ev.events = EPOLLIN | EPOLLRDHUP;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->sock, &ev) < 0)
        return errno;
    return 0;
}

/* Creates the shared parts and end0; end1 is either built here (b) or handed out as raw
 * descriptors (raw), for a process that does not exist yet (pipe_raw.h). */
static int pipe_create(size_t capacity, cf_pipe **end0, cf_pipe **end1, cf__pipe_raw *raw)
{
    if (capacity == 0)
        capacity = CF__PIPE_DEFAULT;
    if (capacity > ((uint64_t)1 << 31))
        return EINVAL;     /* records count payload in 32 bits; 2 GiB rings are plenty */
    /* Room for a message of `capacity` bytes in its chunks (at most 9 records of about an
     * eighth of the ring, each padded), plus the ABORT reserve: such a message never has to
     * wait for the receiver when the ring is empty. */
    uint64_t size = cf__pad8(capacity) + 16 * CF__REC_HDR;
    size_t len = (size_t)(2 * ring_stride(size));
    int err = 0, memfd = -1, sv[2] = { -1, -1 }, efd[4] = { -1, -1, -1, -1 };
    cf_pipe *a = end_new(), *b = raw ? NULL : end_new();
    if (!a || (!raw && !b)) {
        err = ENOMEM;
        goto out;
    }
    if ((memfd = cf__shm_create(len, "cf_pipe")) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        err = errno;
        goto out;
    }
    for (int i = 0; i < 4; i++)
        if ((efd[i] = cf__bell_open()) < 0) {
            err = errno;
            goto out;
        }
    if ((err = end_setup(a, memfd, size, 0, efd, sv[0])))
        goto out;
    sv[0] = -1;                              /* owned by a now */
    cf__bring_init(a->out, size);            /* the memfd is zeroed: positions 0, as a read them */
    cf__bring_init(a->in, size);
    if (raw) {
        raw->memfd = memfd;
        raw->sock = sv[1];
        for (int i = 0; i < 4; i++)
            raw->efd[i] = efd[i];
        raw->size = size;
        memfd = sv[1] = -1;
        for (int i = 0; i < 4; i++)
            efd[i] = -1;
    } else {
        if ((err = end_setup(b, memfd, size, 1, efd, sv[1])))
            goto out;
        sv[1] = -1;
    }
out:
    for (int i = 0; i < 4; i++)
        if (efd[i] >= 0)
            close(efd[i]);
    for (int i = 0; i < 2; i++)
        if (sv[i] >= 0)
            close(sv[i]);
    if (memfd >= 0)
        close(memfd);
    if (err) {
        if (a)
            end_free(a);
        if (b)
            end_free(b);
        return err == EFBIG ? ENOMEM : err;
    }
    *end0 = a;
    if (end1)
        *end1 = b;
    return 0;
}

CF_EXTERN int cf_pipe_new(size_t capacity, cf_pipe **end0, cf_pipe **end1)
{
    if (!end0 || !end1)
        return EINVAL;
    return pipe_create(capacity, end0, end1, NULL);
}

int cf__pipe_new_raw(size_t capacity, cf_pipe **end0, cf__pipe_raw *end1)
{
    return pipe_create(capacity, end0, NULL, end1);
}

int cf__pipe_adopt(const cf__pipe_raw *raw, cf_pipe **end1)
{
    cf_pipe *b = end_new();
    if (!b)
        return ENOMEM;
    int sock = fcntl_dup(raw->sock);
    int err = sock < 0 ? errno : end_setup(b, raw->memfd, raw->size, 1, raw->efd, sock);
    if (err) {
        if (sock >= 0 && b->sock != sock)
            close(sock);
        end_free(b);
        return err;
    }
    *end1 = b;
    return 0;
}

void cf__pipe_raw_close(cf__pipe_raw *raw)
{
    int fds[CF__PIPE_RAW_FDS];
    cf__pipe_raw_fds(raw, fds);
    for (int i = 0; i < CF__PIPE_RAW_FDS; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
    cf__pipe_raw_set_fds(raw, fds);
}

bool cf__pipe_readable(const cf_pipe *p)
{
    /* A peek for spinning: corrupt positions read as readable, so the caller receives and
     * learns EPROTO. in_head is recv_mu's; a stale read here only costs one more look. */
    return atomic_load_explicit(&p->in->tail, memory_order_acquire) != p->in_head ||
           atomic_load_explicit(&p->in->broken, memory_order_relaxed);
}

CF_EXTERN int cf_pipe_fd(const cf_pipe *p)
{
    if (!p)
        return -1;
    cf__bring *in = p->in;
    if (!atomic_exchange_explicit(&in->fd_mode, 1, memory_order_seq_cst)) {
        /* From now on "data" is kept exact: start from the truth. */
        cf__bell_drain(p->in_data);
        if (atomic_load_explicit(&in->tail, memory_order_seq_cst) !=
            atomic_load_explicit(&in->head, memory_order_seq_cst))
            cf__bell_signal(p->in_data);
    }
    return p->epfd;
}

CF_EXTERN void cf_pipe_close(cf_pipe *p)
{
    if (p)
        end_free(p);
}

/* ---- sending ---- */

/* Free bytes in the out ring, from the peer's head (checked): true, or false if it is corrupt. */
static bool ring_free(cf_pipe *p, memory_order mo, uint64_t *room)
{
    uint64_t used;
    if (!cf__bring_span(atomic_load_explicit(&p->out->head, mo), p->out_tail, p->size, &used))
        return false;
    *room = p->size - used;
    return true;
}

/* Waits until the out ring has `need` free bytes: 0 | EAGAIN | ETIMEDOUT | EPIPE | EPROTO. */
static int wait_space(cf_pipe *p, uint64_t need, const cf__deadline *d)
{
    cf__bring *r = p->out;
    uint64_t room;
    cf__backoff b = cf__backoff_new(CF__PIPE_SPIN, 0);
    do {
        if (!ring_free(p, memory_order_acquire, &room))
            return break_pipe(p);
        if (room >= need)
            return 0;
    } while (cf__backoff_step(&b));
    for (;;) {
        if (!ring_free(p, memory_order_acquire, &room))
            return break_pipe(p);
        if (room >= need)
            return 0;
        if (is_broken(p))
            return EPROTO;
        if (d->poll)
            return EAGAIN;
        cf__bell_sleeping(&r->writer_waiting);
        int w = 0;
        if (ring_free(p, memory_order_seq_cst, &room) && room < need)
            w = wait_fd(p->out_space, p->sock, d);
        cf__bell_awake(&r->writer_waiting, p->out_space);
        if (!ring_free(p, memory_order_acquire, &room))
            return break_pipe(p);
        if (room >= need)
            return 0;
        if (is_broken(p))
            return EPROTO;
        if (w == EPIPE || peer_gone(p->sock))
            return EPIPE;
        if (w == ETIMEDOUT || w == ECANCELED)
            return w;
    }
}

/* Appends one record and publishes it; signals "data" if the receiver had caught up. */
static void put_record(cf_pipe *p, uint32_t flags, const void *payload, uint32_t chunk, uint64_t total)
{
    cf__bring *r = p->out;
    uint64_t tail = p->out_tail;
    cf__rec h = { flags, chunk, total };
    cf__bring_put(r, p->size, tail, &h, sizeof h);
    if (chunk)
        cf__bring_put(r, p->size, tail + CF__REC_HDR, payload, chunk);
    p->out_tail = tail + cf__rec_size(chunk);
    atomic_store_explicit(&r->tail, p->out_tail, memory_order_seq_cst);
    bool fd_mode = atomic_load_explicit(&r->fd_mode, memory_order_seq_cst);
    bool rang = cf__bell_ring(&r->reader_waiting, p->out_data);
    if (rang || (fd_mode && atomic_load_explicit(&r->head, memory_order_seq_cst) == tail)) {
        if (!rang)
            cf__bell_signal(p->out_data);
        /* The receiver may have taken the record and reset "data" before this signal: if the
         * ring is empty now, readable would be a lie. Only this end adds records, so an empty
         * ring stays empty until our next one. */
        if (fd_mode && atomic_load_explicit(&r->head, memory_order_seq_cst) == p->out_tail)
            cf__bell_drain(p->out_data);
    }
}

/* Sends msg from *off on (0: from its start) until it is all in, the deadline, or an error;
 * *off keeps the progress of a streamed message, so that a caller may resume it (the process
 * pool's manager, which must not block on one worker). 0 | EAGAIN | ETIMEDOUT | EPIPE | EPROTO;
 * resume only after EAGAIN. */
static int send_from(cf_pipe *p, const unsigned char *msg, size_t len, size_t *off, const cf__deadline *d)
{
    uint64_t size = p->size;
    /* Up to a quarter of the ring: one record. Larger: chunks of about an eighth, so that the
     * receiver copies out one chunk while the sender copies in the next (a single record the
     * size of the ring would leave one side idle while the other copies). */
    if (*off == 0 && cf__rec_size(len) <= size / 4 + CF__REC_HDR) {
        int e = wait_space(p, cf__rec_size(len), d);
        if (e)
            return e;
        put_record(p, CF__REC_FIRST | CF__REC_LAST, msg, (uint32_t)len, len);
        *off = len;
        return 0;
    }
    /* Streaming: chunks as room appears, each leaving the ABORT reserve free. */
    while (*off < len) {
        size_t rest = len - *off;
        uint64_t last_need = cf__rec_size(rest);
        bool can_finish = last_need <= size / 4 + CF__REC_HDR;
        /* Wait for room for the rest, or at least for a useful chunk (an eighth of the ring,
         * at least 8 bytes), plus its header and the ABORT reserve. */
        uint64_t step = (size / 8) & ~(uint64_t)7;
        uint64_t want = can_finish ? last_need : (step > 8 ? step : 8) + 2 * CF__REC_HDR;
        int e = wait_space(p, want < last_need ? want : last_need, d);
        if (e)
            return e;
        uint64_t room;
        if (!ring_free(p, memory_order_acquire, &room))
            return break_pipe(p);
        uint32_t flags = *off == 0 ? CF__REC_FIRST : 0;
        if (last_need <= room && can_finish) {
            put_record(p, flags | CF__REC_LAST, msg + *off, (uint32_t)rest, len);
            *off = len;
        } else {
            uint64_t chunk = (room - 2 * CF__REC_HDR) & ~(uint64_t)7;
            if (chunk > step && step >= 8)
                chunk = step;           /* keep chunks small enough to pipeline */
            if (chunk > rest)
                chunk = rest & ~(uint64_t)7;
            if (chunk > UINT32_MAX / 2)
                chunk = UINT32_MAX / 2 & ~(uint64_t)7;
            put_record(p, flags, msg + *off, (uint32_t)chunk, len);
            *off += chunk;
        }
    }
    return 0;
}

static int send_locked(cf_pipe *p, const unsigned char *msg, size_t len, const cf__deadline *d)
{
    size_t off = 0;
    int e = send_from(p, msg, len, &off, d);
    if (e && off > 0 && off < len && e != EPIPE && e != EPROTO)
        put_record(p, CF__REC_ABORT, NULL, 0, 0);   /* the reserve guarantees room */
    return e;
}

int cf__pipe_send_part(cf_pipe *p, const void *msg, size_t len, size_t *off)
{
    cf__deadline d;
    cf__deadline_init(&d, 0);
    if (len > PTRDIFF_MAX)
        return EMSGSIZE;
    cf__parker *me = cf__parker_self();
    cf__mutex_lock(&p->send_mu, me, &cf__forever, false);
    int r = is_broken(p) ? EPROTO : send_from(p, msg, len, off, &d);
    cf__mutex_unlock(&p->send_mu, me);
    return r;
}

CF_EXTERN int cf_pipe_send(cf_pipe *p, const void *msg, size_t len, double timeout)
{
    cf__deadline d;
    if (!p || (len && !msg) || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (len > PTRDIFF_MAX)
        return EMSGSIZE;    /* no object is that large; it would wrap the record arithmetic */
    cf__parker *me = cf__parker_self();
    int r = cf__mutex_lock(&p->send_mu, me, &d, true);   /* another sender of this end */
    if (r)
        return r;
    r = is_broken(p) ? EPROTO : send_locked(p, msg, len, &d);
    cf__mutex_unlock(&p->send_mu, me);
    return r;
}

/* ---- receiving ---- */

static void drop_partial(cf_pipe *p)
{
    free(p->part);
    p->part = NULL;
    p->part_active = p->part_nomem = false;
    p->part_len = p->part_got = p->part_cap = 0;
}

/* Consumed up to `head`: publish it, wake a sender waiting for room, and keep the "data"
 * eventfd exact: if the ring is now empty, reset it, then re-arm if a record slipped in. */
static void consumed(cf_pipe *p, uint64_t head)
{
    cf__bring *r = p->in;
    p->in_head = head;
    atomic_store_explicit(&r->head, head, memory_order_seq_cst);
    cf__bell_ring(&r->writer_waiting, p->in_space);
    if (atomic_load_explicit(&r->fd_mode, memory_order_relaxed) &&
        atomic_load_explicit(&r->tail, memory_order_seq_cst) == head) {
        cf__bell_drain(p->in_data);
        if (atomic_load_explicit(&r->tail, memory_order_seq_cst) != head)
            cf__bell_signal(p->in_data);
    }
}

/* Room for `more` bytes of the partial message, grown geometrically up to its announced total:
 * memory follows the bytes that really came, not what the header claims. */
static bool part_reserve(cf_pipe *p, uint64_t more)
{
    uint64_t need = p->part_got + more;            /* <= part_len, checked by the caller */
    if (need <= p->part_cap && p->part)
        return true;
    uint64_t cap = p->part_cap ? p->part_cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > p->part_len)
        cap = p->part_len ? p->part_len : 1;
    unsigned char *b = realloc(p->part, (size_t)cap);
    if (!b)
        return false;
    p->part = b;
    p->part_cap = cap;
    return true;
}

/* The header at `head` is one the sender could have written, given the partial state and the
 * `avail` bytes published. */
static bool rec_valid(const cf_pipe *p, const cf__rec *h, uint64_t avail)
{
    uint32_t known = CF__REC_FIRST | CF__REC_LAST | CF__REC_ABORT;
    if ((h->flags & ~known) || cf__rec_size(h->chunk) > avail)
        return false;
    if (h->flags & CF__REC_ABORT)
        return h->flags == CF__REC_ABORT && h->chunk == 0;
    bool first = h->flags & CF__REC_FIRST, last = h->flags & CF__REC_LAST;
    if (!last && h->chunk == 0)
        return false;                   /* every chunk but a last one moves the message on */
    if (first) {
        if (h->total > PTRDIFF_MAX || h->chunk > h->total)
            return false;
        return last ? h->chunk == h->total : h->chunk < h->total;
    }
    if (!p->part_active || h->chunk > p->part_len - p->part_got)
        return false;                   /* a continuation needs a FIRST; no overrun */
    return !last || p->part_got + h->chunk == p->part_len;
}

/* 0 with a message | EAGAIN (nothing complete yet) | ENOMEM | EPROTO */
static int take_records(cf_pipe *p, void **msg, size_t *len)
{
    cf__bring *r = p->in;
    uint64_t head = p->in_head, budget = 2 * p->size;
    for (;;) {
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire), avail;
        if (!cf__bring_span(head, tail, p->size, &avail))
            return break_pipe(p);
        if (avail == 0 || budget == 0)
            return EAGAIN;
        cf__rec h;
        if (avail < CF__REC_HDR)
            return break_pipe(p);       /* records are published whole */
        cf__bring_get(r, p->size, head, &h, sizeof h);
        if (!rec_valid(p, &h, avail))
            return break_pipe(p);
        uint64_t rs = cf__rec_size(h.chunk);
        budget = rs < budget ? budget - rs : 0;
        if (h.flags & CF__REC_ABORT) {
            drop_partial(p);
            consumed(p, head += CF__REC_HDR);
            continue;
        }
        if (h.flags & CF__REC_FIRST) {
            drop_partial(p);
            p->part_active = true;
            p->part_len = h.total;
        }
        if (!p->part_nomem && !part_reserve(p, h.chunk)) {
            free(p->part);
            p->part = NULL;
            p->part_nomem = true;       /* keep consuming; the message is dropped at its end */
        }
        if (!p->part_nomem && h.chunk)
            cf__bring_get(r, p->size, head + CF__REC_HDR, p->part + p->part_got, h.chunk);
        p->part_got += h.chunk;
        consumed(p, head += rs);
        if (h.flags & CF__REC_LAST) {
            bool nomem = p->part_nomem;
            if (!nomem) {
                if (msg)
                    *msg = p->part;
                else
                    free(p->part);
                if (len)
                    *len = p->part_len;
                p->part = NULL;
            }
            drop_partial(p);
            return nomem ? ENOMEM : 0;
        }
    }
}

CF_EXTERN int cf_pipe_recv(cf_pipe *p, void **msg, size_t *len, double timeout)
{
    cf__deadline d;
    if (!p || cf__wait_deadline(&d, timeout))
        return EINVAL;
    cf__parker *me = cf__parker_self();
    int r = cf__mutex_lock(&p->recv_mu, me, &d, true);   /* another receiver of this end */
    if (r)
        return r;
    cf__backoff spin = cf__backoff_new(d.poll ? 0 : CF__PIPE_SPIN, 0);
    for (;;) {
        if (is_broken(p)) {
            r = EPROTO;
            break;
        }
        if ((r = take_records(p, msg, len)) != EAGAIN)
            break;
        if (cf__backoff_step(&spin))
            continue;
        /* Empty: the peer's records, if any, are all in; a partial message dies with it. */
        if (peer_gone(p->sock)) {
            if ((r = take_records(p, msg, len)) != EAGAIN)
                break;
            drop_partial(p);
            r = EPIPE;
            break;
        }
        if (d.poll) {
            r = EAGAIN;
            break;
        }
        if (cf__deadline_passed(&d)) {  /* a peer that streams without end: still a deadline */
            r = ETIMEDOUT;
            break;
        }
        cf__bring *in = p->in;
        cf__bell_sleeping(&in->reader_waiting);
        int w = 0;
        if (atomic_load_explicit(&in->tail, memory_order_seq_cst) == p->in_head)
            w = wait_fd(p->in_data, p->sock, &d);
        atomic_store_explicit(&in->reader_waiting, 0, memory_order_relaxed);
        if (!atomic_load_explicit(&in->fd_mode, memory_order_relaxed))
            cf__bell_drain(p->in_data);     /* in fd_mode, consumed() keeps it exact instead */
        if (w == ECANCELED) {           /* a cancelled coroutine: what came stays for the next */
            r = w;
            break;
        }
        if (w == ETIMEDOUT && (r = take_records(p, msg, len)) == EAGAIN) {
            r = ETIMEDOUT;
            break;
        }
    }
    cf__mutex_unlock(&p->recv_mu, me);
    return r;
}

void cf__pipe_rings(cf_pipe *p, cf__bring **in, cf__bring **out, uint64_t *size)
{
    *in = p->in;
    *out = p->out;
    *size = p->size;
}
