/* SPDX-License-Identifier: MIT */
/* coro_date.c: asyncio's "coroutine displaying the current date": every second for 5 seconds.
 *     end_time = loop.time() + 5.0
 *     while True:
 *         print(datetime.datetime.now())
 *         if (loop.time() + 1.0) >= end_time: break
 *         await asyncio.sleep(1) */
#include <cfutures.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static void print_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", localtime(&tv.tv_sec));
    printf("%s.%06ld\n", buf, (long)tv.tv_usec);
    fflush(stdout);
}

static void *display_date(void *arg)
{
    cf_loop *loop = arg;
    double end_time = cf_loop_time(loop) + 5.0;
    for (;;) {
        print_now();
        if (cf_loop_time(loop) + 1.0 >= end_time)
            break;
        cf_sleep(1);
    }
    return NULL;
}

int main(void)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, display_date, loop);
    int r = cf_loop_run_until_complete(loop, f, NULL);
    cf_future_unref(f);
    cf_loop_free(loop);
    return r;
}
