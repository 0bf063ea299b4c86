/* SPDX-License-Identifier: MIT */
/* process_wire.h (internal): the process pool's wire protocol, both ends: the task batches the
 * manager sends a worker, and the result messages a worker sends back. Pure encoding and
 * decoding, no processes: tests/test_wire.c and the fuzz targets drive it directly.
 *
 * Parent -> worker: one message holds a batch of tasks, each a cf__ptask header and its payload
 * (BYTES: the argument bytes; CHUNK: n argument words), padded to 8 bytes.
 * Worker -> parent: one message per task, sent as soon as it ends (a worker killed a moment
 * later loses no finished result): a cf__presult header, the error text, then the payload
 * (BYTES: the data; CHUNK: `value` result words), each padded to 8 bytes.
 *
 * Trust: the parent decodes what a worker wrote, and a worker runs user code that can scribble
 * on anything, so every length is checked against the message before it is used, and a message
 * that no worker of ours could have written decodes as EPROTO (the manager then treats the
 * worker as dead). The worker checks the parent's batches too, which costs nothing. */
#ifndef CF__PROCESS_WIRE_H
#define CF__PROCESS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/export.h"

/* Words travel as uint64_t and are read back in place as pointers (cf_map chunks). */
_Static_assert(sizeof(void *) == sizeof(uint64_t), "process pools need 64-bit pointers");

/* Task kinds beside CF__KIND_*: the worker leaves; the worker skips task `seq` if it has not
 * started it, or tells it (cf_task_cancelled) if it runs (MPI pools only). */
enum { CF__PT_EXIT = 100, CF__PT_CANCEL = 101 };
typedef struct cf__ptask {
    uint64_t seq;
    uint32_t kind;     /* CF__KIND_* or CF__PT_* */
    uint32_t n;        /* CHUNK: items */
    uint64_t fn;       /* cf_fn, or cf_bytes_fn for BYTES */
    uint64_t arg;      /* CALL: the word; BYTES: the length */
} cf__ptask;

/* SKIPPED: a task the worker did not run because it was cancelled first (MPI pools only). */
enum { CF__PR_RESULT = 1, CF__PR_INIT_FAILED, CF__PR_SKIPPED };
#define CF__WIRE_MSG_MAX 4000u          /* error text carried per result, at most */
typedef struct cf__presult {
    uint64_t seq;
    uint32_t type;     /* CF__PR_* */
    int32_t  err;      /* 0 or a positive error code */
    uint64_t value;    /* CALL: the word; BYTES: the length; CHUNK: items done */
    uint32_t msglen;   /* <= CF__WIRE_MSG_MAX */
    uint32_t pad;      /* zero */
} cf__presult;

/* A growable message being built (worker results; the parent builds batches in place). */
typedef struct cf__wbuf {
    unsigned char *b;
    size_t len, cap;
} cf__wbuf;

/* Room for n more bytes at the end of o: 0 | ENOMEM. */
CF__SHARED int    cf__wire_reserve(cf__wbuf *o, size_t n);

/* ---- tasks (the parent writes, the worker reads) ---- */

/* Bytes a task of this kind and payload length takes in a batch. */
CF__SHARED size_t cf__wire_task_size(size_t plen);
/* Writes task t and its payload at o (cf__wire_task_size(plen) bytes, zero padding included);
 * payload may already be in place, at o + sizeof(cf__ptask). */
CF__SHARED void   cf__wire_put_task(unsigned char *o, const cf__ptask *t, const void *payload, size_t plen);
/* The next task of a batch at *off: 1 (t and *payload set, *off moved past it) | 0 (the batch
 * is over) | EPROTO (a header or length the batch cannot hold, or an unknown kind). */
CF__SHARED int    cf__wire_next_task(const unsigned char *m, size_t len, size_t *off, cf__ptask *t,
                          const unsigned char **payload);

/* ---- results (the worker writes, the parent reads) ---- */

/* Appends a result: header, error text (msg may be NULL; cut to CF__WIRE_MSG_MAX), payload.
 * 0 | ENOMEM. */
CF__SHARED int  cf__wire_put_result(cf__wbuf *o, uint64_t seq, int type, int err, const char *msg,
                         uint64_t value, const void *payload, size_t plen);

typedef struct cf__wresult {
    uint64_t             seq, value;
    int                  type, err;
    const char          *msg;           /* into the message; not terminated */
    size_t               msglen;
    const unsigned char *payload;       /* the rest of the message */
    size_t               plen;
} cf__wresult;

/* Decodes a result message in place: 0 | EPROTO. */
CF__SHARED int  cf__wire_get_result(const unsigned char *b, size_t len, cf__wresult *r);
/* The decoded result fits the task it answers (kind CF__KIND_*, count: a chunk's items): a
 * BYTES result carries exactly `value` bytes, a CHUNK result at most count words. */
CF__SHARED bool cf__wire_result_fits(const cf__wresult *r, uint32_t kind, size_t count);

/* ---- framed records (MPI pools: several results in one message) ---- */

/* A message of records, each a uint64_t length (a multiple of 8) then that many bytes. The next
 * record at *off: 1 (*rec, *rlen set, *off moved past it) | 0 (the message is over) | EPROTO (a
 * length the message cannot hold, or not a multiple of 8). */
CF__SHARED int cf__wire_next_record(const unsigned char *m, size_t len, size_t *off,
                                    const unsigned char **rec, size_t *rlen);

#endif
