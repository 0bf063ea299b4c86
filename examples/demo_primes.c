/* SPDX-License-Identifier: MIT */
/* demo_primes.c: the demo's CPU-bound patterns. Counts the primes below N (trial division, the
 * classic is_prime of Python's ProcessPoolExecutor example) split into chunks, three ways, and prints times and speed-ups:
 *  - serially;
 *  - "using futures and multiprocessing": one process-pool task per chunk, its range packed into
 *    the machine-word argument, results collected with as_completed;
 *  - "using queues and multiprocessing": worker processes forked by hand take ranges from one
 *    cf_mpqueue and put counts on another, with an empty message as the stop sentinel. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cfutures.h>

#include "demo.h"
#include "primes.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}


static int with_process_pool(uint32_t n, int chunks, int workers, uint64_t *total)
{
    cf_pool_opts o = { .max_workers = workers, .name = "primes" };
    cf_executor *ex = cf_process_pool_new(&o);
    if (!ex)
        return errno;
    int err = count_on_executor(ex, n, chunks, total);
    cf_executor_free(ex);
    return err;
}

static int with_mpqueue(uint32_t n, int chunks, int workers, uint64_t *total)
{
    cf_mpqueue *tasks = cf_mpqueue_new(0), *results = cf_mpqueue_new(0);
    if (!tasks || !results) {
        cf_mpqueue_free(tasks);
        cf_mpqueue_free(results);
        return ENOMEM;
    }
    fflush(NULL);
    pid_t *pids = calloc((size_t)workers, sizeof *pids);
    int started = 0, err = pids ? 0 : ENOMEM;
    for (; started < workers && !err; started++) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {                     /* worker: ranges in, counts out, until the sentinel */
            void *msg;
            size_t len;
            while (cf_mpqueue_get(tasks, &msg, &len, CF_FOREVER) == 0 && len == 2 * sizeof(uint32_t)) {
                uint32_t r[2];
                memcpy(r, msg, sizeof r);
                free(msg);
                uint64_t c = count_range(r[0], r[1]);
                cf_mpqueue_put(results, &c, sizeof c, CF_FOREVER);
            }
            _exit(0);
        }
        pids[started] = pid;
    }
    for (int i = 0; i < chunks && !err; i++) {
        uint32_t r[2] = { chunk_lo(n, chunks, i), chunk_lo(n, chunks, i + 1) };
        err = cf_mpqueue_put(tasks, r, sizeof r, CF_FOREVER);
    }
    for (int i = 0; i < started; i++)
        cf_mpqueue_put(tasks, "", 0, CF_FOREVER);      /* one sentinel per worker */
    *total = 0;
    for (int i = 0; i < chunks && !err; i++) {
        void *msg;
        size_t len;
        if ((err = cf_mpqueue_get(results, &msg, &len, CF_FOREVER)) == 0) {
            uint64_t c;
            memcpy(&c, msg, sizeof c);
            *total += c;
            free(msg);
        }
    }
    if (err)
        cf_mpqueue_close(tasks);            /* wakes every worker with EPIPE */
    for (int i = 0; i < started; i++)
        waitpid(pids[i], NULL, 0);
    free(pids);
    cf_mpqueue_free(tasks);
    cf_mpqueue_free(results);
    return err;
}

int demo_primes(uint32_t n, int workers)
{
    int chunks = 64;
    printf("cfutures demo: CPU-bound work using futures and multiprocessing, and using queues and "
           "multiprocessing\ncounting the primes below %u in %d chunks\n\n", n, chunks);
    double t0 = now();
    uint64_t serial = count_range(0, n);
    double ts = now() - t0;
    uint64_t pool = 0, queue = 0;
    t0 = now();
    int e1 = with_process_pool(n, chunks, workers, &pool);
    double tp = now() - t0;
    t0 = now();
    int e2 = with_mpqueue(n, chunks, workers, &queue);
    double tq = now() - t0;
    if (e1 || e2) {
        fprintf(stderr, "cf_demo: primes: %s\n", cf_strerror(e1 ? e1 : e2));
        return 1;
    }
    printf("%-40s %10s %9s %9s\n", "", "primes", "seconds", "speed-up");
    printf("%-40s %10llu %9.3f %9s\n", "serial", (unsigned long long)serial, ts, "1.00x");
    char label[64];
    snprintf(label, sizeof label, "process pool, %d workers (as_completed)", workers);
    printf("%-40s %10llu %9.3f %8.2fx\n", label, (unsigned long long)pool, tp, ts / tp);
    snprintf(label, sizeof label, "%d processes + cf_mpqueue", workers);
    printf("%-40s %10llu %9.3f %8.2fx\n", label, (unsigned long long)queue, tq, ts / tq);
    bool same = serial == pool && serial == queue;
    printf("\n%s; %ld CPUs: the ceiling is min(workers, CPUs)x\n",
           same ? "counts match" : "COUNTS DIFFER", sysconf(_SC_NPROCESSORS_ONLN));
    return same ? 0 : 1;
}
