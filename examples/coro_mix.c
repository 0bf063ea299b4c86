/* SPDX-License-Identifier: MIT */
/* coro_mix.c: everything at once. One coroutine counts primes below 4M on a process pool (CPU
 * work, one task per block) while another reads files on a thread pool (blocking I/O), and a
 * third ticks every 100 ms to show that the loop never blocks. The main coroutine gathers the
 * first two and stops the ticker by cancelling it. */
#include <cfutures.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "primes.h"

#define LIMIT  4000000u
#define BLOCKS 16

typedef struct world {
    cf_executor *procs, *threads;
} world;

static void *count_block(void *arg)   /* in a worker process */
{
    uintptr_t b = (uintptr_t)arg;
    uint32_t lo = (uint32_t)(b * (LIMIT / BLOCKS)), hi = (uint32_t)((b + 1) * (LIMIT / BLOCKS));
    return (void *)(uintptr_t)count_range(lo, hi);
}

static void *count_primes(void *arg)  /* a coroutine */
{
    world *w = arg;
    cf_future *fs[BLOCKS];
    for (uintptr_t b = 0; b < BLOCKS; b++)
        fs[b] = cf_submit(w->procs, count_block, (void *)b);
    uint64_t total = 0;
    for (int b = 0; b < BLOCKS; b++) {   /* each await suspends only this coroutine */
        void *n = NULL;
        if (cf_await(fs[b], CF_FOREVER, &n) == 0)
            total += (uintptr_t)n;
        cf_future_unref(fs[b]);
    }
    printf("[primes] %llu primes below %u\n", (unsigned long long)total, LIMIT);
    return (void *)(uintptr_t)total;
}

static void *file_size(void *arg)     /* in a pool thread: blocking reads are fine here */
{
    FILE *f = fopen(arg, "rb");
    if (!f) {
        cf_task_fail(errno, "%s: cannot open", (const char *)arg);
        return NULL;
    }
    char buf[65536];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        total += n;
    fclose(f);
    return (void *)total;
}

static void *read_files(void *arg)    /* a coroutine */
{
    world *w = arg;
    const char *paths[] = { "/etc/passwd", "/etc/hostname", "/proc/self/status", "/no/such/file" };
    cf_future *fs[4];
    for (int i = 0; i < 4; i++)
        fs[i] = cf_submit(w->threads, file_size, (void *)paths[i]);
    void *sizes[4];
    cf_gather(fs, 4, CF_FOREVER, sizes);     /* failed ones read as NULL */
    for (int i = 0; i < 4; i++) {
        const char *msg = NULL;
        if (cf_future_error(fs[i], 0, &msg) == 0)
            printf("[files]  %s: %zu bytes\n", paths[i], (size_t)sizes[i]);
        else
            printf("[files]  %s\n", msg);
        cf_future_unref(fs[i]);
    }
    return NULL;
}

static void *ticker(void *arg)        /* a coroutine */
{
    (void)arg;
    cf_loop *loop = cf_loop_current();
    double t0 = cf_loop_time(loop);
    while (cf_sleep(0.1) == 0)
        printf("[tick]   %.1f s\n", cf_loop_time(loop) - t0);
    return NULL;                        /* cancelled: cf_sleep said ECANCELED */
}

static void *main_coro(void *arg)
{
    cf_loop *loop = cf_loop_current();
    cf_future *tick = cf_loop_spawn(loop, ticker, NULL);
    cf_future *fs[2] = { cf_loop_spawn(loop, count_primes, arg), cf_loop_spawn(loop, read_files, arg) };
    int r = cf_gather(fs, 2, CF_FOREVER, NULL);
    cf_future_cancel(tick);
    cf_await(tick, CF_FOREVER, NULL);
    printf("[main]   done (%s); ticker %s\n", r ? "with errors" : "ok",
           cf_future_state(tick) == CF_CANCELLED ? "cancelled" : "not cancelled?");
    cf_future_unref(tick);
    cf_future_unref(fs[0]);
    cf_future_unref(fs[1]);
    return NULL;
}

int main(void)
{
    /* The process pool first, before any thread exists: its fork server is forked then. */
    world w = { cf_process_pool_new(NULL), cf_thread_pool_new(NULL) };
    if (!w.procs || !w.threads) {
        perror("pool");
        return 1;
    }
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, main_coro, &w);
    cf_loop_run_until_complete(loop, f, NULL);
    cf_future_unref(f);
    cf_loop_free(loop);
    cf_executor_free(w.threads);
    cf_executor_free(w.procs);
    return 0;
}
