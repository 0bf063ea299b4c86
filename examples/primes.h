/* SPDX-License-Identifier: MIT */
/* primes.h: the CPU-bound workload of the demo and of bench/ (trial division, the is_prime
 * of Python's ProcessPoolExecutor example), in one place so that both measure the same work. */
#ifndef CF_PRIMES_H
#define CF_PRIMES_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
