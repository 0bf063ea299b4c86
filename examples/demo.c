/* SPDX-License-Identifier: MIT */
/* demo.c: the README's main command. Mode "files", "I/O-bound concurrency: using futures and
 * threading": counts lines, words and bytes of every file under a directory with one thread-pool
 * task per file, collects the futures with as_completed while drawing a progress bar, then does
 * the same serially and prints the speed-up. Mode "queue", "using queues and threading": the same
 * work through a producer thread, a bounded cf_queue and worker threads. Mode "primes", the
 * CPU-bound patterns with processes (demo_primes.c). The default runs "files", then "primes". */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cfutures.h>

#include "demo.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The task: one file. Its result is a malloc'd wc_counts; failure goes through cf_task_fail. */
static void *count_task(void *arg)
{
    wc_counts *c = malloc(sizeof *c);
    if (!c) {
        cf_task_fail(ENOMEM, "out of memory");
        return NULL;
    }
    int e = wc_file(arg, c);
    if (e) {
        free(c);
        cf_task_fail(e, "%s: %s", (const char *)arg, strerror(e));
        return NULL;
    }
    return c;
}

static void progress(size_t done, size_t total, double t0)
{
    int width = 40, fill = total ? (int)(done * (size_t)width / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %3d%% %zu/%zu files %.1fs", fill,
            "########################################", width - fill, "",
            total ? (int)(done * 100 / total) : 100, done, total, now() - t0);
    if (done == total)
        fputc('\n', stderr);
}

typedef struct run_result {
    wc_counts total;
    size_t    failed;
    double    seconds;
} run_result;

static int run_pool(const file_list *files, int workers, run_result *out)
{
    cf_executor *pool = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = workers, .name = "wc" });
    cf_future **fs = malloc((files->n ? files->n : 1) * sizeof *fs);
    if (!pool || !fs) {
        cf_executor_free(pool);
        free(fs);
        return ENOMEM;
    }
    memset(out, 0, sizeof *out);
    double t0 = now();
    size_t n = 0;
    for (; n < files->n; n++)
        if (!(fs[n] = cf_submit(pool, count_task, files->paths[n])))
            break;
    int err = n < files->n ? errno : 0;
    cf_as_completed *it = cf_as_completed_new(fs, n);
    bool tty = isatty(STDERR_FILENO);
    size_t step = n / 200 + 1, done = 0;
    cf_future *f;
    while (it && cf_as_completed_next(it, CF_FOREVER, &f) == 0) {
        wc_counts *c;
        if (cf_future_result(f, 0, (void **)&c) == 0) {
            out->total.lines += c->lines;
            out->total.words += c->words;
            out->total.bytes += c->bytes;
            free(c);
        } else {
            out->failed++;
        }
        if (tty && (++done % step == 0 || done == n))
            progress(done, n, t0);
    }
    out->seconds = now() - t0;
    if (!it)
        err = errno;
    cf_as_completed_free(it);
    for (size_t i = 0; i < n; i++)
        cf_future_unref(fs[i]);
    free(fs);
    cf_executor_free(pool);
    return err;
}

static void run_serial(const file_list *files, run_result *out)
{
    memset(out, 0, sizeof *out);
    double t0 = now();
    for (size_t i = 0; i < files->n; i++) {
        wc_counts c;
        if (wc_file(files->paths[i], &c) == 0) {
            out->total.lines += c.lines;
            out->total.words += c.words;
            out->total.bytes += c.bytes;
        } else {
            out->failed++;
        }
    }
    out->seconds = now() - t0;
}

typedef int (*runner)(const file_list *, int, run_result *);

static int mode_run(const char *root, int workers, bool warm, runner run, const char *title,
                    const char *label)
{
    file_list files;
    int e = files_collect(root, &files);
    if (e) {
        fprintf(stderr, "cf_demo: cannot walk %s: %s\n", root, strerror(e));
        return 1;
    }
    printf("cfutures demo: %s\n", title);
    printf("counting lines, words and bytes of %zu files under %s, one task per file\n\n",
           files.n, root);
    run_result pool, serial;
    if (warm) {
        /* Untimed pass, so that both timed runs read from the page cache: otherwise whichever
         * runs first also pays for the disk, and the speed-up says nothing. */
        fprintf(stderr, "warming the page cache (untimed)...\n");
        run_serial(&files, &serial);
    }
    if ((e = run(&files, workers, &pool))) {
        fprintf(stderr, "cf_demo: %s\n", cf_strerror(e));
        files_free(&files);
        return 1;
    }
    run_serial(&files, &serial);
    printf("%-28s %14s %14s %16s %8s %9s\n", "", "lines", "words", "bytes", "failed", "seconds");
    printf("%-28s %14llu %14llu %16llu %8zu %9.3f\n", label,
           pool.total.lines, pool.total.words, pool.total.bytes, pool.failed, pool.seconds);
    printf("%-28s %14llu %14llu %16llu %8zu %9.3f\n", "serial", serial.total.lines,
           serial.total.words, serial.total.bytes, serial.failed, serial.seconds);
    bool same = memcmp(&pool.total, &serial.total, sizeof pool.total) == 0 &&
                pool.failed == serial.failed;
    printf("\nspeed-up: %.2fx with %d worker threads on %ld CPUs (%s)\n",
           pool.seconds > 0 ? serial.seconds / pool.seconds : 0.0, workers,
           sysconf(_SC_NPROCESSORS_ONLN), same ? "counts match" : "COUNTS DIFFER");
    printf(warm ? "(both runs read from the page cache, warmed by an untimed pass)\n"
                : "(--cold: the pool ran first and may also have paid for the disk)\n");
    files_free(&files);
    return same ? 0 : 1;
}

