/* SPDX-License-Identifier: MIT */
/* naive_queue.h: the baseline a C programmer writes first: a bounded ring under one mutex with
 * two condition variables, signalling on every put and get. The peer cf_queue is measured
 * against (bench only, not part of the library). */
#ifndef NAIVE_QUEUE_H
#define NAIVE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct naive_queue {
    pthread_mutex_t mu;
    pthread_cond_t  not_empty, not_full;
    void          **ring;
    size_t          cap, head, count;
    bool            closed;
} naive_queue;

int  naive_queue_init(naive_queue *q, size_t cap);
void naive_queue_destroy(naive_queue *q);
void naive_queue_put(naive_queue *q, void *item);
bool naive_queue_get(naive_queue *q, void **item);   /* false once closed and empty */
void naive_queue_close(naive_queue *q);

#endif
