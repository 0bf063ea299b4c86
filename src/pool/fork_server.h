/* SPDX-License-Identifier: MIT */
/* fork_server.h (internal): the process pool's fork server, a single-threaded process that forks
 * the pool's workers, so that no worker is ever forked from a multi-threaded parent.
 *
 * The pool's manager thread forks the server once, when the pool is created; the server then
 * waits on one SOCK_SEQPACKET socket for "spawn worker idx" requests (carrying the worker's pipe
 * end as descriptors, SCM_RIGHTS), forks, and reports the pid; it reaps its workers and reports
 * each exit status. Everything the workers see of the parent is the memory image of the moment
 * the server was forked. */
#ifndef CF__FORK_SERVER_H
#define CF__FORK_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "../ipc/pipe_raw.h"

enum { CF__FS_SPAWNED = 1, CF__FS_SPAWN_FAILED, CF__FS_EXITED };

typedef struct cf__fs_msg {
    int   type;     /* CF__FS_* */
    int   idx;      /* worker index (SPAWNED, SPAWN_FAILED) */
    pid_t pid;      /* SPAWNED, EXITED */
    int   status;   /* EXITED: the wait status; SPAWN_FAILED: the errno */
} cf__fs_msg;

/* Runs in a new worker process, forked from the server: never returns. */
typedef void (*cf__fs_worker_fn)(void *ctx, int idx, const cf__pipe_raw *raw);

typedef struct cf__fs {
    pid_t pid;
    int   sock;     /* our end; non-blocking reads */
} cf__fs;

/* Forks the server from the calling thread (which must outlive it: the server dies with that
 * thread, PR_SET_PDEATHSIG). name: for prctl. 0 | errno. */
int  cf__fs_start(cf__fs *fs, const char *name, cf__fs_worker_fn fn, void *ctx);
/* Asks for worker idx to be forked with pipe end raw (copied by the kernel; the caller still
 * closes its raw). 0 | errno. */
int  cf__fs_spawn(cf__fs *fs, int idx, const cf__pipe_raw *raw);
/* The next report without blocking: 0 | EAGAIN | EPIPE (the server is gone). */
int  cf__fs_read(cf__fs *fs, cf__fs_msg *m);
/* Closes the socket (the server kills what is left, reaps, exits) and reaps the server. */
void cf__fs_stop(cf__fs *fs);

#endif
