/* SPDX-License-Identifier: MIT */
/* bench.c: cfutures against its peers, built and run on the same machine in the same run.
 * Prints one TSV row per figure and implementation: figure, impl, median, min, max, unit, reps.
 * Every benchmark checks its results (sums, counts), so it cannot measure nothing; report.py
 * turns the rows into the table of docs/performance.md, with ratios.
 * Usage: bench [REPS] [FILTER]   (FILTER: a substring of the figure names to run) */

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu/wfcqueue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cfutures.h>

#include "bench.h"
#include "naive_pool.h"
#include "naive_queue.h"

int reps = 7;

double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "bench: result check failed: %s\n", what);
        exit(1);
    }
}

int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- thread pools: N trivial tasks submitted, then all waited for, 2 workers ---- */
enum { NTASKS = 1000000 };
static int WORKERS = 2;      /* the scaling figures vary it */

static void *triv(void *a) { return a; }

/* n trivial tasks submitted to ex, then every result checked; frees ex. Returns tasks/s. */
double submit_wait_all(cf_executor *ex, long n) { return submit_wait_fn(ex, n, triv); }

double submit_wait_fn(cf_executor *ex, long n, cf_fn fn)
{
    check(ex != NULL, "executor");
    cf_future **fs = malloc((size_t)n * sizeof *fs);
    double t0 = now();
    for (intptr_t i = 0; i < n; i++)
        fs[i] = cf_submit(ex, fn, (void *)i);
    intptr_t sum = 0;
    for (intptr_t i = 0; i < n; i++) {
        void *v;
        check(cf_future_result(fs[i], CF_FOREVER, &v) == 0, "cf result");
        sum += (intptr_t)v;
        cf_future_unref(fs[i]);
    }
    double t = now() - t0;
    check(sum == (intptr_t)n * (n - 1) / 2, "cf sum");
    free(fs);
    cf_executor_free(ex);
    return (double)n / t;
}

static double cf_pool_tasks(void)
{
    return submit_wait_all(cf_thread_pool_new(&(cf_pool_opts){ .max_workers = WORKERS }), NTASKS);
}

typedef struct slot { intptr_t in, out; } slot;
static GMutex g_mu;
static GCond g_cv;
static long g_done;

static void g_task(gpointer data, gpointer user)
{
    (void)user;
    slot *s = data;
    s->out = s->in;
    g_mutex_lock(&g_mu);
    if (++g_done == NTASKS)
        g_cond_signal(&g_cv);
    g_mutex_unlock(&g_mu);
}

static double glib_pool_tasks(void)
{
    slot *s = malloc(NTASKS * sizeof *s);
    g_done = 0;
    GThreadPool *p = g_thread_pool_new(g_task, NULL, WORKERS, FALSE, NULL);
    double t0 = now();
    for (intptr_t i = 0; i < NTASKS; i++) {
        s[i].in = i;
        g_thread_pool_push(p, &s[i], NULL);
    }
    g_mutex_lock(&g_mu);
    while (g_done < NTASKS)
        g_cond_wait(&g_cv, &g_mu);
    g_mutex_unlock(&g_mu);
    double t = now() - t0;
    intptr_t sum = 0;
    for (intptr_t i = 0; i < NTASKS; i++)
        sum += s[i].out;
    check(sum == (intptr_t)NTASKS * (NTASKS - 1) / 2, "glib sum");
    g_thread_pool_free(p, FALSE, TRUE);
    free(s);
    return NTASKS / t;
}

static void n_task(void *arg)
{
    slot *s = arg;
    s->out = s->in;
}

static double naive_pool_tasks(void)
{
    slot *s = malloc(NTASKS * sizeof *s);
    naive_pool *p = naive_pool_new(WORKERS);
    double t0 = now();
    for (intptr_t i = 0; i < NTASKS; i++) {
        s[i].in = i;
        naive_pool_submit(p, n_task, &s[i]);
    }
    naive_pool_wait_all(p);
    double t = now() - t0;
    intptr_t sum = 0;
    for (intptr_t i = 0; i < NTASKS; i++)
        sum += s[i].out;
    check(sum == (intptr_t)NTASKS * (NTASKS - 1) / 2, "naive sum");
    naive_pool_free(p);
    free(s);
    return NTASKS / t;
}

