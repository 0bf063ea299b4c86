/* SPDX-License-Identifier: MIT */
/** @file
 * I/O on the loop: buffered byte streams (asyncio's StreamReader + StreamWriter),
 * TCP and Unix-domain sockets (asyncio.start_server / open_connection), and name resolution that
 * never stalls a loop.
 *
 * Every call that waits suspends the calling coroutine (loop.h) and never blocks its loop; from a
 * plain thread it blocks that thread (poll), so the same code runs in both. Timeouts as
 * everywhere: seconds, negative = forever, 0 = poll (EAGAIN when there is nothing to do), NaN =
 * EINVAL; a deadline scope (sync.h) cuts them. ECANCELED comes only to a coroutine cancelled while
 * (or before) it waits. A stream is used by at most one reader and one writer at a time (asyncio:
 * one StreamReader, one StreamWriter); the reader and the writer may be different coroutines or
 * threads. Every descriptor the library opens is close-on-exec, and no stream ever raises
 * SIGPIPE: a write to a closed peer is EPIPE. Subprocesses (asyncio.create_subprocess_exec) have
 * their pipes as streams and are waited for through a pidfd: no SIGCHLD handler is installed. */
#ifndef CFUTURES_IO_H
#define CFUTURES_IO_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "executor.h"   /* cf_bytes */

