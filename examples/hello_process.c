/* SPDX-License-Identifier: MIT */
/* hello_process.c: the README's process-pool example: CPU work in other processes, data passed
 * as bytes, a crash that fails only its own task. Valid C and C++. */
#include <cfutures.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs in a worker process: gets a copy of the argument bytes, returns malloc'd bytes. */
static cf_bytes shout(const void *arg, size_t len)
{
    char *out = (char *)malloc(len + 1);
    cf_bytes r = { out, out ? len + 1 : 0 };
    for (size_t i = 0; out && i < len; i++)
        out[i] = (char)(((const char *)arg)[i] & ~0x20);
    if (out)
        out[len] = '!';
    return r;
}

static void *crash(void *arg)
{
    (void)arg;
    abort();   /* kills its worker; the pool forks a replacement */
}

int main(void)
{
    cf_pool_opts opts = CF_POOL_OPTS_INIT;
    opts.max_workers = 2;
    opts.task_timeout = 10;   /* seconds; a task running longer is killed */
    cf_executor *pool = cf_process_pool_new(&opts);
    if (!pool) {
        perror("cf_process_pool_new");
        return 1;
    }
    cf_future *word = cf_submit_bytes(pool, shout, "hello", 5);
    cf_future *bad = cf_submit(pool, crash, NULL);
    const void *data;
    size_t len;
    const char *msg;
    if (cf_future_bytes(word, CF_FOREVER, &data, &len) == 0)
        printf("%.*s\n", (int)len, (const char *)data);
    if (cf_future_error(bad, CF_FOREVER, &msg))
        printf("failed: %s\n", msg);   /* worker ... killed by signal 6 (Aborted) */
    cf_future_unref(word);
    cf_future_unref(bad);
    cf_executor_free(pool);   /* waits, reaps every process */
    return 0;
}