static double cf_map_items(size_t chunk)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = WORKERS });
    void **args = malloc(NTASKS * sizeof *args), **res = malloc(NTASKS * sizeof *res);
    for (intptr_t i = 0; i < NTASKS; i++) {
        args[i] = (void *)i;
        res[i] = NULL;               /* faulted in before the clock, as the peers' arrays are */
    }
    double t0 = now();
    check(cf_map(ex, triv, args, res, NTASKS, chunk, CF_FOREVER) == 0, "cf_map");
    double t = now() - t0;
    for (intptr_t i = 0; i < NTASKS; i++)
        check(res[i] == (void *)i, "cf_map results");
    free(args);
    free(res);
    cf_executor_free(ex);
    return NTASKS / t;
}
static double cf_map_chunk1(void) { return cf_map_items(1); }
static double cf_map_chunk256(void) { return cf_map_items(256); }

/* ---- latency: one task submitted to an idle pool, until its result is back ---- */
double lat_p[LAT_SAMPLES];
double pct(double p)
{
    qsort(lat_p, LAT_SAMPLES, sizeof *lat_p, cmp_double);
    return lat_p[(int)(p * (LAT_SAMPLES - 1))] * 1e6;
}

/* With CF_BENCH_DATA set, the latency samples of the last run go to DIR/latency_<impl>.dat
 * (sorted, microseconds), for bench/plot.sh. */
void dump_latency(const char *impl)
{
    const char *dir = getenv("CF_BENCH_DATA");
    if (!dir)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/latency_%s.dat", dir, impl);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    qsort(lat_p, LAT_SAMPLES, sizeof *lat_p, cmp_double);
    for (int i = 0; i < LAT_SAMPLES; i++)
        fprintf(f, "%.3f %.5f\n", lat_p[i] * 1e6, (double)(i + 1) / LAT_SAMPLES);
    fclose(f);
}

/* LAT_SAMPLES submit->result round trips on ex, each on an idle pool, into lat_p; frees ex. */
void latency_samples(cf_executor *ex)
{
    check(ex != NULL, "executor");
    for (int i = 0; i < LAT_SAMPLES; i++) {
        cf_sleep(0.0003);   /* let the workers fall asleep: idle pool (in a coroutine, the loop too) */
        double t0 = now();
        cf_future *f = cf_submit(ex, triv, (void *)(intptr_t)i);
        void *v;
        check(cf_future_result(f, CF_FOREVER, &v) == 0 && v == (void *)(intptr_t)i, "cf latency");
        lat_p[i] = now() - t0;
        cf_future_unref(f);
    }
    cf_executor_free(ex);
}

static void cf_latency_run(void)
{
    latency_samples(cf_thread_pool_new(&(cf_pool_opts){ .max_workers = WORKERS }));
}
static double cf_lat_p50(void) { cf_latency_run(); return pct(0.50); }
static double cf_lat_p99(void)
{
    cf_latency_run();
    double v = pct(0.99);
    dump_latency("cfutures");
    return v;
}

typedef struct lat_slot { GMutex mu; GCond cv; bool done; intptr_t in, out; } lat_slot;
static void g_lat_task(gpointer data, gpointer user)
{
    (void)user;
    lat_slot *s = data;
    g_mutex_lock(&s->mu);
    s->out = s->in;
    s->done = true;
    g_cond_signal(&s->cv);
    g_mutex_unlock(&s->mu);
}
static void glib_latency_run(void)
{
    GThreadPool *p = g_thread_pool_new(g_lat_task, NULL, WORKERS, FALSE, NULL);
    lat_slot s;
    g_mutex_init(&s.mu);
    g_cond_init(&s.cv);
    for (int i = 0; i < LAT_SAMPLES; i++) {
        usleep(300);
        s.done = false;
        s.in = i;
        double t0 = now();
        g_thread_pool_push(p, &s, NULL);
        g_mutex_lock(&s.mu);
        while (!s.done)
            g_cond_wait(&s.cv, &s.mu);
        g_mutex_unlock(&s.mu);
        lat_p[i] = now() - t0;
        check(s.out == i, "glib latency");
    }
    g_thread_pool_free(p, FALSE, TRUE);
}
static double glib_lat_p50(void) { glib_latency_run(); return pct(0.50); }
static double glib_lat_p99(void)
{
    glib_latency_run();
    double v = pct(0.99);
    dump_latency("GThreadPool");
    return v;
}

