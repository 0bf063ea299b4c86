/* SPDX-License-Identifier: MIT */
/* coro_chain.c: asyncio's "chain coroutines": print_sum awaits compute.
 *     async def compute(x, y): print(...); await asyncio.sleep(1.0); return x + y
 *     async def print_sum(x, y): result = await compute(x, y); print(...)
 * Coroutines here have their own stacks, so awaiting a sub-coroutine is simply calling it: its
 * cf_sleep suspends the whole chain. (To run it as a task of its own, spawn it and cf_await its
 * future: print_sum_task below does that.) */
#include <cfutures.h>
#include <stdint.h>
#include <stdio.h>

typedef struct operands { long x, y; } operands;

static long compute(long x, long y)
{
    printf("Compute %ld + %ld ...\n", x, y);
    cf_sleep(1.0);
    return x + y;
}

static void *print_sum(void *arg)
{
    operands *o = arg;
    long result = compute(o->x, o->y);
    printf("%ld + %ld = %ld\n", o->x, o->y, result);
    return NULL;
}

static void *compute_task(void *arg)
{
    operands *o = arg;
    return (void *)(intptr_t)compute(o->x, o->y);
}

static void *print_sum_task(void *arg)
{
    operands *o = arg;
    cf_future *f = cf_loop_spawn(cf_loop_current(), compute_task, o);
    void *result = NULL;
    int r = cf_await(f, CF_FOREVER, &result);
    cf_future_unref(f);
    if (r == 0)
        printf("%ld + %ld = %ld (as a task)\n", o->x, o->y, (long)(intptr_t)result);
    return NULL;
}

int main(void)
{
    cf_loop *loop = cf_loop_new();
    operands o = { 1, 2 };
    cf_future *f = cf_loop_spawn(loop, print_sum, &o);
    cf_loop_run_until_complete(loop, f, NULL);
    cf_future_unref(f);
    f = cf_loop_spawn(loop, print_sum_task, &o);
    int r = cf_loop_run_until_complete(loop, f, NULL);
    cf_future_unref(f);
    cf_loop_free(loop);
    return r;
}
