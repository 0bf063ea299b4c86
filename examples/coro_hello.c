/* SPDX-License-Identifier: MIT */
/* coro_hello.c: asyncio's "Hello World coroutine": a coroutine run by the loop until it is done.
 *     async def hello_world(): print("Hello World!")
 *     loop.run_until_complete(hello_world()) */
#include <cfutures.h>
#include <stdio.h>

static void *hello_world(void *arg)
{
    (void)arg;
    printf("Hello World!\n");
    return NULL;
}

int main(void)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, hello_world, NULL);
    int r = cf_loop_run_until_complete(loop, f, NULL);
    cf_future_unref(f);
    cf_loop_free(loop);
    return r;
}