#ifdef __cplusplus
extern "C" {
#endif

/** struct addrinfo is POSIX: a strict C11 compile without _POSIX_C_SOURCE does not see netdb.h's,
 * so it is declared here for the prototypes to mean the same type either way. */
struct addrinfo;

/** getaddrinfo failures come back as CF_EAI_BASE - EAI_xxx (EAI_ values are negative in glibc);
 * cf_strerror gives gai_strerror's text for them. EAI_SYSTEM comes back as its errno and
 * EAI_MEMORY as ENOMEM. */
enum { CF_EAI_BASE = 0x20000 };

/** ---- streams ---- */

typedef struct cf_stream cf_stream;

/** A stream over fd, which it adopts: made non-blocking and close-on-exec, closed by
 * cf_stream_close. Any fd: a socket, a pipe, a tty, a regular file (which never waits).
 * NULL + errno EBADF | ENOMEM. */
CF_EXTERN cf_stream *cf_stream_new(int fd);
/** The stream's fd (-1 once cf_stream_shutdown closed a pipe's). */
CF_EXTERN int        cf_stream_fd(cf_stream *s);
/** The most cf_stream_readline and cf_stream_read_until may buffer looking for their separator
 * (default 64 KiB, asyncio's). 0 | EINVAL (NULL, or 0). */
CF_EXTERN int        cf_stream_set_limit(cf_stream *s, size_t limit);
/** Reads up to max bytes: the buffered ones first, else it waits for at least one (a coroutine
 * suspends). > 0 | 0 at end of stream | -1 + errno EAGAIN (timeout 0, nothing there) |
 * ETIMEDOUT | ECANCELED | ECONNRESET or another read error | EINVAL. */
CF_EXTERN ssize_t    cf_stream_read(cf_stream *s, void *buf, size_t max, double timeout);
/** Copies exactly n bytes, waiting until they are all there. 0 | ENODATA (the stream ended first:
 * nothing is taken, cf_stream_read gets what came) | EAGAIN, ETIMEDOUT or ECANCELED (nothing is
 * taken: the bytes stay for the next read) | ENOMEM | a read error | EINVAL. */
CF_EXTERN int        cf_stream_read_exactly(cf_stream *s, void *buf, size_t n, double timeout);
/** A line: up to and including '\n', or what is left at the end of the stream (*len 0: the end).
 * *line points into the stream's buffer (no copy) and stays valid until the next read call on s
 * (writes do not move it). 0 | EMSGSIZE (limit bytes are buffered and no '\n' among them: nothing
 * is taken) | EAGAIN, ETIMEDOUT or ECANCELED (nothing is taken) | ENOMEM | a read error |
 * EINVAL. */
CF_EXTERN int        cf_stream_readline(cf_stream *s, double timeout, const char **line, size_t *len);
/** As readline, up to and including sep (seplen bytes). ENODATA when the stream ends before sep
 * (nothing is taken) | EMSGSIZE | EAGAIN | ETIMEDOUT | ECANCELED | EINVAL (seplen 0) | ... */
CF_EXTERN int        cf_stream_read_until(cf_stream *s, const void *sep, size_t seplen, double timeout,
                                          const void **data, size_t *len);
/** Takes all n bytes (writes what the fd accepts now and queues the rest; buf may be reused at
 * once), then waits while more than 64 KiB is queued (asyncio's write + drain; a coroutine
 * suspends). 0 | EAGAIN (timeout 0 and more than 64 KiB still queued), ETIMEDOUT or ECANCELED
 * (either way the bytes are taken and go out with the next write, drain or shutdown) | EPIPE (the peer is gone, or after shutdown) | ECONNRESET | ENOMEM |
 * EINVAL. */
CF_EXTERN int        cf_stream_write(cf_stream *s, const void *buf, size_t n, double timeout);
/** Waits until nothing is queued. 0 | EAGAIN (timeout 0, bytes left) | ETIMEDOUT | ECANCELED |
 * EPIPE | ECONNRESET | EINVAL. */
CF_EXTERN int        cf_stream_drain(cf_stream *s, double timeout);
/** Drains, then ends the writing side (asyncio's write_eof): shutdown(SHUT_WR) on a socket, the fd
 * closed for anything else. Later writes are EPIPE. 0 | as cf_stream_drain. */
CF_EXTERN int        cf_stream_shutdown(cf_stream *s, double timeout);
/** Closes the fd and frees the stream; bytes still queued are dropped (drain first). No one may be
 * inside a call on s. NULL: no-op. */
CF_EXTERN void       cf_stream_close(cf_stream *s);

/** ---- TCP and Unix-domain stream sockets ---- */

typedef struct cf_listener cf_listener;

/** A listening TCP socket. host NULL: every interface, IPv6 and IPv4 together where the system
 * allows; port "0": a free port (cf_listener_port says which); service names work; SO_REUSEADDR;
 * backlog <= 0: SOMAXCONN. Resolving suspends a coroutine. NULL + errno EADDRINUSE | EACCES |
 * EMFILE | CF_EAI_BASE - EAI_x | ... */
CF_EXTERN cf_listener *cf_tcp_listen(const char *host, const char *port, int backlog);
/** A listening Unix-domain socket at path, which must not exist (it never removes a file it did not
 * create). NULL + errno EADDRINUSE (path exists) | ENAMETOOLONG (too long for sun_path) | ... */
CF_EXTERN cf_listener *cf_unix_listen(const char *path, int backlog);
/** The bound TCP port; -1 for a Unix socket or NULL. */
CF_EXTERN int          cf_listener_port(cf_listener *l);
/** Waits for a connection (a coroutine suspends): *out a stream over it (TCP_NODELAY on TCP).
 * 0 | EAGAIN (timeout 0, none waiting) | ETIMEDOUT | ECANCELED | EMFILE or ENFILE (out of
 * descriptors: the waiting connection is dropped, the listener keeps working) | EINVAL. */
CF_EXTERN int          cf_listener_accept(cf_listener *l, double timeout, cf_stream **out);
/** Closes the listener (a Unix socket's path is removed). NULL: no-op; nobody may be inside
 * accept. */
CF_EXTERN void         cf_listener_close(cf_listener *l);
/** Connects to host:port: resolves without blocking a loop, tries each address in turn within the
 * one timeout, sets TCP_NODELAY. *out the connected stream. 0 | ETIMEDOUT | ECANCELED |
 * ECONNREFUSED | ENETUNREACH | CF_EAI_BASE - EAI_x | EINVAL | ... */
CF_EXTERN int          cf_tcp_connect(const char *host, const char *port, double timeout, cf_stream **out);
/** Connects to the Unix-domain socket at path. 0 | ETIMEDOUT | ECANCELED | ECONNREFUSED | ENOENT |
 * ENAMETOOLONG | EINVAL | ... */
CF_EXTERN int          cf_unix_connect(const char *path, double timeout, cf_stream **out);
/** getaddrinfo on the library's resolver threads (started on first use), so a coroutine suspends
 * and its loop goes on. 0 (free *res with freeaddrinfo) | EAGAIN (timeout 0 and the answer is
 * not there at once) | ETIMEDOUT (the lookup goes on and its answer is dropped) | ECANCELED |
 * ENOMEM | CF_EAI_BASE - EAI_x | EINVAL. */
CF_EXTERN int          cf_getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
                                      double timeout, struct addrinfo **res);