typedef struct thread_start {
    void *(*fn)(int, void *);
    void *arg;
    int i;
    pthread_barrier_t *go;
} thread_start;

static void *thread_main(void *p)
{
    thread_start *s = p;
    pthread_barrier_wait(s->go);
    return s->fn(s->i, s->arg);
}

double run_threads(int n, void *(*fn)(int i, void *arg), void *arg)
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)n + 1);
    pthread_t t[16];
    thread_start s[16];
    check(n <= 16, "at most 16 threads");
    for (int i = 0; i < n; i++) {
        s[i] = (thread_start){ fn, arg, i, &go };
        check(pthread_create(&t[i], NULL, thread_main, &s[i]) == 0, "pthread_create");
    }
    pthread_barrier_wait(&go);
    double t0 = now();
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    double secs = now() - t0;
    pthread_barrier_destroy(&go);
    return secs;
}

/* ---- queues ---- */
enum { NITEMS = 4000000 };

typedef struct qbench {
    int               producers, consumers;
    cf_lfqueue       *lf;
    cf_queue         *q;
    naive_queue       nq;
    _Alignas(64) struct cds_wfcq_head head;   /* consumers' and producers' words apart */
    _Alignas(64) struct cds_wfcq_tail tail;
    _Alignas(64) struct cds_wfcq_node *nodes;
    _Alignas(64) _Atomic long consumed;   /* a line of its own: consumers write it as they */
    char              pad[64];             /* poll, producers must not share it */
    _Atomic intptr_t  sum;
    _Atomic int       producers_left;
    int               kind;
} qbench;
static qbench QB;

enum { K_LF, K_WFCQ, K_CFQ, K_NAIVE };

static void q_prod(int id)
{
    long per = NITEMS / QB.producers;
    for (long i = 0; i < per; i++) {
        intptr_t v = (intptr_t)(id * per + i + 1);
        switch (QB.kind) {
        case K_LF: while (cf_lfqueue_push(QB.lf, (void *)v)) ; break;
        case K_WFCQ: cds_wfcq_enqueue(&QB.head, &QB.tail, &QB.nodes[v - 1]); break;
        case K_CFQ: cf_queue_put(QB.q, (void *)v, CF_FOREVER); break;
        case K_NAIVE: naive_queue_put(&QB.nq, (void *)v); break;
        }
    }
    if (atomic_fetch_sub(&QB.producers_left, 1) == 1) {
        if (QB.kind == K_CFQ)
            cf_queue_shutdown(QB.q, false);
        if (QB.kind == K_NAIVE)
            naive_queue_close(&QB.nq);
    }
}

static void q_cons(void)
{
    intptr_t sum = 0;
    long mine = 0, n = NITEMS / QB.producers * QB.producers;
    for (;;) {
        void *v;
        if (QB.kind == K_CFQ) {
            if (cf_queue_get(QB.q, CF_FOREVER, &v))
                break;
        } else if (QB.kind == K_NAIVE) {
            if (!naive_queue_get(&QB.nq, &v))
                break;
        } else {
            bool got;
            if (QB.kind == K_LF) {
                got = cf_lfqueue_pop(QB.lf, &v) == 0;
            } else {
                struct cds_wfcq_node *n = cds_wfcq_dequeue_blocking(&QB.head, &QB.tail);
                got = n != NULL;
                if (got)
                    v = (void *)(intptr_t)(n - QB.nodes + 1);
            }
            if (!got) {            /* these queues never block: consumers poll; the local
                                    * count is published on an empty poll only */
                if (atomic_fetch_add_explicit(&QB.consumed, mine, memory_order_relaxed) + mine >= n)
                    break;
                mine = 0;
                continue;
            }
            mine++;
        }
        sum += (intptr_t)v;
    }
    atomic_fetch_add(&QB.sum, sum);
}

