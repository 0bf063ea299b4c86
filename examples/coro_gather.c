/* SPDX-License-Identifier: MIT */
/* coro_gather.c: asyncio's "parallel execution of tasks": three factorials, interleaved by their
 * sleeps, gathered.
 *     async def factorial(name, number):
 *         f = 1
 *         for i in range(2, number + 1):
 *             print("Task %s: Compute factorial(%s)..." % (name, i)); await asyncio.sleep(1); f *= i
 *         print("Task %s: factorial(%s) = %s" % (name, number, f))
 *     loop.run_until_complete(asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))) */
#include <cfutures.h>
#include <stdint.h>
#include <stdio.h>

typedef struct job { const char *name; long number; } job;

static void *factorial(void *arg)
{
    job *j = arg;
    long f = 1;
    for (long i = 2; i <= j->number; i++) {
        printf("Task %s: Compute factorial(%ld)...\n", j->name, i);
        cf_sleep(1);
        f *= i;
    }
    printf("Task %s: factorial(%ld) = %ld\n", j->name, j->number, f);
    return (void *)(intptr_t)f;
}

static void *gather_all(void *arg)
{
    job *jobs = arg;
    cf_future *fs[3];
    for (int i = 0; i < 3; i++)
        fs[i] = cf_loop_spawn(cf_loop_current(), factorial, &jobs[i]);
    void *results[3];
    int r = cf_gather(fs, 3, CF_FOREVER, results);
    for (int i = 0; i < 3; i++)
        cf_future_unref(fs[i]);
    if (r == 0)
        printf("gathered: %ld %ld %ld\n", (long)(intptr_t)results[0], (long)(intptr_t)results[1],
               (long)(intptr_t)results[2]);
    return (void *)(intptr_t)r;
}

int main(void)
{
    job jobs[3] = { { "A", 2 }, { "B", 3 }, { "C", 4 } };
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, gather_all, jobs);
    void *r = NULL;
    cf_loop_run_until_complete(loop, f, &r);
    cf_future_unref(f);
    cf_loop_free(loop);
    return (int)(intptr_t)r;
}