/** ---- subprocesses ---- */

typedef struct cf_subprocess cf_subprocess;

/** How a child's stdin, stdout or stderr is set up. */
enum { CF_STDIO_INHERIT = 0,   /**< this process's */
       CF_STDIO_PIPE,          /**< a pipe, as a stream (cf_subprocess_stdin and friends) */
       CF_STDIO_DEVNULL,       /**< /dev/null */
       CF_STDIO_STDOUT         /**< stderr only: into the child's stdout */ };

/** How cf_subprocess_spawn starts the child; every field's zero is its default. */
typedef struct cf_subprocess_opts {
    const char *const *envp;     /**< NULL: this process's environment */
    const char        *cwd;      /**< NULL: this process's */
    int stdin_mode;              /**< CF_STDIO_*; 0 = inherit */
    int stdout_mode;             /**< CF_STDIO_*; 0 = inherit */
    int stderr_mode;             /**< CF_STDIO_* (CF_STDIO_STDOUT too); 0 = inherit */
    uint64_t cf__reserved[4];    /**< zero: room for later fields (nonzero: EINVAL) */
} cf_subprocess_opts;
/** Defaults for every field, in C and C++: `cf_subprocess_opts o = CF_SUBPROCESS_OPTS_INIT;`. */
#define CF_SUBPROCESS_OPTS_INIT CF__ZERO_INIT

/** Starts argv[0] with argv (NULL-terminated); argv[0] without a '/' is looked up in PATH (envp's
 * PATH when envp has one, Python's rule, else this process's). Never forks a copy of this
 * process's heap (posix_spawn, which vforks). opts NULL: inherit everything. NULL + errno ENOENT or
 * EACCES (the exec failed: said here, not as exit status 127) | ENOMEM | EMFILE | EAGAIN | EINVAL
 * (NULL or empty argv, a bad mode, cf__reserved not zero). */
CF_EXTERN cf_subprocess *cf_subprocess_spawn(const char *const argv[], const cf_subprocess_opts *opts);
/** The child's pid (-1 for NULL). */
CF_EXTERN pid_t          cf_subprocess_pid(cf_subprocess *p);
/** The stream to the child's stdin: NULL unless CF_STDIO_PIPE; owned by p (closed by
 * cf_subprocess_free; cf_stream_shutdown closes it early, the child then reads its end). */
CF_EXTERN cf_stream     *cf_subprocess_stdin(cf_subprocess *p);
/** The stream from the child's stdout: NULL unless CF_STDIO_PIPE; owned by p. */
CF_EXTERN cf_stream     *cf_subprocess_stdout(cf_subprocess *p);
/** The stream from the child's stderr: NULL unless CF_STDIO_PIPE; owned by p. */
CF_EXTERN cf_stream     *cf_subprocess_stderr(cf_subprocess *p);
/** Waits until the child exits (a coroutine suspends; the loop watches a pidfd) and reaps it;
 * *status (may be NULL) as waitpid's. A second wait returns the status remembered from the first.
 * 0 | EAGAIN (timeout 0, running) | ETIMEDOUT | ECANCELED | EINVAL. */
CF_EXTERN int            cf_subprocess_wait(cf_subprocess *p, double timeout, int *status);
/** Writes input (len bytes) to stdin and closes it, reads stdout and stderr to their end at the
 * same time (never deadlocks on full pipes), then waits for the exit, all within timeout (a
 * coroutine suspends). out and err (may be NULL) get malloc'd copies the caller frees, {NULL, 0}
 * for a stream that is not piped; input the child does not read is no error. 0 | ETIMEDOUT |
 * ECANCELED | ENOMEM | EINVAL | a read error. */
CF_EXTERN int            cf_subprocess_communicate(cf_subprocess *p, const void *input, size_t len,
                                                   double timeout, cf_bytes *out, cf_bytes *err,
                                                   int *status);
/** Sends sig to the child. 0 | ESRCH (already reaped) | EINVAL (bad sig, NULL). */
CF_EXTERN int            cf_subprocess_kill(cf_subprocess *p, int sig);
/** Closes its streams; a child still running is killed (SIGKILL) and reaped (a coroutine suspends
 * meanwhile): no zombie. NULL: no-op. */
CF_EXTERN void           cf_subprocess_free(cf_subprocess *p);

#ifdef __cplusplus
}
#endif

#endif
