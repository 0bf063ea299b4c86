/* SPDX-License-Identifier: MIT */
/* naive_pool.c: mutex + condvar thread pool, malloc per task, signal per submit. */
#include <stdbool.h>
#include <stdlib.h>

#include "naive_pool.h"

typedef struct task { struct task *next; naive_fn fn; void *arg; } task;

struct naive_pool {
    pthread_mutex_t mu;
    pthread_cond_t  work, idle;
    task           *head, *tail;
    size_t          submitted, finished;
    bool            stop;
    int             n;
    pthread_t      *threads;
};

static void *worker(void *arg)
{
    naive_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (!p->head)
            break;
        task *t = p->head;
        if (!(p->head = t->next))
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        t->fn(t->arg);
        free(t);
        pthread_mutex_lock(&p->mu);
        if (++p->finished == p->submitted)
            pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

naive_pool *naive_pool_new(int workers)
{
    naive_pool *p = calloc(1, sizeof *p);
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->n = workers;
    for (int i = 0; i < workers; i++)
        pthread_create(&p->threads[i], NULL, worker, p);
    return p;
}

int naive_pool_submit(naive_pool *p, naive_fn fn, void *arg)
{
    task *t = malloc(sizeof *t);
    if (!t)
        return -1;
    t->fn = fn;
    t->arg = arg;
    t->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    p->submitted++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void naive_pool_wait_all(naive_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->finished != p->submitted)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void naive_pool_free(naive_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    free(p->threads);
    free(p);
}
