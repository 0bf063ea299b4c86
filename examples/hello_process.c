/* SPDX-License-Identifier: MIT */
/* hello_process.c: the README's process-pool example: CPU work in other processes, data passed
 * as bytes, a crash that fails only its own task. Build: see README, "Example". */
#include <cfutures.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs in a worker process: gets a copy of the argument bytes, returns malloc'd bytes. */
static cf_bytes shout(const void *arg, size_t len) {
    char *out = malloc(len + 1);
    for (size_t i = 0; i < len; i++) out[i] = (char)(((const char *)arg)[i] & ~0x20);
    out[len] = '!';
    return (cf_bytes){ out, len + 1 };
}

static void *crash(void *arg) { (void)arg; abort(); }

int main(void) {
    cf_executor *pool = cf_process_pool_new(&(cf_pool_opts){ .max_workers = 2, .task_timeout = 10 });
    if (!pool) { perror("cf_process_pool_new"); return 1; }
    cf_future *word = cf_submit_bytes(pool, shout, "hello", 5);
    cf_future *bad = cf_submit(pool, crash, NULL);
    const void *data; size_t len; const char *msg;
    if (cf_future_bytes(word, CF_FOREVER, &data, &len) == 0) printf("%.*s\n", (int)len, (const char *)data);
    if (cf_future_error(bad, CF_FOREVER, &msg)) printf("failed: %s\n", msg);  /* worker ... killed by signal 6 */
    cf_future_unref(word);
    cf_future_unref(bad);
    cf_executor_free(pool);      /* waits, reaps every process */
    return 0;
}
