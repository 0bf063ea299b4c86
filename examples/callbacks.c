/* SPDX-License-Identifier: MIT */
/* callbacks.c: done-callbacks, and tasks whose future owns what they use. A callback runs once,
 * in the thread that completes the future (or at once, if it is done already). cf_submit_full
 * gives the argument and the result destructors: the argument is freed as the task ends, the
 * result when the last reference goes, unless cf_future_take took it. */
#include <cfutures.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int finished;

static void on_done(cf_future *f, void *arg)
{
    const char *msg;
    int err = cf_future_error(f, 0, &msg);   /* done: never waits */
    printf("callback: %s %s\n", (const char *)arg, err ? msg : "finished");
    atomic_fetch_add(&finished, 1);
}

static void *greet(void *arg)   /* returns a new string */
{
    const char *name = (const char *)arg;
    char *s = (char *)malloc(strlen(name) + 8);
    if (s)
        sprintf(s, "hello, %s", name);
    return s;
}

int main(void)
{
    cf_executor *pool = cf_thread_pool_new(NULL);
    if (!pool)
        return 1;
    /* The pool frees the strdup'd argument when the task is done with it, and the result ... */
    cf_future *a = cf_submit_full(pool, greet, strdup("world"), free, free);
    cf_future *b = cf_submit_full(pool, greet, strdup("reader"), free, free);
    cf_future_add_done_callback(a, on_done, (void *)"task a");
    cf_future_add_done_callback(b, on_done, (void *)"task b");

    void *text;
    if (cf_future_take(a, CF_FOREVER, &text) == 0) {   /* ... unless we take it: ours now */
        printf("took: %s\n", (char *)text);
        free(text);
    }
    if (cf_future_result(b, CF_FOREVER, &text) == 0)    /* borrowed: lives as long as b */
        printf("borrowed: %s\n", (char *)text);
    cf_future_unref(a);
    cf_future_unref(b);   /* b's result goes with its last reference (the pool may hold one a moment) */
    cf_executor_free(pool);
    printf("%d callbacks ran\n", atomic_load(&finished));
    return 0;
}
