/* SPDX-License-Identifier: MIT */
/* coro_taskgroup.c: structured concurrency across threads and coroutines.
 *
 *     async def fetch(i):                          # a coroutine: waits its turn, then "works"
 *         async with sem:
 *             await asyncio.sleep(0.01 * i)
 *         return i * i
 *     async def main():
 *         async with asyncio.timeout(5):          # a deadline over everything below
 *             async with asyncio.TaskGroup() as tg:
 *                 tasks = [tg.create_task(fetch(i)) for i in range(1, 5)]
 *                 tasks.append(tg.create_task(asyncio.to_thread(crunch, 10)))
 *         print("total", sum(t.result() for t in tasks))
 *
 * Here the semaphore is also taken by a plain thread of the pool (cf_semaphore serves threads
 * and coroutines in one line), and the thread-pool task is a member of the same group. */
#include <cfutures.h>
#include <stdint.h>
#include <stdio.h>

static cf_semaphore *sem;   /* two at a time, coroutines and pool threads alike */

static void *fetch(void *arg)
{
    intptr_t i = (intptr_t)arg;
    if (cf_semaphore_acquire(sem, CF_FOREVER) != 0)
        return NULL;                      /* cancelled while waiting its turn */
    cf_sleep(0.01 * (double)i);
    cf_semaphore_release(sem);
    return (void *)(i * i);
}

static void *crunch(void *arg)               /* runs on a pool thread */
{
    intptr_t n = (intptr_t)arg, sum = 0;
    cf_semaphore_acquire(sem, CF_FOREVER);  /* the same semaphore: this thread blocks */
    for (intptr_t k = 1; k <= n; k++)
        sum += k;
    cf_semaphore_release(sem);
    return (void *)sum;
}

static void *main_coro(void *arg)
{
    cf_executor *pool = arg;
    int scope = cf_scope_enter(5);
    cf_task_group *g = cf_task_group_new();
    cf_future *fs[5];
    for (intptr_t i = 1; i <= 4; i++)
        fs[i - 1] = cf_task_group_spawn(g, NULL, fetch, (void *)i);
    fs[4] = cf_task_group_submit(g, pool, crunch, (void *)(intptr_t)10);
    int r = cf_task_group_wait(g, CF_FOREVER);
    intptr_t total = 0;
    for (int i = 0; i < 5; i++) {
        void *v = NULL;
        if (r == 0 && cf_future_result(fs[i], 0, &v) == 0)
            total += (intptr_t)v;
        cf_future_unref(fs[i]);
    }
    cf_task_group_free(g);
    if (cf_scope_exit(scope))
        puts("timed out");
    else if (r)
        printf("failed: %s\n", cf_strerror(r));
    else
        printf("total %ld\n", (long)total);   /* 1 + 4 + 9 + 16 + 55 */
    return NULL;
}

int main(void)
{
    sem = cf_semaphore_new(2, 2);
    cf_executor *pool = cf_thread_pool_new(NULL);
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, main_coro, pool);
    int r = cf_loop_run_until_complete(loop, f, NULL);
    cf_future_unref(f);
    cf_loop_free(loop);
    cf_executor_free(pool);
    cf_semaphore_free(sem);
    return r;
}
