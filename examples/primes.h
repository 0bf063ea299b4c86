/* SPDX-License-Identifier: MIT */
/* primes.h: the CPU-bound workload of the demo and of bench/ (trial division, the is_prime
 * of Python's ProcessPoolExecutor example), in one place so that both measure the same work. */
#ifndef CF_PRIMES_H
#define CF_PRIMES_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <cfutures.h>

static inline bool is_prime(uint32_t n)
{
    if (n < 2)
        return false;
    if (n % 2 == 0)
        return n == 2;
    for (uint32_t d = 3; d <= n / d; d += 2)
        if (n % d == 0)
            return false;
    return true;
}

static inline uint64_t count_range(uint32_t lo, uint32_t hi)
{
    uint64_t c = 0;
    for (uint32_t n = lo; n < hi; n++)
        c += is_prime(n);
    return c;
}

/* A process-pool task: the range [lo, hi) packed into the argument word as lo << 32 | hi; the
 * count comes back as the result word. */
static inline void *count_range_task(void *arg)
{
    uint64_t r = (uint64_t)(uintptr_t)arg;
    return (void *)(uintptr_t)count_range((uint32_t)(r >> 32), (uint32_t)r);
}

static inline void *pack_range(uint32_t lo, uint32_t hi)
{
    return (void *)(uintptr_t)((uint64_t)lo << 32 | hi);
}

/* The start of chunk i of `chunks` over [0, n). */
static inline uint32_t chunk_lo(uint32_t n, int chunks, int i)
{
    return (uint32_t)((uint64_t)n * (uint64_t)i / (uint64_t)chunks);
}

/* Counts the primes below n on any executor that runs tasks in other processes (a process
 * pool, the ranks of an MPI job): one count_range_task per chunk, summed as they complete.
 * 0 or the first error. */
static inline int count_on_executor(cf_executor *ex, uint32_t n, int chunks, uint64_t *total)
{
    cf_future **fs = (cf_future **)calloc((size_t)chunks, sizeof *fs);
    int err = fs ? 0 : ENOMEM;
    for (int i = 0; i < chunks && !err; i++) {
        void *range = pack_range(chunk_lo(n, chunks, i), chunk_lo(n, chunks, i + 1));
        if (!(fs[i] = cf_submit(ex, count_range_task, range)))
            err = errno;
    }
    cf_as_completed *ac = err ? NULL : cf_as_completed_new(fs, (size_t)chunks);
    if (!err && !ac)
        err = errno;
    cf_future *f;
    *total = 0;
    while (!err && cf_as_completed_next(ac, CF_FOREVER, &f) == 0) {
        void *v;
        if ((err = cf_future_result(f, 0, &v)) == 0)
            *total += (uint64_t)(uintptr_t)v;
    }
    cf_as_completed_free(ac);
    for (int i = 0; fs && i < chunks; i++)
        cf_future_unref(fs[i]);
    free(fs);
    return err;
}

#endif
