/* SPDX-License-Identifier: MIT */
/* map.h (internal): cf_map's job and chunk descriptors, shared with executors that cannot run a
 * chunk in place (a process pool ships fn and the chunk's arguments to a worker and writes the
 * results back here, so that the chunk's future ends exactly as run_chunk's would). */
#ifndef CF__MAP_H
#define CF__MAP_H

#include <stdatomic.h>
#include <stddef.h>

#include "cfutures/executor.h"
#include "cfutures/future.h"

typedef struct cf__map_job cf__map_job;

/* Read-only for a task that succeeds: it reports through its future's value (the item's result
 * for a chunk of one, else the number of items done), so neighbouring chunks on different
 * workers share no written cache line. Only a failing task writes `failed_done` (the items it
 * completed before the failing one). */
typedef struct cf__chunk {
    cf__map_job *job;
    size_t       start, count;
    size_t       failed_done;
} cf__chunk;

struct cf__map_job {
    _Atomic size_t refs;
    cf_fn          fn;
    void         **args;    /* copy of the caller's args */
    void         **res;     /* where the tasks write; copied out by the caller */
    cf_future    **futs;
    size_t         nchunks;
    cf__chunk      chunks[];
};

/* Runs fn over n items in the current task (its context must be entered): res[i] = fn(args[i])
 * until an item fails (cf_task_fail) or, with items left, the task is cancelled (then it fails
 * with ECANCELED). Returns how many items completed. The one loop of thread and process pools. */
size_t cf__run_items(cf_fn fn, void *const *args, void **res, size_t n);

#endif