/* Mode "queue": "using queues and threading". A producer thread puts every path on a bounded
 * work queue; worker threads get paths, count them and put the counts on a result queue; the main
 * thread collects one result per file. Shutting the work queue down tells the workers to finish
 * what is queued and stop: no sentinel values needed. */
typedef struct queue_demo {
    const file_list *files;
    cf_queue        *work, *results;
} queue_demo;

typedef struct wc_result {
    int       err;
    wc_counts c;
} wc_result;

static void *producer(void *arg)
{
    queue_demo *qd = arg;
    for (size_t i = 0; i < qd->files->n; i++)
        if (cf_queue_put(qd->work, qd->files->paths[i], CF_FOREVER))
            break;
    cf_queue_shutdown(qd->work, false);        /* workers drain what is left, then stop */
    return NULL;
}

static void *queue_worker(void *arg)
{
    queue_demo *qd = arg;
    void *path;
    while (cf_queue_get(qd->work, CF_FOREVER, &path) == 0) {
        wc_result *r = malloc(sizeof *r);
        if (r)
            r->err = wc_file(path, &r->c);
        cf_queue_put(qd->results, r, CF_FOREVER);   /* NULL: out of memory, counted as failed */
        cf_queue_task_done(qd->work);
    }
    return NULL;
}

static int run_queues(const file_list *files, int workers, run_result *out)
{
    queue_demo qd = { files, cf_queue_new(1024), cf_queue_new(0) };
    pthread_t prod, *ws = calloc((size_t)workers, sizeof *ws);
    if (!qd.work || !qd.results || !ws) {
        cf_queue_free(qd.work);
        cf_queue_free(qd.results);
        free(ws);
        return ENOMEM;
    }
    memset(out, 0, sizeof *out);
    double t0 = now();
    int started = 0;
    for (; started < workers; started++)
        if (pthread_create(&ws[started], NULL, queue_worker, &qd))
            break;
    if (started == 0 || pthread_create(&prod, NULL, producer, &qd)) {
        cf_queue_shutdown(qd.work, true);
        for (int i = 0; i < started; i++)
            pthread_join(ws[i], NULL);
        cf_queue_free(qd.work);
        cf_queue_free(qd.results);
        free(ws);
        return EAGAIN;
    }
    bool tty = isatty(STDERR_FILENO);
    size_t step = files->n / 200 + 1;
    for (size_t done = 0; done < files->n;) {
        wc_result *r;
        if (cf_queue_get(qd.results, CF_FOREVER, (void **)&r))
            break;
        if (r && r->err == 0) {
            out->total.lines += r->c.lines;
            out->total.words += r->c.words;
            out->total.bytes += r->c.bytes;
        } else {
            out->failed++;
        }
        free(r);
        done++;
        if (tty && (done % step == 0 || done == files->n))
            progress(done, files->n, t0);
    }
    out->seconds = now() - t0;
    pthread_join(prod, NULL);
    for (int i = 0; i < started; i++)
        pthread_join(ws[i], NULL);
    cf_queue_free(qd.work);
    cf_queue_free(qd.results);
    free(ws);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: cf_demo [--mode all|files|queue|primes] [--workers N] [--procs N]\n"
                    "               [--primes N] [--cold] [DIR]\n"
                    "  all (default): files, then primes\n"
                    "  files: one thread-pool task per file under DIR (default /usr/share), "
                    "collected with as_completed\n"
                    "  queue: a producer thread, a bounded cf_queue, worker threads, a result queue\n"
                    "  primes: count primes below N (default 10000000) serially, with a process "
                    "pool, and with processes + cf_mpqueue\n"
                    "  --workers: threads (default CPUs + 4); --procs: processes (default CPUs)\n"
                    "  --cold: skip the untimed pass that warms the page cache\n");
}

int main(int argc, char **argv)
{
    const char *mode = "all", *root = "/usr/share";
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = (int)(ncpu + 4 > 32 ? 32 : ncpu + 4), procs = ncpu < 1 ? 1 : (int)ncpu;
    long primes_n = 10000000;
    bool warm = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--procs") && i + 1 < argc)
            procs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--primes") && i + 1 < argc)
            primes_n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--cold"))
            warm = false;
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (argv[i][0] == '-') {
            usage();
            return 2;
        } else
            root = argv[i];
    }
    if (workers < 1 || workers > 1024 || procs < 1 || procs > 1024 || primes_n < 2 ||
        primes_n > 4000000000L) {
        usage();
        return 2;
    }
    if (!strcmp(mode, "all")) {
        int r = mode_run(root, workers, warm, run_pool,
                         "I/O-bound concurrency using futures and threading", "thread pool (as_completed)");
        printf("\n");
        return demo_primes((uint32_t)primes_n, procs) | r;
    }
    if (!strcmp(mode, "primes"))
        return demo_primes((uint32_t)primes_n, procs);
    if (!strcmp(mode, "files"))
        return mode_run(root, workers, warm, run_pool,
                        "I/O-bound concurrency using futures and threading", "thread pool (as_completed)");
    if (!strcmp(mode, "queue"))
        return mode_run(root, workers, warm, run_queues,
                        "using queues and threading (producer -> cf_queue -> workers)",
                        "threads + cf_queue");
    usage();
    return 2;
}
