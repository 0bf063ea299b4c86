/* SPDX-License-Identifier: MIT */
/* stream.c: cf_stream, buffered reading and writing over a non-blocking fd.
 *
 * Design notes.
 * - Reading: bytes live in rbuf[rstart, rend). A read that finds the buffer empty reads straight
 *   into the caller's memory (no copy on the common path), and after a short read of a socket
 *   the next one waits before it reads (the socket was drained; an edge, or poll, says when
 *   more came), which saves the read that would only say EAGAIN; read_exactly, readline and read_until
 *   buffer until their condition holds and only then take, so a timeout, a cancel, the end of the
 *   stream or EMSGSIZE leave every byte for the next read (asyncio's StreamReader loses them).
 *   readline and read_until hand out a pointer into rbuf: the bytes they return are only marked
 *   (taken) and leave the buffer at the next read call, so the pointer stays valid until then.
 *   A search resumes where the last one stopped (scanned), so a long line costs linear time.
 * - Writing: wbuf[wstart, wend) is what the fd has not accepted yet, in order. A write tries the
 *   fd first when nothing is queued (no copy on the common path), queues the rest, and waits
 *   only while more than HIGH_WATER bytes are queued. A write error is sticky (werr): the queue is
 *   dropped and every later write says it.
 * - The reader and the writer are separate callers (one of each at most): the read fields are the
 *   reader's, the write fields the writer's; they share only fd, which neither changes but
 *   shutdown (the writer's, and only for a pipe, whose other direction does not exist).
 * - Waiting goes through the caller's parker (wait/): poll for a thread; for a coroutine, the fd
 *   stays registered with its loop (a watch: one epoll_ctl for the stream's life, not two per
 *   wait). A regular file is always ready: it never waits.
 * - SIGPIPE: sockets write with MSG_NOSIGNAL; anything else writes with SIGPIPE blocked in the
 *   calling thread, and a SIGPIPE that write raised is consumed before it is unblocked (one
 *   pending before stays pending), so EPIPE comes back instead of a signal. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../wait/parker.h"
#include "stream.h"

#define DEFAULT_LIMIT (64 * 1024)
#define HIGH_WATER    (64 * 1024)
#define FIRST_BUF     (16 * 1024)

struct cf_stream {
    int    fd;
    cf__fdwatch watch;     /* fd, as a loop keeps it registered (wait/parker.h) */
    bool   sock, regular;
    /* the reader's */
    char  *rbuf;
    size_t rcap, rstart, rend, taken, scanned;
    size_t limit;
    bool   eof;
    bool   drained;        /* a socket's last read came back short: wait before the next */
    int    rerr;           /* a read error, given once the buffered bytes are gone */
    /* the writer's */
    char  *wbuf;
    size_t wcap, wstart, wend;
    int    werr;           /* sticky: EPIPE, ECONNRESET, ... */
    bool   wshut;
};