/* Threads 0..producers-1 produce, the rest consume. */
static void *q_thread(int i, void *unused)
{
    (void)unused;
    if (i < QB.producers)
        q_prod(i);
    else
        q_cons();
    return NULL;
}

static double run_queue(int kind, int producers, int consumers)
{
    QB.kind = kind;
    QB.producers = producers;
    QB.consumers = consumers;
    atomic_store(&QB.consumed, 0);
    atomic_store(&QB.sum, 0);
    atomic_store(&QB.producers_left, producers);
    if (kind == K_LF)
        QB.lf = cf_lfqueue_new();
    if (kind == K_CFQ)
        QB.q = cf_queue_new(1024);
    if (kind == K_NAIVE)
        naive_queue_init(&QB.nq, 1024);
    if (kind == K_WFCQ) {
        cds_wfcq_init(&QB.head, &QB.tail);
        QB.nodes = malloc(NITEMS * sizeof *QB.nodes);
        for (long i = 0; i < NITEMS; i++)
            cds_wfcq_node_init(&QB.nodes[i]);
    }
    double secs = run_threads(producers + consumers, q_thread, NULL);
    long n = NITEMS / producers * producers;
    check(atomic_load(&QB.sum) == (intptr_t)n * (n + 1) / 2, "queue sum");
    if (kind == K_LF)
        cf_lfqueue_free(QB.lf);
    if (kind == K_CFQ)
        cf_queue_free(QB.q);
    if (kind == K_NAIVE)
        naive_queue_destroy(&QB.nq);
    if (kind == K_WFCQ) {
        cds_wfcq_destroy(&QB.head, &QB.tail);
        free(QB.nodes);
    }
    return n / secs;
}
static double lf_1p1c(void) { return run_queue(K_LF, 1, 1); }
static double wfcq_1p1c(void) { return run_queue(K_WFCQ, 1, 1); }
static double lf_2p2c(void) { return run_queue(K_LF, 2, 2); }
static double wfcq_2p2c(void) { return run_queue(K_WFCQ, 2, 2); }
static double cfq_2p2c(void) { return run_queue(K_CFQ, 2, 2); }
static double cfq_1p1c(void) { return run_queue(K_CFQ, 1, 1); }
static double naive_1p1c(void) { return run_queue(K_NAIVE, 1, 1); }
static double naive_2p2c(void) { return run_queue(K_NAIVE, 2, 2); }


/* ---- IPC between two processes: bulk throughput per message size, and 64-byte ping-pong ---- */
enum { IPC_BYTES = 256 << 20 };
static size_t ipc_msg = 65536;

/* Stream IPC_BYTES in messages of ipc_msg bytes; the child checks each message's first and last
 * byte (its sequence number) and replies once with the count. Returns bytes/s. */
static double cf_pipe_bulk(void)
{
    cf_pipe *a, *b;
    check(cf_pipe_new(0, &a, &b) == 0, "cf_pipe_new");
    long n = IPC_BYTES / (long)ipc_msg;
    pid_t pid = fork();
    if (pid == 0) {
        cf_pipe_close(a);
        long ok = 0;
        for (long i = 0; i < n; i++) {
            void *m;
            size_t len;
            if (cf_pipe_recv(b, &m, &len, 60))
                _exit(1);
            unsigned char *u = m;
            ok += len == ipc_msg && u[0] == (unsigned char)i && u[len - 1] == (unsigned char)i;
            free(m);
        }
        cf_pipe_send(b, &ok, sizeof ok, 60);
        cf_pipe_close(b);
        _exit(0);
    }
    cf_pipe_close(b);
    unsigned char *buf = calloc(1, ipc_msg);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        buf[0] = buf[ipc_msg - 1] = (unsigned char)i;
        check(cf_pipe_send(a, buf, ipc_msg, 60) == 0, "cf_pipe_send");
    }
    void *m;
    check(cf_pipe_recv(a, &m, NULL, 60) == 0 && *(long *)m == n, "cf_pipe bulk check");
    double t = now() - t0;
    free(m);
    free(buf);
    cf_pipe_close(a);
    waitpid(pid, NULL, 0);
    return (double)n * (double)ipc_msg / t;
}

