/* SPDX-License-Identifier: MIT */
/* remote.h (internal): what every executor whose tasks run in another process shares (process
 * pools, MPI pools): encoding a future as a wire task, running a wire task on the far side, and
 * turning a decoded result back into the future's outcome. The transport (a cf_pipe, MPI) and
 * how a function pointer crosses (as it is after fork, or as an offset in its object) are the
 * executor's; the codec is process_wire.h. */
#ifndef CF__REMOTE_H
#define CF__REMOTE_H

#include <stdatomic.h>
#include <stdint.h>

#include "../common/export.h"
#include "../future/future.h"
#include "process_wire.h"

/* A malloc'd printf, or NULL: the messages a remote executor gives the futures it fails. */
CF__SHARED char    *cf__remote_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The user's function of f, whatever wrapper the future carries (bytes job, full job, chunk). */
CF__SHARED void    *cf__remote_fn(const cf_future *f);
/* The kind f travels as (a cf_submit_full task as a plain call: its job stays with the sender). */
CF__SHARED uint32_t cf__remote_kind(const cf_future *f);
/* cf_map items f carries (1 unless a chunk). */
CF__SHARED size_t   cf__remote_items(const cf_future *f);
/* Bytes f takes in a batch. */
CF__SHARED size_t   cf__remote_task_size(const cf_future *f);
/* Writes f as task `seq` at o (cf__remote_task_size(f) bytes), its function as fnword. */
CF__SHARED void     cf__remote_encode(unsigned char *o, const cf_future *f, uint64_t seq, uint64_t fnword);

/* Runs task t (its function already resolved to this process's address) in a task context and
 * appends its result to o. cf_task_cancelled() in the task reads *cancel_seq == t->seq; refresh,
 * if set, is called first (an executor that must poll for cancels). 0 | ENOMEM (o could not
 * grow: the result is lost, the caller fails the task its way). */
CF__SHARED int      cf__remote_run(cf__wbuf *o, const cf__ptask *t, const unsigned char *payload,
                        const _Atomic uint64_t *cancel_seq, void (*refresh)(void *), void *arg);

/* Runs an initializer in a task context: 0, or the error it failed with (cf_task_fail), its
 * message in *msg (malloc'd or NULL). */
CF__SHARED int      cf__remote_init(void (*fn)(void *), void *arg, char **msg);

/* The outcome of f from result r (which cf__wire_result_fits f): *value, *blen (bytes) and the
 * error, 0 or r's error or ENOMEM (with *msg replaced). Frees a bytes task's argument copy; a
 * chunk's results go into its map job. *msg is r's text, malloc'd by the caller, or NULL. */
CF__SHARED int      cf__remote_outcome(cf_future *f, const cf__wresult *r, char **msg, void **value,
                            size_t *blen);

#endif
