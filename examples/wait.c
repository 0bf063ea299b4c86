/* SPDX-License-Identifier: MIT */
/* wait.c: concurrent.futures.wait in C. Three downloads of different lengths (sleeps stand in
 * for the network) and a deadline: cf_wait with CF_FIRST_COMPLETED reports the first done, a
 * timeout leaves the slow one running, CF_ALL_COMPLETED waits for the rest. */
#include <cfutures.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static void *fetch(void *arg)   /* "downloads" for arg milliseconds, returns its size */
{
    long ms = (long)(intptr_t)arg;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    return (void *)(intptr_t)(ms * 10);
}

static int count_done(cf_future *const *fs, int n)
{
    int done = 0;
    for (int i = 0; i < n; i++)
        done += cf_future_done(fs[i]);
    return done;
}

int main(void)
{
    cf_executor *pool = cf_thread_pool_new(NULL);
    if (!pool)
        return 1;
    long ms[3] = { 300, 20, 150 };
    cf_future *fs[3];
    for (int i = 0; i < 3; i++)
        fs[i] = cf_submit(pool, fetch, (void *)(intptr_t)ms[i]);

    cf_wait(fs, 3, CF_FOREVER, CF_FIRST_COMPLETED);
    printf("first completed: %d of 3 done\n", count_done(fs, 3));
    int r = cf_wait(fs, 3, 0.2, CF_ALL_COMPLETED);   /* the 300 ms one is still running */
    printf("after 0.2 s: %s, %d of 3 done\n", r == ETIMEDOUT ? "timed out" : "all done",
           count_done(fs, 3));
    cf_wait(fs, 3, CF_FOREVER, CF_ALL_COMPLETED);
    for (int i = 0; i < 3; i++) {
        void *size;
        if (cf_future_result(fs[i], 0, &size) == 0)
            printf("download %d: %ld bytes\n", i, (long)(intptr_t)size);
        cf_future_unref(fs[i]);
    }
    cf_executor_free(pool);
    return 0;
}
