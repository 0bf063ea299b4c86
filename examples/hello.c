/* SPDX-License-Identifier: MIT */
/* hello.c: the README's first example: submit to a thread pool, compose with as_completed, read
 * results and errors. Valid C and C++ (the README's examples compile with both). */
#include <cfutures.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

static void *square(void *arg)
{
    intptr_t x = (intptr_t)arg;
    if (x == 3)
        cf_task_fail(EDOM, "%ld is unlucky", (long)x);   /* the future fails with EDOM */
    return (void *)(x * x);
}

int main(void)
{
    cf_pool_opts opts = CF_POOL_OPTS_INIT;   /* every field's default */
    opts.max_workers = 4;
    cf_executor *pool = cf_thread_pool_new(&opts);
    if (!pool)
        return 1;
    cf_future *fs[5];
    for (intptr_t i = 0; i < 5; i++)
        fs[i] = cf_submit(pool, square, (void *)i);
    cf_as_completed *it = cf_as_completed_new(fs, 5);
    cf_future *f;
    while (cf_as_completed_next(it, CF_FOREVER, &f) == 0) {   /* in the order they finish */
        void *v;
        const char *msg;
        if (cf_future_result(f, 0, &v) == 0)
            printf("result %ld\n", (long)(intptr_t)v);
        else if (cf_future_error(f, 0, &msg))
            printf("failed: %s\n", msg);
    }
    cf_as_completed_free(it);
    for (int i = 0; i < 5; i++)
        cf_future_unref(fs[i]);
    cf_executor_free(pool);   /* waits for the workers */
    return 0;
}
