/* SPDX-License-Identifier: MIT */
/* subprocess.c: cf_subprocess, asyncio.create_subprocess_exec.
 *
 * Design notes.
 * - Spawning is posix_spawn: glibc's vforks (CLONE_VM | CLONE_VFORK), so a large or threaded
 *   parent never copies its heap, and reports a failed exec as posix_spawn's own error (ENOENT,
 *   EACCES) instead of an exit status. The child's ends of the pipes are dup'd onto 0/1/2 by file
 *   actions; every pipe is made close-on-exec, so only those three reach the child.
 * - Waiting: a pidfd (pidfd_open, Linux 5.3) polls readable when the child exits; the caller
 *   waits on it as on any fd (poll for a thread, the loop's epoll for a coroutine) and then reaps
 *   with waitpid(WNOHANG). No SIGCHLD handler is installed: the program's own SIGCHLD use and
 *   the process pools (whose workers the fork server reaps) keep working. Without pidfds (an old
 *   kernel) it naps between waitpid(WNOHANG) tries.
 * - communicate multiplexes itself: it writes stdin in 64 KiB steps, reads stdout and stderr as
 *   far as they go, and waits on the three fds at once when none can move, so full pipes never
 *   deadlock it and it needs no helper coroutine or thread. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/opts.h"
#include "../wait/parker.h"
#include "cfutures/io.h"

extern char **environ;

struct cf_subprocess {
    pid_t      pid;
    int        pidfd;             /* -1: none (old kernel) */
    bool       reaped;
    int        status;
    cf_stream *io[3];             /* stdin, stdout, stderr when piped */
};

static bool valid_mode(int m, int which)
{
    return m == CF_STDIO_INHERIT || m == CF_STDIO_PIPE || m == CF_STDIO_DEVNULL ||
           (m == CF_STDIO_STDOUT && which == 2);
}

/* PATH from envp, if envp has one. */
static const char *path_of(const char *const *envp)
{
    for (; envp && *envp; envp++)
        if (strncmp(*envp, "PATH=", 5) == 0)
            return *envp + 5;
    return NULL;
}

/* Looks name up in path (a PATH value): a malloc'd full path | NULL + errno ENOENT, EACCES. */
static char *search(const char *name, const char *path)
{
    int err = ENOENT;
    size_t nl = strlen(name);
    for (const char *p = path;; p++) {
        const char *colon = strchr(p, ':');
        size_t dl = colon ? (size_t)(colon - p) : strlen(p), used = dl ? dl : 1;
        char *full = malloc(used + nl + 2);
        if (!full) {
            errno = ENOMEM;
            return NULL;
        }
        if (dl)
            memcpy(full, p, dl);
        else
            full[0] = '.';                     /* an empty entry is the current directory */
        full[used] = '/';
        memcpy(full + used + 1, name, nl + 1);
        if (access(full, X_OK) == 0)
            return full;
        if (errno == EACCES)
            err = EACCES;
        free(full);
        if (!colon)
            break;
        p = colon;
    }
    errno = err;
    return NULL;
}