static bool read_full(int fd, void *p, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static bool write_full(int fd, const void *p, size_t n)
{
    for (size_t put = 0; put < n;) {
        ssize_t r = write(fd, (const char *)p + put, n - put);
        if (r <= 0)
            return false;
        put += (size_t)r;
    }
    return true;
}

/* The same over a byte stream (pipe(2) or a socketpair): fixed-size messages read whole into a
 * malloc'd buffer per message, as cf_pipe_recv hands them out. */
static double stream_bulk(bool socket)
{
    int to[2], back[2];
    if (socket) {
        check(socketpair(AF_UNIX, SOCK_STREAM, 0, to) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, back) == 0, "socketpair");
    } else {
        check(pipe(to) == 0 && pipe(back) == 0, "pipe");
    }
    long n = IPC_BYTES / (long)ipc_msg;
    pid_t pid = fork();
    if (pid == 0) {
        close(to[1]);
        close(back[0]);
        long ok = 0;
        for (long i = 0; i < n; i++) {
            unsigned char *u = malloc(ipc_msg);
            if (!read_full(to[0], u, ipc_msg))
                _exit(1);
            ok += u[0] == (unsigned char)i && u[ipc_msg - 1] == (unsigned char)i;
            free(u);
        }
        write_full(back[1], &ok, sizeof ok);
        _exit(0);
    }
    close(to[0]);
    close(back[1]);
    unsigned char *buf = calloc(1, ipc_msg);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        buf[0] = buf[ipc_msg - 1] = (unsigned char)i;
        check(write_full(to[1], buf, ipc_msg), "stream write");
    }
    long ok = 0;
    check(read_full(back[0], &ok, sizeof ok) && ok == n, "stream bulk check");
    double t = now() - t0;
    free(buf);
    close(to[1]);
    close(back[0]);
    waitpid(pid, NULL, 0);
    return (double)n * (double)ipc_msg / t;
}
static double pipe2_bulk(void) { return stream_bulk(false); }
static double socketpair_bulk(void) { return stream_bulk(true); }

/* Ceilings for shared memory. "memcpy" is the usual figure: 256 MiB copied buffer to buffer in
 * 64 KiB blocks (memory-bound). "cache-hot" copies one 64 KiB block again and again (L1/L2
 * speed), an upper bound no cross-process transfer reaches, reported for honesty. */
static double memcpy_bw(void)
{
    size_t blk = 65536, total = IPC_BYTES;
    unsigned char *src = malloc(total), *dst = malloc(total);
    memset(src, 1, total);
    memset(dst, 0, total);
    double t0 = now();
    for (size_t off = 0; off < total; off += blk)
        memcpy(dst + off, src + off, blk);
    double t = now() - t0;
    check(dst[total - 1] == 1 && dst[0] == 1, "memcpy");
    free(src);
    free(dst);
    return (double)total / t;
}

static double memcpy_hot(void)
{
    size_t blk = 65536;
    unsigned char *src = calloc(1, blk), *dst = malloc(blk);
    long n = IPC_BYTES / (long)blk;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        src[0] = (unsigned char)i;
        memcpy(dst, src, blk);
        __asm__ volatile("" ::"r"(dst) : "memory");
    }
    double t = now() - t0;
    check(dst[0] == (unsigned char)(n - 1), "memcpy hot");
    free(src);
    free(dst);
    return (double)n * (double)blk / t;
}

enum { PINGS = 20000 };

