/* SPDX-License-Identifier: MIT */
/* coro_future.c: asyncio's "future with run_until_complete": a coroutine sets a future's result,
 * and the loop runs until that future is done.
 *     async def slow_operation(future): await asyncio.sleep(1); future.set_result('Future is done!')
 *     future = asyncio.Future(); asyncio.ensure_future(slow_operation(future))
 *     loop.run_until_complete(future); print(future.result()) */
#include <cfutures.h>
#include <stdio.h>

static void *slow_operation(void *arg)
{
    cf_future *future = arg;
    cf_sleep(1);
    cf_future_set_result(future, "Future is done!");
    return NULL;
}

int main(void)
{
    cf_loop *loop = cf_loop_new();
    cf_future *future = cf_future_new();
    cf_future_unref(cf_loop_spawn(loop, slow_operation, future));
    void *result = NULL;
    int r = cf_loop_run_until_complete(loop, future, &result);
    if (r == 0)
        printf("%s\n", (const char *)result);
    cf_future_unref(future);
    cf_loop_free(loop);
    return r;
}
