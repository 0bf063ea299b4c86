/* SPDX-License-Identifier: MIT */
/* naive_pool.h: the thread pool a C programmer writes first (~80 lines): a linked list of tasks
 * under one mutex, a condition variable to wake workers, one malloc per task, and a completion
 * counter with its own condition variable. A bench peer, not part of the library. */
#ifndef NAIVE_POOL_H
#define NAIVE_POOL_H

#include <pthread.h>
#include <stddef.h>

typedef struct naive_pool naive_pool;
typedef void (*naive_fn)(void *arg);

naive_pool *naive_pool_new(int workers);
int         naive_pool_submit(naive_pool *p, naive_fn fn, void *arg);
void        naive_pool_wait_all(naive_pool *p);   /* every submitted task has run */
void        naive_pool_free(naive_pool *p);

#endif