static double cf_pipe_pingpong(void)
{
    cf_pipe *a, *b;
    check(cf_pipe_new(0, &a, &b) == 0, "cf_pipe_new");
    pid_t pid = fork();
    if (pid == 0) {
        cf_pipe_close(a);
        for (;;) {
            void *m;
            size_t len;
            if (cf_pipe_recv(b, &m, &len, 60))
                _exit(0);
            cf_pipe_send(b, m, len, 60);
            free(m);
        }
    }
    cf_pipe_close(b);
    char msg[64] = { 0 };
    double t0 = now();
    for (int i = 0; i < PINGS; i++) {
        msg[0] = (char)i;
        void *m;
        size_t len;
        check(cf_pipe_send(a, msg, sizeof msg, 60) == 0 && cf_pipe_recv(a, &m, &len, 60) == 0 &&
              len == 64 && ((char *)m)[0] == (char)i, "ping-pong");
        free(m);
    }
    double t = now() - t0;
    cf_pipe_close(a);
    waitpid(pid, NULL, 0);
    return t / PINGS * 1e6;
}

static double pipe2_pingpong(void)
{
    int to[2], back[2];
    check(pipe(to) == 0 && pipe(back) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(to[1]);
        close(back[0]);
        char m[64];
        while (read_full(to[0], m, sizeof m))
            write_full(back[1], m, sizeof m);
        _exit(0);
    }
    close(to[0]);
    close(back[1]);
    char msg[64] = { 0 }, in[64];
    double t0 = now();
    for (int i = 0; i < PINGS; i++) {
        msg[0] = (char)i;
        check(write_full(to[1], msg, sizeof msg) && read_full(back[0], in, sizeof in) && in[0] == (char)i, "pipe ping-pong");
    }
    double t = now() - t0;
    close(to[1]);
    close(back[0]);
    waitpid(pid, NULL, 0);
    return t / PINGS * 1e6;
}

#define IPC_FIG(size, label)                                                                       \
    static double cf_pipe_##size(void) { ipc_msg = size; return cf_pipe_bulk(); }                 \
    static double pipe2_##size(void) { ipc_msg = size; return pipe2_bulk(); }                      \
    static double sock_##size(void) { ipc_msg = size; return socketpair_bulk(); }
IPC_FIG(64, "64 B")
IPC_FIG(4096, "4 KiB")
IPC_FIG(65536, "64 KiB")
IPC_FIG(1048576, "1 MiB")