cf_stream *cf__stream_adopt(int fd, bool sock)
{
    cf_stream *s = calloc(1, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    s->fd = fd;
    s->watch.fd = fd;
    s->sock = sock;
    s->limit = DEFAULT_LIMIT;
    return s;
}

CF_EXTERN cf_stream *cf_stream_new(int fd)
{
    struct stat st;
    int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
    if (fl < 0 || fstat(fd, &st) != 0) {
        errno = EBADF;
        return NULL;
    }
    if (!(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
    cf_stream *s = cf__stream_adopt(fd, S_ISSOCK(st.st_mode));
    if (s)
        s->regular = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
    return s;
}

CF_EXTERN int cf_stream_fd(cf_stream *s) { return s ? s->fd : -1; }

CF_EXTERN int cf_stream_set_limit(cf_stream *s, size_t limit)
{
    if (!s || limit == 0)
        return EINVAL;
    s->limit = limit;
    return 0;
}

CF_EXTERN void cf_stream_close(cf_stream *s)
{
    if (!s)
        return;
    cf__fdwatch_detach(&s->watch);
    if (s->fd >= 0)
        close(s->fd);
    free(s->rbuf);
    free(s->wbuf);
    free(s);
}

/* Waits until fd is ready for events, as the caller's parker waits. 0 | EAGAIN (a poll) |
 * ETIMEDOUT | ECANCELED | an errno. */
static int wait_ready(cf_stream *s, short events, const cf__deadline *d)
{
    if (s->regular)
        return 0;
    if (d->poll)
        return EAGAIN;
    return cf__wait_watch(&s->watch, events, d);
}

/* ---- reading ---- */

static size_t buffered(const cf_stream *s) { return s->rend - s->rstart; }

/* The bytes the last readline/read_until returned leave the buffer now. */
static void settle(cf_stream *s)
{
    s->rstart += s->taken;
    s->scanned = s->scanned > s->taken ? s->scanned - s->taken : 0;
    s->taken = 0;
    if (s->rstart == s->rend)
        s->rstart = s->rend = 0;
}

/* Grows *buf (of *cap bytes, used of them in use) by doubling until more bytes fit after the
 * used ones: 0 | ENOMEM (*buf unchanged). */
static int grow(char **buf, size_t *cap, size_t used, size_t more)
{
    size_t c = *cap ? *cap : FIRST_BUF;
    while (c - used < more) {
        if (c > SIZE_MAX / 2)
            return ENOMEM;
        c *= 2;
    }
    if (c == *cap)
        return 0;
    char *b = realloc(*buf, c);
    if (!b)
        return ENOMEM;
    *buf = b;
    *cap = c;
    return 0;
}

/* Room for at least `more` bytes after rend (moving the data to the front, or growing). */
static int make_room(cf_stream *s, size_t more)
{
    if (s->rcap - s->rend >= more)
        return 0;
    size_t have = buffered(s);
    if (s->rstart > 0) {
        memmove(s->rbuf, s->rbuf + s->rstart, have);
        s->rstart = 0;
        s->rend = have;
        if (s->rcap - s->rend >= more)
            return 0;
    }
    return grow(&s->rbuf, &s->rcap, s->rend, more);
}

/* One read(2) into dst: > 0 | 0 (end) | -errno (-EAGAIN: nothing now). */
static ssize_t read_once(cf_stream *s, void *dst, size_t max)
{
    for (;;) {
        ssize_t n = read(s->fd, dst, max);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -(ssize_t)errno;
    }
}

/* Reads into dst (max > 0 bytes), waiting for at least one byte: > 0 | 0 (the end: eof set) |
 * -errno (a read error, kept in rerr, or the wait's EAGAIN, ETIMEDOUT, ECANCELED). After a short
 * read of a socket the next call waits first: the socket was drained, the next data comes with
 * an edge (or, for a thread, poll sees it), so the read that would only say EAGAIN is saved
 * (libuv's UV_HANDLE_READ_PARTIAL). */
static ssize_t read_wait(cf_stream *s, void *dst, size_t max, const cf__deadline *d)
{
    if (s->eof)
        return 0;
    if (s->rerr)
        return -s->rerr;
    if (s->drained && !d->poll) {
        int r = wait_ready(s, POLLIN, d);
        if (r)
            return -r;
        s->drained = false;
    }
    for (;;) {
        ssize_t n = read_once(s, dst, max);
        if (n > 0) {
            s->drained = s->sock && (size_t)n < max;
            return n;
        }
        if (n == 0) {
            s->eof = true;
            return 0;
        }
        if (n != -EAGAIN && n != -EWOULDBLOCK) {
            s->rerr = (int)-n;
            return n;
        }
        int r = wait_ready(s, POLLIN, d);
        if (r)
            return -r;
    }
}

/* Reads more into the buffer, at least one byte unless the stream ended, waiting for it.
 * want: bytes the caller still needs (a hint for the room to make). 0 | an error; s->eof set at
 * the end of the stream. */
static int fill(cf_stream *s, size_t want, const cf__deadline *d)
{
    if (s->eof)
        return 0;
    int r = make_room(s, want > FIRST_BUF ? want : FIRST_BUF);
    if (r)
        return r;
    ssize_t n = read_wait(s, s->rbuf + s->rend, s->rcap - s->rend, d);
    if (n > 0)
        s->rend += (size_t)n;
    return n < 0 ? (int)-n : 0;
}

/* Copies n buffered bytes out and drops them from the buffer. */
static void take(cf_stream *s, void *dst, size_t n)
{
    memcpy(dst, s->rbuf + s->rstart, n);
    s->rstart += n;
    s->scanned = s->scanned > n ? s->scanned - n : 0;
}

static int read_deadline(cf_stream *s, double timeout, cf__deadline *d)
{
    if (!s || cf__wait_deadline(d, timeout))
        return EINVAL;
    settle(s);
    return 0;
}

CF_EXTERN ssize_t cf_stream_read(cf_stream *s, void *buf, size_t max, double timeout)
{
    cf__deadline d;
    if (read_deadline(s, timeout, &d) || (max && !buf)) {
        errno = EINVAL;
        return -1;
    }
    if (max == 0)
        return 0;
    size_t have = buffered(s);
    if (have) {
        take(s, buf, have < max ? have : max);
        return (ssize_t)(have < max ? have : max);
    }
    ssize_t n = read_wait(s, buf, max, &d);   /* nothing buffered: straight into buf */
    if (n < 0) {
        errno = (int)-n;
        return -1;
    }
    return n;
}

CF_EXTERN int cf_stream_read_exactly(cf_stream *s, void *buf, size_t n, double timeout)
{
    cf__deadline d;
    if (read_deadline(s, timeout, &d) || (n && !buf))
        return EINVAL;
    while (buffered(s) < n) {
        if (s->eof)
            return ENODATA;
        int r = fill(s, n - buffered(s), &d);
        if (r)
            return r;                          /* nothing taken */
    }
    take(s, buf, n);
    return 0;
}

/* Finds sep within the first `limit` buffered bytes, from where the last search stopped.
 * The length up to and including sep, or 0. */
static size_t find(cf_stream *s, const char *sep, size_t seplen)
{
    size_t have = buffered(s), lim = have < s->limit ? have : s->limit;
    const char *b = s->rbuf + s->rstart;
    size_t from = s->scanned >= seplen ? s->scanned - seplen + 1 : 0;
    for (size_t i = from; i + seplen <= lim; i++) {
        const char *p = seplen == 1 ? memchr(b + i, sep[0], lim - i) : b + i;
        if (!p)
            break;
        i = (size_t)(p - b);
        if (i + seplen <= lim && memcmp(p, sep, seplen) == 0)
            return i + seplen;
    }
    s->scanned = lim;
    return 0;
}

static int until(cf_stream *s, const char *sep, size_t seplen, bool rest_at_end,
                 const cf__deadline *d, const void **data, size_t *len)
{
    for (;;) {
        size_t n = find(s, sep, seplen);
        if (n) {
            *data = s->rbuf + s->rstart;
            *len = s->taken = n;
            return 0;
        }
        if (buffered(s) >= s->limit)
            return EMSGSIZE;                   /* nothing taken */
        if (s->eof) {
            if (!rest_at_end)
                return ENODATA;
            *data = s->rbuf ? s->rbuf + s->rstart : "";
            *len = s->taken = buffered(s);     /* the rest; 0: the end */
            return 0;
        }
        int r = fill(s, s->limit - buffered(s), d);
        if (r)
            return r;
    }
}

CF_EXTERN int cf_stream_readline(cf_stream *s, double timeout, const char **line, size_t *len)
{
    cf__deadline d;
    if (read_deadline(s, timeout, &d) || !line || !len)
        return EINVAL;
    return until(s, "\n", 1, true, &d, (const void **)line, len);
}

CF_EXTERN int cf_stream_read_until(cf_stream *s, const void *sep, size_t seplen, double timeout,
                                   const void **data, size_t *len)
{
    cf__deadline d;
    if (read_deadline(s, timeout, &d) || !sep || seplen == 0 || !data || !len)
        return EINVAL;
    return until(s, sep, seplen, false, &d, data, len);
}

/* ---- writing ---- */

static size_t queued(const cf_stream *s) { return s->wend - s->wstart; }

/* One write(2) that never raises SIGPIPE: > 0 | -errno. */
static ssize_t write_once(cf_stream *s, const void *p, size_t n)
{
    for (;;) {
        ssize_t w;
        if (s->sock) {
            w = send(s->fd, p, n, MSG_NOSIGNAL);
        } else {
            sigset_t pipe_set, old, pending;
            sigemptyset(&pipe_set);
            sigaddset(&pipe_set, SIGPIPE);
            pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
            sigpending(&pending);
            bool was_pending = sigismember(&pending, SIGPIPE);
            w = write(s->fd, p, n);
            if (w < 0 && errno == EPIPE && !was_pending) {
                struct timespec zero = { 0, 0 };
                while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                    ;
                errno = EPIPE;
            }
            int e = errno;
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            errno = e;
        }
        if (w >= 0)
            return w;
        if (errno != EINTR)
            return -(ssize_t)errno;
    }
}

/* Writes queued bytes until none are left or the fd is full: 0 | EAGAIN | the sticky error. */
static int flush(cf_stream *s)
{
    while (queued(s)) {
        ssize_t w = write_once(s, s->wbuf + s->wstart, queued(s));
        if (w > 0) {
            s->wstart += (size_t)w;
            continue;
        }
        if (w == -EAGAIN || w == -EWOULDBLOCK)
            return EAGAIN;
        s->werr = w == 0 ? EPIPE : (int)-w;
        s->wstart = s->wend = 0;               /* nothing of it can go out any more */
        return s->werr;
    }
    s->wstart = s->wend = 0;
    return 0;
}

static int enqueue(cf_stream *s, const char *p, size_t n)
{
    if (s->wstart > 0 && s->wcap - s->wend < n) {
        memmove(s->wbuf, s->wbuf + s->wstart, queued(s));
        s->wend -= s->wstart;
        s->wstart = 0;
    }
    if (s->wcap - s->wend < n && grow(&s->wbuf, &s->wcap, s->wend, n))
        return ENOMEM;
    memcpy(s->wbuf + s->wend, p, n);
    s->wend += n;
    return 0;
}

/* Flushes until at most `keep` bytes are queued, waiting for the fd: 0 | EAGAIN | ETIMEDOUT |
 * ECANCELED | the sticky error. */
static int flush_to(cf_stream *s, size_t keep, const cf__deadline *d)
{
    for (;;) {
        int r = flush(s);
        if (r != EAGAIN || queued(s) <= keep)
            return r == EAGAIN ? 0 : r;
        if ((r = wait_ready(s, POLLOUT, d)))
            return r;
    }
}

static int write_check(cf_stream *s, double timeout, cf__deadline *d)
{
    if (!s || cf__wait_deadline(d, timeout))
        return EINVAL;
    if (s->werr)
        return s->werr;
    return s->wshut || s->fd < 0 ? EPIPE : 0;
}

CF_EXTERN int cf_stream_write(cf_stream *s, const void *buf, size_t n, double timeout)
{
    cf__deadline d;
    int r = write_check(s, timeout, &d);
    if (r || (n && !buf))
        return r ? r : EINVAL;
    const char *p = buf;
    if (!queued(s)) {                          /* straight to the fd, no copy */
        while (n) {
            ssize_t w = write_once(s, p, n);
            if (w > 0) {
                p += w;
                n -= (size_t)w;
                continue;
            }
            if (w == -EAGAIN || w == -EWOULDBLOCK)
                break;
            return s->werr = w == 0 ? EPIPE : (int)-w;
        }
        if (!n)
            return 0;
    }
    if ((r = enqueue(s, p, n)))
        return r;
    return flush_to(s, HIGH_WATER, &d);
}

CF_EXTERN int cf_stream_drain(cf_stream *s, double timeout)
{
    cf__deadline d;
    if (!s || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (s->werr)
        return s->werr;
    int r = flush_to(s, 0, &d);
    return r == 0 && queued(s) ? EAGAIN : r;
}

CF_EXTERN int cf_stream_shutdown(cf_stream *s, double timeout)
{
    int r = cf_stream_drain(s, timeout);
    if (r)
        return r;
    if (s->wshut)
        return 0;
    s->wshut = true;
    if (s->sock) {
        shutdown(s->fd, SHUT_WR);
    } else if (s->fd >= 0) {
        cf__fdwatch_detach(&s->watch);
        close(s->fd);                          /* a pipe has no other direction to keep */
        s->fd = s->watch.fd = -1;
    }
    return 0;
}
