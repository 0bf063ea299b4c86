/* SPDX-License-Identifier: MIT */
/* pipe_raw.h (internal): a cf_pipe whose second end is born in another process. The process
 * pool creates the pipe in the parent and sends the second end's descriptors to its fork server
 * (SCM_RIGHTS), which forks the worker that adopts them: the worker's end never exists in any
 * other process, so each side sees the other's death as end of file. */
#ifndef CF__PIPE_RAW_H
#define CF__PIPE_RAW_H

#include <stdbool.h>
#include <stdint.h>

#include "cfutures/pipe.h"

#define CF__PIPE_RAW_FDS 6

typedef struct cf__pipe_raw {
    int      memfd, sock, efd[4];
    uint64_t size;           /* data bytes of each ring; the mapping's layout follows from it */
} cf__pipe_raw;

/* The descriptors as one array (what SCM_RIGHTS carries), and back: one order everywhere. */
static inline void cf__pipe_raw_fds(const cf__pipe_raw *r, int fds[CF__PIPE_RAW_FDS])
{
    fds[0] = r->memfd;
    fds[1] = r->sock;
    for (int i = 0; i < 4; i++)
        fds[2 + i] = r->efd[i];
}

static inline void cf__pipe_raw_set_fds(cf__pipe_raw *r, const int fds[CF__PIPE_RAW_FDS])
{
    r->memfd = fds[0];
    r->sock = fds[1];
    for (int i = 0; i < 4; i++)
        r->efd[i] = fds[2 + i];
}

/* end0 built here, end1 as descriptors (owned by raw: cf__pipe_raw_close). 0 | errno. */
int  cf__pipe_new_raw(size_t capacity, cf_pipe **end0, cf__pipe_raw *end1);
/* Builds end1 from raw in this process (raw's descriptors stay raw's). 0 | errno. */
int  cf__pipe_adopt(const cf__pipe_raw *raw, cf_pipe **end1);
void cf__pipe_raw_close(cf__pipe_raw *raw);
/* Sends what fits now of msg, from *off on (start with *off = 0): 0 (all of it is in) | EAGAIN
 * (the ring is full: call again later with the same msg and off; nothing else may be sent on
 * this end meanwhile) | EPIPE | EPROTO | EMSGSIZE. Never waits: for a sender that must not block
 * on one receiver (the process pool's manager). */
int  cf__pipe_send_part(cf_pipe *p, const void *msg, size_t len, size_t *off);
/* A record is waiting in this end's incoming ring (no syscall; for spinning). */
bool cf__pipe_readable(const cf_pipe *p);

#endif
