/* SPDX-License-Identifier: MIT */
/* map.c: Executor.map in C, both ways. cf_map fills a results array (all at once, the first
 * error in argument order); cf_map_iter yields results in argument order as they complete, with
 * at most a few items in flight (Python 3.14's map(..., buffersize=4)), for inputs too long to
 * submit at once. */
#include <cfutures.h>
#include <stdint.h>
#include <stdio.h>

static void *collatz_steps(void *arg)   /* steps for n to reach 1 */
{
    uint64_t n = (uint64_t)(uintptr_t)arg, steps = 0;
    while (n != 1) {
        n = n % 2 ? 3 * n + 1 : n / 2;
        steps++;
    }
    return (void *)(uintptr_t)steps;
}

int main(void)
{
    enum { N = 1000 };
    static void *args[N], *results[N];
    for (uintptr_t i = 0; i < N; i++)
        args[i] = (void *)(i + 1);
    cf_executor *pool = cf_thread_pool_new(NULL);
    if (!pool)
        return 1;

    /* All at once, 50 items per task. */
    int err = cf_map(pool, collatz_steps, args, results, N, 50, CF_FOREVER);
    if (err) {
        printf("cf_map: %s\n", cf_strerror(err));
        return 1;
    }
    uintptr_t best = 0;
    for (uintptr_t i = 1; i < N; i++)
        if ((uintptr_t)results[i] > (uintptr_t)results[best])
            best = i;
    printf("cf_map: %lu takes the most steps below %d: %lu\n", (unsigned long)(best + 1), N + 1,
           (unsigned long)(uintptr_t)results[best]);

    /* Lazily, in order, never more than 4 items in flight. */
    cf_map_iter *it = cf_map_iter_new(pool, collatz_steps, args, N, 4);
    unsigned long total = 0, items = 0;
    void *steps;
    while (cf_map_next(it, CF_FOREVER, &steps, NULL) == 0) {
        total += (unsigned long)(uintptr_t)steps;
        items++;
    }
    cf_map_iter_free(it);
    printf("cf_map_iter: %lu items, %lu steps in all\n", items, total);
    cf_executor_free(pool);
    return 0;
}
