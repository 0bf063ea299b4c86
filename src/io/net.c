/* SPDX-License-Identifier: MIT */
/* net.c: TCP and Unix-domain stream sockets: listeners, accept, connect.
 *
 * Design notes.
 * - Every socket is made non-blocking and close-on-exec at creation (SOCK_NONBLOCK |
 *   SOCK_CLOEXEC), and waits go through the caller's parker (wait/), so accept and connect
 *   suspend a coroutine and block a thread.
 * - A listener keeps one spare descriptor (/dev/null). When accept fails with EMFILE or ENFILE,
 *   the connection at the head of the backlog would make every later accept fail at once (and a
 *   loop that polls the listener spin); the spare is closed, that connection accepted and closed,
 *   and the spare opened again (libuv's approach): the caller learns EMFILE, the listener keeps
 *   working.
 * - connect tries each address getaddrinfo gives, in its order, within one deadline; a
 *   non-blocking connect in progress is waited for (writable) and its result read from SO_ERROR.
 *   A Unix socket whose backlog is full refuses with EAGAIN and offers nothing to wait for: the
 *   caller naps (1 ms) and tries again, within its deadline.
 * - host NULL listens on IPv6 with IPV6_V6ONLY off (one socket for both families) where the
 *   system has IPv6, else on IPv4. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../wait/parker.h"
#include "stream.h"

struct cf_listener {
    int   fd, spare;
    bool  tcp;
    char *path;      /* a Unix socket's, removed at close */
};

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* *out a stream over the connected fd: 0 | ENOMEM (fd closed). */
static int stream_out(int fd, cf_stream **out)
{
    if (!(*out = cf__stream_adopt(fd, true))) {
        close(fd);
        return ENOMEM;
    }
    return 0;
}

static cf_listener *listener_new(int fd, bool tcp, const char *path)
{
    cf_listener *l = calloc(1, sizeof *l);
    if (!l || (path && !(l->path = strdup(path)))) {
        free(l);
        errno = ENOMEM;
        return NULL;
    }
    l->fd = fd;
    l->tcp = tcp;
    l->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return l;
}

/* socket + options + bind + listen on ai: the fd | -1 + errno. */
static int listen_on(const struct addrinfo *ai, bool dual, int backlog)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (dual && ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
        return fd;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

CF_EXTERN cf_listener *cf_tcp_listen(const char *host, const char *port, int backlog)
{
    if (!port) {
        errno = EINVAL;
        return NULL;
    }
    struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM }, *res;
    int r = cf_getaddrinfo(host, port, &hints, -1, &res);
    if (r) {
        errno = r;
        return NULL;
    }
    if (backlog <= 0)
        backlog = SOMAXCONN;
    int fd = -1, err = EADDRNOTAVAIL;
    /* Every interface: the IPv6 wildcard first, which takes IPv4 too. */
    for (int pass = host ? 1 : 0; pass < 2 && fd < 0; pass++)
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            if (pass == 0 && ai->ai_family != AF_INET6)
                continue;
            if ((fd = listen_on(ai, !host, backlog)) < 0)
                err = errno;
        }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = err;
        return NULL;
    }
    cf_listener *l = listener_new(fd, true, NULL);
    if (!l)
        close(fd);
    return l;
}

/* sun for path: 0 | ENAMETOOLONG | EINVAL. */
static int unix_addr(const char *path, struct sockaddr_un *sun)
{
    if (!path || !*path)
        return EINVAL;
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n >= sizeof sun->sun_path)
        return ENAMETOOLONG;
    memcpy(sun->sun_path, path, n + 1);
    return 0;
}

CF_EXTERN cf_listener *cf_unix_listen(const char *path, int backlog)
{
    struct sockaddr_un sun;
    int r = unix_addr(path, &sun);
    if (r) {
        errno = r;
        return NULL;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    /* bind fails with EADDRINUSE when path exists: it is never replaced. */
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    if (listen(fd, backlog <= 0 ? SOMAXCONN : backlog) != 0) {
        int e = errno;
        unlink(path);
        close(fd);
        errno = e;
        return NULL;
    }
    cf_listener *l = listener_new(fd, false, path);
    if (!l) {
        unlink(path);
        close(fd);
    }
    return l;
}

CF_EXTERN int cf_listener_port(cf_listener *l)
{
    if (!l || !l->tcp)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(l->fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Out of descriptors: takes the head of the backlog with the spare and drops it. */
static void drop_one(cf_listener *l)
{
    if (l->spare < 0)
        return;
    close(l->spare);
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    l->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

CF_EXTERN int cf_listener_accept(cf_listener *l, double timeout, cf_stream **out)
{
    cf__deadline d;
    if (!l || !out || cf__wait_deadline(&d, timeout))
        return EINVAL;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (l->tcp)
                set_nodelay(fd);
            return stream_out(fd, out);
        }
        int e = errno;
        if (e == EINTR || e == ECONNABORTED)
            continue;
        if (e == EMFILE || e == ENFILE) {
            drop_one(l);
            return e;
        }
        if (e != EAGAIN && e != EWOULDBLOCK)
            return e;
        if (d.poll)
            return EAGAIN;
        int r = cf__wait_fd(l->fd, POLLIN, &d);
        if (r)
            return r;
    }
}

CF_EXTERN void cf_listener_close(cf_listener *l)
{
    if (!l)
        return;
    if (l->path)
        unlink(l->path);
    close(l->fd);
    if (l->spare >= 0)
        close(l->spare);
    free(l->path);
    free(l);
}

/* Connects fd to addr by d: 0 | an errno (ETIMEDOUT, ECANCELED, ECONNREFUSED, ...). */
static int connect_by(int fd, const struct sockaddr *addr, socklen_t len, const cf__deadline *d)
{
    for (;;) {
        if (connect(fd, addr, len) == 0)
            return 0;
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN && addr->sa_family == AF_UNIX) {   /* its backlog is full */
            int r = cf__wait_nap(1000000, d, true);
            if (r)
                return r;
            continue;
        }
        if (e != EINPROGRESS)
            return e;
        int r = cf__wait_fd(fd, POLLOUT, d);
        if (r)
            return r;
        socklen_t sl = sizeof e;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0)
            return errno;
        return e;
    }
}

CF_EXTERN int cf_tcp_connect(const char *host, const char *port, double timeout, cf_stream **out)
{
    cf__deadline d;
    if (!port || !out || cf__wait_deadline(&d, timeout))
        return EINVAL;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int r = cf_getaddrinfo(host, port, &hints, timeout, &res);
    if (r)
        return r;
    r = ECONNREFUSED;
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            r = errno;
            continue;
        }
        if ((r = connect_by(fd, ai->ai_addr, ai->ai_addrlen, &d)) == 0)
            break;
        close(fd);
        fd = -1;
        if (r == ETIMEDOUT || r == ECANCELED)
            break;                            /* the one deadline is spent */
    }
    freeaddrinfo(res);
    if (fd < 0)
        return r;
    set_nodelay(fd);
    return stream_out(fd, out);
}

CF_EXTERN int cf_unix_connect(const char *path, double timeout, cf_stream **out)
{
    cf__deadline d;
    struct sockaddr_un sun;
    if (!out || cf__wait_deadline(&d, timeout))
        return EINVAL;
    int r = unix_addr(path, &sun);
    if (r)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if ((r = connect_by(fd, (struct sockaddr *)&sun, sizeof sun, &d))) {
        close(fd);
        return r;
    }
    return stream_out(fd, out);
}