int main(int argc, char **argv)
{
    if (argc > 1)
        reps = atoi(argv[1]);
    if (reps < 1 || reps > 63)
        reps = 7;
    if (argc > 2 && !strcmp(argv[2], "--scaling")) {
        scaling_figures();
        return 0;
    }
    if (argc > 2)
        bench_filter = argv[2];
    figure("thread pool: 1M trivial tasks, submit then wait all, 2 workers", "cfutures", "tasks/s", cf_pool_tasks);
    figure("thread pool: 1M trivial tasks, submit then wait all, 2 workers", "GThreadPool", "tasks/s", glib_pool_tasks);
    figure("thread pool: 1M trivial tasks, submit then wait all, 2 workers", "naive mutex+condvar pool", "tasks/s", naive_pool_tasks);
#ifdef CF_BENCH_TBB
    figure("thread pool: 1M trivial tasks, submit then wait all, 2 workers", "oneTBB task_group (one thread per CPU)", "tasks/s", tbb_task_group);
#endif
    if (py_peers_available())
        figure("thread pool: 1M trivial tasks, submit then wait all, 2 workers", "Python ThreadPoolExecutor", "tasks/s", py_pool_tasks);
    figure("thread pool: cf_map 1M items, chunksize 1", "cfutures", "items/s", cf_map_chunk1);
    figure("thread pool: cf_map 1M items, chunksize 256", "cfutures", "items/s", cf_map_chunk256);
#ifdef CF_BENCH_TBB
    figure("thread pool: cf_map 1M items, chunksize 256", "oneTBB parallel_for, grain 256, a function pointer per item", "items/s", tbb_parallel_for);
#endif
    figure("thread pool: idle-pool submit->result latency p50", "cfutures", "us", cf_lat_p50);
    figure("thread pool: idle-pool submit->result latency p50", "GThreadPool", "us", glib_lat_p50);
    if (py_peers_available())
        figure("thread pool: idle-pool submit->result latency p50", "Python ThreadPoolExecutor", "us", py_pool_p50);
    figure("thread pool: idle-pool submit->result latency p99", "cfutures", "us", cf_lat_p99);
    figure("thread pool: idle-pool submit->result latency p99", "GThreadPool", "us", glib_lat_p99);
    if (py_peers_available())
        figure("thread pool: idle-pool submit->result latency p99", "Python ThreadPoolExecutor", "us", py_pool_p99);
    figure("queue: cf_lfqueue 1P1C, 4M items", "cfutures", "items/s", lf_1p1c);
    figure("queue: cf_lfqueue 1P1C, 4M items", "raw cds_wfcq, inlined, preallocated, unlocked consumer", "items/s", wfcq_best_1p1c);
    figure("queue: cf_lfqueue 1P1C, 4M items", "raw cds_wfcq through liburcu.so, locked consumer", "items/s", wfcq_1p1c);
    figure("queue: cf_lfqueue 2P2C, 4M items", "cfutures", "items/s", lf_2p2c);
    figure("queue: cf_lfqueue 2P2C, 4M items", "raw cds_wfcq, inlined, preallocated, locked consumers", "items/s", wfcq_best_2p2c);
    figure("queue: cf_lfqueue 2P2C, 4M items", "raw cds_wfcq through liburcu.so, locked consumers", "items/s", wfcq_2p2c);
    figure("queue: cf_queue bounded 1024 1P1C, 4M items", "cfutures", "items/s", cfq_1p1c);
    if (go_peers_available())
        figure("queue: cf_queue bounded 1024 1P1C, 4M items", "Go channel buffered to 1024", "items/s", go_chan1p1c);
    figure("queue: cf_queue bounded 1024 1P1C, 4M items", "naive mutex+condvar queue", "items/s", naive_1p1c);
    figure("queue: cf_queue bounded 1024 2P2C, 4M items", "cfutures", "items/s", cfq_2p2c);
    figure("queue: cf_queue bounded 1024 2P2C, 4M items", "naive mutex+condvar queue", "items/s", naive_2p2c);
    /* Scaling: the same 1M-task figure with 1, 2, 4 and 8 workers (2 CPUs here: past 2, more
     * workers can only share the same cores; the figure shows what that costs). */
    static const int scale[] = { 1, 2, 4, 8 };
    for (size_t i = 0; i < sizeof scale / sizeof *scale; i++) {
        char name[128];
        snprintf(name, sizeof name, "scaling: 1M trivial tasks, %d worker%s", scale[i], scale[i] > 1 ? "s" : "");
        figures_flush();                 /* the pending group reads WORKERS */
        WORKERS = scale[i];
        figure(name, "cfutures", "tasks/s", cf_pool_tasks);
        figure(name, "GThreadPool", "tasks/s", glib_pool_tasks);
    }
    figures_flush();
    WORKERS = 2;
    static const struct { const char *name; double (*cf)(void), (*p2)(void), (*sp)(void); } sizes[] = {
        { "ipc: 256 MiB in 64 B messages, 2 processes", cf_pipe_64, pipe2_64, sock_64 },
        { "ipc: 256 MiB in 4 KiB messages, 2 processes", cf_pipe_4096, pipe2_4096, sock_4096 },
        { "ipc: 256 MiB in 64 KiB messages, 2 processes", cf_pipe_65536, pipe2_65536, sock_65536 },
        { "ipc: 256 MiB in 1 MiB messages, 2 processes", cf_pipe_1048576, pipe2_1048576, sock_1048576 },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        figure(sizes[i].name, "cfutures", "B/s", sizes[i].cf);
        figure(sizes[i].name, "pipe(2)", "B/s", sizes[i].p2);
        figure(sizes[i].name, "socketpair", "B/s", sizes[i].sp);
    }
    figure("ipc: 256 MiB in 64 KiB messages, 2 processes", "memcpy 256 MiB buffer to buffer", "B/s", memcpy_bw);
    figure("ipc: 256 MiB in 64 KiB messages, 2 processes", "memcpy 64 KiB cache-hot", "B/s", memcpy_hot);
    figure("ipc: 64-byte round trip", "cfutures", "us", cf_pipe_pingpong);
    figure("ipc: 64-byte round trip", "pipe(2)", "us", pipe2_pingpong);
    process_pool_figures();
    loop_figures();
    sync_figures();
    figures_flush();
    return 0;
}
