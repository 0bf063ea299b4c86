/* SPDX-License-Identifier: MIT */
/* fork_server.c: the process pool's fork server (see fork_server.h for the protocol).
 *
 * Fork policy. fork() copies only the calling thread: a lock another thread held at that moment
 * stays held forever in the child. The server is forked once per pool, by the pool's manager
 * thread, after fflush(NULL) (so buffered output is not written twice); glibc's fork takes its
 * malloc and stdio-list locks around the fork, so the server's malloc works. From then on the
 * server is single-threaded and only forks: replacement workers never come from the parent's
 * many threads, whatever they hold.
 * Lifetime. The server sets PR_SET_PDEATHSIG, which fires when the *thread* that forked it
 * exits: the manager thread, which lives as long as the pool. Workers set it too, against the
 * server. So killing the program (even SIGKILL) takes the server down, and the server's death
 * takes the workers down: nothing outlives the pool. When the manager closes the socket, the
 * server kills and reaps what is left and exits; the manager reaps the server.
 * SIGCHLD: blocked in the server and read from a signalfd, with the default disposition (a
 * program that ignores SIGCHLD would otherwise make its children unwaitable). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fork_server.h"

typedef struct spawn_req {
    int64_t  idx;
    uint64_t ring_size;
} spawn_req;
/* Every byte sendmsg sends is initialised (valgrind checks it): no padding. */
_Static_assert(sizeof(spawn_req) == 2 * sizeof(uint64_t), "spawn_req must have no padding");
_Static_assert(sizeof(cf__fs_msg) == 4 * sizeof(int), "cf__fs_msg must have no padding");

static void send_msg(int sock, const cf__fs_msg *m)
{
    /* SEQPACKET: whole or nothing; the parent gone means we are about to die anyway. */
    ssize_t r = send(sock, m, sizeof *m, MSG_NOSIGNAL);
    (void)r;
}

/* Receives a request and its descriptors: 1 | 0 on end of file | -1 on error (retry). */
static int recv_req(int sock, spawn_req *req, cf__pipe_raw *raw)
{
    char cbuf[CMSG_SPACE(sizeof(int) * CF__PIPE_RAW_FDS)];
    struct iovec iov = { .iov_base = req, .iov_len = sizeof *req };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    if (n == 0)
        return 0;
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? -1 : 0;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (n != sizeof *req || !c || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(sizeof(int) * CF__PIPE_RAW_FDS)) {
        if (c && c->cmsg_type == SCM_RIGHTS) {       /* never happens: close what came */
            int *fds = (int *)CMSG_DATA(c);
            for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                close(fds[i]);
        }
        return -1;
    }
    int fds[CF__PIPE_RAW_FDS];
    memcpy(fds, CMSG_DATA(c), sizeof fds);
    cf__pipe_raw_set_fds(raw, fds);
    raw->size = req->ring_size;
    return 1;
}

typedef struct server {
    int              sock, sfd;
    pid_t            self;
    sigset_t         orig_mask;
    cf__fs_worker_fn fn;
    void            *ctx;
    pid_t           *kids;
    size_t           nkids, cap;
} server;

static void spawn(server *s, const spawn_req *req, cf__pipe_raw *raw)
{
    cf__fs_msg m = { .type = CF__FS_SPAWNED, .idx = (int)req->idx };
    if (s->nkids == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        pid_t *k = realloc(s->kids, cap * sizeof *k);
        if (!k) {
            m.type = CF__FS_SPAWN_FAILED;
            m.status = ENOMEM;
            send_msg(s->sock, &m);
            return;
        }
        s->kids = k;
        s->cap = cap;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(s->sock);
        close(s->sfd);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != s->self)
            _exit(0);                    /* the server died before we could ask */
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, &s->orig_mask, NULL);
        s->fn(s->ctx, (int)req->idx, raw);
        _exit(0);
    }
    if (pid < 0) {
        m.type = CF__FS_SPAWN_FAILED;
        m.status = errno;
    } else {
        m.pid = pid;
        s->kids[s->nkids++] = pid;
    }
    send_msg(s->sock, &m);
}

static void reap(server *s)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < s->nkids; i++)
            if (s->kids[i] == pid) {
                s->kids[i] = s->kids[--s->nkids];
                break;
            }
        cf__fs_msg m = { .type = CF__FS_EXITED, .pid = pid, .status = status };
        send_msg(s->sock, &m);
    }
}

static _Noreturn void server_main(server *s)
{
    for (;;) {
        struct pollfd pf[2] = { { .fd = s->sock, .events = POLLIN }, { .fd = s->sfd, .events = POLLIN } };
        if (poll(pf, 2, -1) < 0)
            continue;
        if (pf[1].revents) {
            struct signalfd_siginfo si;
            while (read(s->sfd, &si, sizeof si) == sizeof si)
                ;
            reap(s);
        }
        if (pf[0].revents) {
            spawn_req req;
            cf__pipe_raw raw;
            int r = recv_req(s->sock, &req, &raw);
            if (r == 0)
                break;                   /* the pool is done, or the parent is gone */
            if (r > 0) {
                spawn(s, &req, &raw);
                cf__pipe_raw_close(&raw);
            }
        }
    }
    for (size_t i = 0; i < s->nkids; i++)
        kill(s->kids[i], SIGKILL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    _exit(0);
}

int cf__fs_start(cf__fs *fs, const char *name, cf__fs_worker_fn fn, void *ctx)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return errno;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return e;
    }
    if (pid == 0) {
        server s = { .sock = sv[1], .self = getpid(), .fn = fn, .ctx = ctx };
        close(sv[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        char pname[16];
        snprintf(pname, sizeof pname, "%.12s-fs", name);
        prctl(PR_SET_NAME, pname);
        signal(SIGCHLD, SIG_DFL);
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, &s.orig_mask);
        if ((s.sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
            _exit(127);
        server_main(&s);
    }
    close(sv[1]);
    fs->pid = pid;
    fs->sock = sv[0];
    return 0;
}

int cf__fs_spawn(cf__fs *fs, int idx, const cf__pipe_raw *raw)
{
    spawn_req req = { .idx = idx, .ring_size = raw->size };
    int fds[CF__PIPE_RAW_FDS];
    cf__pipe_raw_fds(raw, fds);
    char cbuf[CMSG_SPACE(sizeof fds)];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { .iov_base = &req, .iov_len = sizeof req };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    for (;;) {
        if (sendmsg(fs->sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof req)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

int cf__fs_read(cf__fs *fs, cf__fs_msg *m)
{
    for (;;) {
        ssize_t n = recv(fs->sock, m, sizeof *m, MSG_DONTWAIT);
        if (n == (ssize_t)sizeof *m)
            return 0;
        if (n == 0)
            return EPIPE;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return EAGAIN;
        return EPIPE;
    }
}

void cf__fs_stop(cf__fs *fs)
{
    if (fs->sock >= 0)
        close(fs->sock);
    fs->sock = -1;
    if (fs->pid > 0)
        while (waitpid(fs->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    fs->pid = 0;
}