CF_EXTERN cf_subprocess *cf_subprocess_spawn(const char *const argv[], const cf_subprocess_opts *opts)
{
    cf_subprocess_opts o = { 0 };
    if (opts)
        o = *opts;
    int modes[3] = { o.stdin_mode, o.stdout_mode, o.stderr_mode };
    if (!argv || !argv[0] || !*argv[0] || !CF__RESERVED_ZERO(o)) {
        errno = EINVAL;
        return NULL;
    }
    for (int i = 0; i < 3; i++)
        if (!valid_mode(modes[i], i)) {
            errno = EINVAL;
            return NULL;
        }
    cf_subprocess *p = calloc(1, sizeof *p);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    p->pidfd = -1;
    int pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, err = 0;
    char *found = NULL;
    posix_spawn_file_actions_t fa;
    bool fa_made = posix_spawn_file_actions_init(&fa) == 0;
    if (!fa_made) {
        err = ENOMEM;
        goto fail;
    }
    for (int i = 0; i < 3 && !err; i++) {
        if (modes[i] == CF_STDIO_PIPE) {
            if (pipe2(pipes[i], O_CLOEXEC) != 0) {
                err = errno;
                break;
            }
            int child = i == 0 ? pipes[i][0] : pipes[i][1];
            err = posix_spawn_file_actions_adddup2(&fa, child, i);
        } else if (modes[i] == CF_STDIO_DEVNULL) {
            err = posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
        } else if (modes[i] == CF_STDIO_STDOUT) {
            err = posix_spawn_file_actions_adddup2(&fa, 1, 2);
        }
    }
    if (!err && o.cwd)
        err = posix_spawn_file_actions_addchdir_np(&fa, o.cwd);
    if (err)
        goto fail;
    char *const *envp = o.envp ? (char *const *)o.envp : environ;
    const char *file = argv[0];
    const char *envpath = o.envp ? path_of(o.envp) : NULL;
    if (!strchr(file, '/')) {
        const char *path = envpath ? envpath : getenv("PATH");
        if (!(found = search(file, path ? path : "/usr/local/bin:/usr/bin:/bin"))) {
            err = errno;
            goto fail;
        }
        file = found;
    }
    err = posix_spawn(&p->pid, file, &fa, NULL, (char *const *)argv, envp);
    if (err)
        goto fail;
    p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (p->pidfd >= 0)
        fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
    for (int i = 0; i < 3; i++) {
        if (pipes[i][0] < 0)
            continue;
        int mine = i == 0 ? pipes[i][1] : pipes[i][0], theirs = i == 0 ? pipes[i][0] : pipes[i][1];
        close(theirs);
        pipes[i][0] = pipes[i][1] = -1;
        if (!(p->io[i] = cf_stream_new(mine))) {
            close(mine);
            err = ENOMEM;
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    free(found);
    if (err) {
        cf_subprocess_free(p);   /* kills and reaps the child it did start */
        errno = err;
        return NULL;
    }
    return p;

fail:
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            if (pipes[i][j] >= 0)
                close(pipes[i][j]);
    if (fa_made)
        posix_spawn_file_actions_destroy(&fa);
    free(found);
    free(p);
    errno = err;
    return NULL;
}

CF_EXTERN pid_t cf_subprocess_pid(cf_subprocess *p) { return p ? p->pid : -1; }
CF_EXTERN cf_stream *cf_subprocess_stdin(cf_subprocess *p) { return p ? p->io[0] : NULL; }
CF_EXTERN cf_stream *cf_subprocess_stdout(cf_subprocess *p) { return p ? p->io[1] : NULL; }
CF_EXTERN cf_stream *cf_subprocess_stderr(cf_subprocess *p) { return p ? p->io[2] : NULL; }

/* Reaps if it exited: true once reaped. */
static bool try_reap(cf_subprocess *p)
{
    if (p->reaped)
        return true;
    int st;
    pid_t r;
    while ((r = waitpid(p->pid, &st, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == p->pid) {
        p->reaped = true;
        p->status = st;
    } else if (r < 0 && errno == ECHILD) {
        p->reaped = true;        /* reaped by someone else (SIGCHLD ignored, waitpid(-1)) */
        p->status = 0;
    }
    return p->reaped;
}

/* Until it exits, by d: 0 | EAGAIN | ETIMEDOUT | ECANCELED (cancellable only: otherwise a cancel
 * that ends the fd wait is kept for the caller's next wait, and this one goes on). */
static int wait_exit(cf_subprocess *p, const cf__deadline *d, bool cancellable)
{
    uint64_t nap = 1000000;
    bool kept = false;
    int r = 0;
    while (!try_reap(p)) {
        if (d->poll) {
            r = EAGAIN;
            break;
        }
        r = p->pidfd >= 0 ? cf__wait_fd(p->pidfd, POLLIN, d) : cf__wait_nap(nap, d, cancellable);
        if (r == ECANCELED && !cancellable) {
            kept = true;
            continue;
        }
        if (r && !(r == ETIMEDOUT && try_reap(p)))
            break;
        r = 0;
    }
    if (kept)
        cf__parker_cancel(cf__parker_self());   /* pending again: delivered by the next wait */
    return try_reap(p) ? 0 : r;
}

CF_EXTERN int cf_subprocess_wait(cf_subprocess *p, double timeout, int *status)
{
    cf__deadline d;
    if (!p || cf__wait_deadline(&d, timeout))
        return EINVAL;
    int r = wait_exit(p, &d, true);
    if (!r && status)
        *status = p->status;
    return r;
}

CF_EXTERN int cf_subprocess_kill(cf_subprocess *p, int sig)
{
    if (!p || sig < 0 || sig >= NSIG)
        return EINVAL;
    if (p->reaped)
        return ESRCH;            /* its pid may be someone else's by now */
    return kill(p->pid, sig) == 0 ? 0 : errno;
}

CF_EXTERN void cf_subprocess_free(cf_subprocess *p)
{
    if (!p)
        return;
    for (int i = 0; i < 3; i++)
        cf_stream_close(p->io[i]);
    if (!p->reaped) {
        kill(p->pid, SIGKILL);
        wait_exit(p, &cf__forever, false);
    }
    if (p->pidfd >= 0)
        close(p->pidfd);
    free(p);
}

/* ---- communicate ---- */

typedef struct sink {
    cf_stream *s;
    char      *buf;
    size_t     len, cap;
    bool       done;
} sink;

/* Reads what s has now: 0 (progress or nothing) | an error; *moved when bytes or the end came. */
static int drain_into(sink *k, bool *moved)
{
    while (!k->done) {
        if (k->cap - k->len < 16384) {
            size_t cap = k->cap ? k->cap * 2 : 65536;
            char *b = realloc(k->buf, cap);
            if (!b)
                return ENOMEM;
            k->buf = b;
            k->cap = cap;
        }
        ssize_t n = cf_stream_read(k->s, k->buf + k->len, k->cap - k->len, 0);
        if (n > 0) {
            k->len += (size_t)n;
            *moved = true;
        } else if (n == 0) {
            k->done = *moved = true;
        } else {
            return errno == EAGAIN ? 0 : errno;
        }
    }
    return 0;
}

static void hand_out(sink *k, cf_bytes *b)
{
    if (b) {
        b->data = k->len ? k->buf : NULL;
        b->len = k->len;
        if (k->len)
            k->buf = NULL;
    }
    free(k->buf);
}

CF_EXTERN int cf_subprocess_communicate(cf_subprocess *p, const void *input, size_t len,
                                        double timeout, cf_bytes *out, cf_bytes *err, int *status)
{
    cf__deadline d;
    if (!p || (len && !input) || cf__wait_deadline(&d, timeout))
        return EINVAL;
    if (out)
        *out = (cf_bytes){ NULL, 0 };
    if (err)
        *err = (cf_bytes){ NULL, 0 };
    sink k[2] = { { .s = p->io[1], .done = !p->io[1] }, { .s = p->io[2], .done = !p->io[2] } };
    cf_stream *in = p->io[0];
    const char *src = input;
    size_t off = 0;
    bool in_done = !in;
    int r = 0;
    while (!r && (!in_done || !k[0].done || !k[1].done)) {
        bool moved = false;
        if (!in_done) {
            int w = cf_stream_drain(in, 0);
            if (w == 0 && off < len) {
                size_t n = len - off < 65536 ? len - off : 65536;
                w = cf_stream_write(in, src + off, n, 0);   /* at most the mark queued: 0 */
                off += n;
                moved = true;
            } else if (w == 0) {
                cf_stream_shutdown(in, 0);              /* all in: the child sees the end */
                in_done = moved = true;
            }
            if (w == EPIPE) {                            /* it does not read: no error */
                in_done = moved = true;
            } else if (w && w != EAGAIN) {
                r = w;
                break;
            }
        }
        for (int i = 0; i < 2 && !r; i++)
            r = drain_into(&k[i], &moved);
        if (r || moved)
            continue;
        struct pollfd fds[3];
        int n = 0;
        if (!in_done)
            fds[n++] = (struct pollfd){ .fd = cf_stream_fd(in), .events = POLLOUT };
        for (int i = 0; i < 2; i++)
            if (!k[i].done)
                fds[n++] = (struct pollfd){ .fd = cf_stream_fd(k[i].s), .events = POLLIN };
        if (d.poll)
            r = ETIMEDOUT;
        else if ((r = cf__wait_fds(fds, n, &d)) == EAGAIN)
            r = ETIMEDOUT;
    }
    if (!r)
        r = wait_exit(p, &d, true);
    if (r == EAGAIN)
        r = ETIMEDOUT;
    if (!r && status)
        *status = p->status;
    hand_out(&k[0], r ? NULL : out);
    hand_out(&k[1], r ? NULL : err);
    return r;
}
