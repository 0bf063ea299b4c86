/* SPDX-License-Identifier: MIT */
/* soak.c: everything at once, for minutes, with workers and fork servers killed and stopped at
 * random, random cancels and brief descriptor exhaustion; at the end every submitted future is
 * accounted for, the process's RSS and descriptor count are flat, and no child is left.
 * Run by tools/soak.sh [MINUTES]; prints one line of figures and exits non-zero on any loss.
 *
 * Load: a thread pool (short random tasks), a process pool (tasks, bytes tasks, cf_map, with
 * task_timeout), two cf_queue producers and consumers, a cf_pipe ping-pong with a child process
 * (killed and replaced now and then), and an event loop whose coroutines sleep and await both
 * pools. Chaos: a thread that SIGKILLs and SIGSTOPs/SIGCONTs the process pool's workers and fork
 * server, and now and then takes every free descriptor for a few milliseconds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cfutures.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void nap(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

static uint32_t rnd(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static double until;
static cf_executor *retired[256];     /* broken process pools, freed at the end */
static int nretired;

/* ---- accounting ---- */

typedef struct tally {
    _Atomic long submitted, ok, failed_worker, failed_cancel, failed_timeout, failed_broken,
        cancelled, other;
} tally;
static tally T;

/* Waits for f and files it under what became of it. */
static void account(cf_future *f)
{
    void *v;
    int r = cf_future_result(f, 120, &v);
    if (r == ETIMEDOUT) {
        fprintf(stderr, "soak: a future is still not done after 120 s: lost\n");
        exit(3);
    }
    cf_state st = cf_future_state(f);
    if (st == CF_CANCELLED)
        atomic_fetch_add(&T.cancelled, 1);
    else if (r == 0)
        atomic_fetch_add(&T.ok, 1);
    else if (r == CF_EWORKER)
        atomic_fetch_add(&T.failed_worker, 1);
    else if (r == ECANCELED)
        atomic_fetch_add(&T.failed_cancel, 1);
    else if (r == ETIMEDOUT)
        atomic_fetch_add(&T.failed_timeout, 1);
    else if (r == CF_EBROKEN)
        atomic_fetch_add(&T.failed_broken, 1);
    else {
        atomic_fetch_add(&T.other, 1);
        const char *msg = NULL;
        cf_future_error(f, 0, &msg);
        fprintf(stderr, "soak: unexpected error %d (%s)\n", r, msg ? msg : "");
    }
    cf_future_unref(f);
}

/* A window of outstanding futures per submitter: submit, cancel some, account the oldest. */
#define WINDOW 64
typedef struct window {
    cf_future *f[WINDOW];
    int n;
} window;

static void win_add(window *w, cf_future *f, uint32_t *seed)
{
    atomic_fetch_add(&T.submitted, 1);
    if (rnd(seed) % 16 == 0)
        cf_future_cancel(f);
    if (w->n == WINDOW) {
        account(w->f[0]);
        memmove(w->f, w->f + 1, (WINDOW - 1) * sizeof *w->f);
        w->n--;
    }
    w->f[w->n++] = f;
}

static void win_drain(window *w)
{
    for (int i = 0; i < w->n; i++)
        account(w->f[i]);
    w->n = 0;
}

/* ---- tasks ---- */

static void *spin_task(void *a)
{
    long us = (long)a;
    double end = now_s() + (double)us * 1e-6;
    while (now_s() < end && !cf_task_cancelled())
        ;
    return a;
}

static void *square(void *a) { return (void *)((long)a * (long)a); }

static cf_bytes echo(const void *in, size_t len)
{
    void *out = malloc(len ? len : 1);
    if (out)
        memcpy(out, in, len);
    return (cf_bytes){ out, len };
}

/* ---- load ---- */

static cf_executor *tpool;
static cf_executor *_Atomic ppool;
static pthread_mutex_t ppool_mu = PTHREAD_MUTEX_INITIALIZER;

static cf_executor *new_process_pool(void)
{
    cf_pool_opts o = { .max_workers = 2, .task_timeout = 2, .name = "soak" };
    for (;;) {
        cf_executor *ex = cf_process_pool_new(&o);
        if (ex)
            return ex;
        nap(0.01);                      /* descriptors taken by the chaos thread: again */
    }
}

static void *thread_load(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg;
    window w = { 0 };
    while (now_s() < until) {
        cf_future *f = cf_submit(tpool, spin_task, (void *)(long)(rnd(&seed) % 500));
        if (f)
            win_add(&w, f, &seed);
    }
    win_drain(&w);
    return NULL;
}

static void *process_load(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg;
    window w = { 0 };
    unsigned char buf[8192];
    memset(buf, 7, sizeof buf);
    while (now_s() < until) {
        pthread_mutex_lock(&ppool_mu);
        cf_executor *ex = atomic_load(&ppool);
        cf_future *f;
        uint32_t k = rnd(&seed) % 8;
        if (k < 5)
            f = cf_submit(ex, k < 2 ? spin_task : square, (void *)(long)(rnd(&seed) % 2000));
        else
            f = cf_submit_bytes(ex, echo, buf, rnd(&seed) % sizeof buf);
        pthread_mutex_unlock(&ppool_mu);
        if (f)
            win_add(&w, f, &seed);
        else
            nap(0.001);
        if (f && cf_future_error(f, 0, NULL) == CF_EBROKEN) {
            /* Broken for good (losses in a row): replace the pool, as a program would. */
            pthread_mutex_lock(&ppool_mu);
            if (atomic_load(&ppool) == ex && nretired < 256) {
                atomic_store(&ppool, new_process_pool());
                cf_executor_shutdown(ex, false, false);
                retired[nretired++] = ex;
            }
            pthread_mutex_unlock(&ppool_mu);
        }
    }
    win_drain(&w);
    return NULL;
}

static _Atomic long queue_moved;
static void *queue_producer(void *q)
{
    long n = 0;
    while (now_s() < until)
        if (cf_queue_put(q, (void *)(++n), 0.01) == 0)
            atomic_fetch_add(&queue_moved, 1);
    return NULL;
}

static _Atomic long queue_got;
static void *queue_consumer(void *q)
{
    for (;;) {
        void *v;
        int r = cf_queue_get(q, 0.05, &v);
        if (r == EPIPE)
            return NULL;
        if (r == 0) {
            atomic_fetch_add(&queue_got, 1);
            cf_queue_task_done(q);
        }
    }
}

/* A child echoes every message back; the parent checks them, and kills the child now and then
 * (EPIPE), starting a new pipe and child. */
static _Atomic long pipe_msgs, pipe_peers;
static void *pipe_load(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg;
    static unsigned char msg[200000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (unsigned char)i;
    while (now_s() < until) {
        cf_pipe *a, *b;
        if (cf_pipe_new(1 << 16, &a, &b)) {
            nap(0.01);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            cf_pipe_close(a);
            for (;;) {
                void *m;
                size_t n;
                if (cf_pipe_recv(b, &m, &n, CF_FOREVER) || cf_pipe_send(b, m, n, CF_FOREVER))
                    _exit(0);
                free(m);
            }
        }
        cf_pipe_close(b);
        atomic_fetch_add(&pipe_peers, 1);
        int rounds = 50 + (int)(rnd(&seed) % 200);
        for (int i = 0; i < rounds && now_s() < until; i++) {
            size_t len = rnd(&seed) % (rnd(&seed) % 8 ? 512 : sizeof msg);
            if (cf_pipe_send(a, msg, len, 5))
                break;
            void *m;
            size_t n;
            if (cf_pipe_recv(a, &m, &n, 5))
                break;
            if (n != len || memcmp(m, msg, n)) {
                fprintf(stderr, "soak: a pipe message came back different\n");
                exit(4);
            }
            free(m);
            atomic_fetch_add(&pipe_msgs, 1);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cf_pipe_close(a);
    }
    return NULL;
}

/* Coroutines: each sleeps, then awaits a thread-pool and a process-pool future. */
static void *coro_body(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg;
    cf_sleep((double)(rnd(&seed) % 2000) * 1e-6);
    cf_future *f = cf_submit(tpool, square, (void *)7);
    if (!f)
        return NULL;
    atomic_fetch_add(&T.submitted, 1);
    void *v;
    cf_await(f, 120, &v);               /* suspends; ECANCELED once if this coroutine is cancelled */
    account(f);                         /* ... after which it waits for f itself */
    return NULL;
}

static _Atomic long coros_spawned, coros_done;
static void *loop_load(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg;
    cf_loop *loop = cf_loop_new();
    while (now_s() < until) {
        cf_future *fs[64];
        int n = 0;
        for (; n < 64; n++) {
            if (!(fs[n] = cf_loop_spawn(loop, coro_body, (void *)(uintptr_t)rnd(&seed))))
                break;
            atomic_fetch_add(&coros_spawned, 1);
            if (rnd(&seed) % 32 == 0)
                cf_future_cancel(fs[n]);
        }
        cf_loop_run(loop);
        for (int i = 0; i < n; i++) {
            if (cf_future_done(fs[i]))
                atomic_fetch_add(&coros_done, 1);
            cf_future_unref(fs[i]);
        }
    }
    cf_loop_free(loop);
    return NULL;
}

/* ---- chaos ---- */

/* Children of pid (its main thread's), up to max. */
static int children_of(pid_t pid, pid_t *out, int max)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    int n = 0;
    for (char *t = strtok(buf, " \n"); t && n < max; t = strtok(NULL, " \n"))
        out[n++] = atoi(t);
    return n;
}

/* Children of every thread of this process (a child belongs to the thread that forked it). */
static int all_children(pid_t *out, int max)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && n < max && (e = readdir(d)))
        if (e->d_name[0] != '.')
            n += children_of(atoi(e->d_name), out + n, max - n);
    if (d)
        closedir(d);
    return n;
}

/* Our children that are fork servers (named "soak-fs"). */
static int fork_servers(pid_t *out, int max)
{
    pid_t kids[64];
    int n = 0, k = all_children(kids, 64);
    for (int i = 0; i < k && n < max; i++) {
        char path[64], comm[32] = "";
        snprintf(path, sizeof path, "/proc/%d/comm", (int)kids[i]);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(comm, sizeof comm, f) && strncmp(comm, "soak-fs", 7) == 0)
                out[n++] = kids[i];
            fclose(f);
        }
    }
    return n;
}

static _Atomic long kills, stops, server_kills, fd_squeezes;
static void *chaos(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg;
    int hog[4096];
    while (now_s() < until) {
        nap((double)(5 + rnd(&seed) % 45) * 1e-3);
        pid_t fs[4], w[16];
        int nfs = fork_servers(fs, 4);
        if (!nfs)
            continue;
        int nw = children_of(fs[0], w, 16);
        uint32_t act = rnd(&seed) % 100;
        if (act < 50 && nw) {
            kill(w[rnd(&seed) % nw], SIGKILL);
            atomic_fetch_add(&kills, 1);
        } else if (act < 80 && nw) {
            pid_t v = w[rnd(&seed) % nw];
            kill(v, SIGSTOP);
            nap((double)(1 + rnd(&seed) % 100) * 1e-3);
            kill(v, SIGCONT);
            atomic_fetch_add(&stops, 1);
        } else if (act < 84) {
            kill(fs[0], SIGKILL);
            atomic_fetch_add(&server_kills, 1);
        } else if (act < 88) {
            kill(fs[0], SIGSTOP);
            nap((double)(1 + rnd(&seed) % 50) * 1e-3);
            kill(fs[0], SIGCONT);
            atomic_fetch_add(&stops, 1);
        } else if (act < 91) {
            int n = 0;
            while (n < 4096 && (hog[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
                n++;
            nap((double)(1 + rnd(&seed) % 20) * 1e-3);
            while (n > 0)
                close(hog[--n]);
            atomic_fetch_add(&fd_squeezes, 1);
        }
    }
    return NULL;
}

/* ---- measuring ---- */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static int fd_count(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

int main(int argc, char **argv)
{
    double minutes = argc > 1 ? atof(argv[1]) : 1;
    double t0 = now_s();
    until = t0 + minutes * 60;
    struct rlimit rl = { 1024, 1024 };
    setrlimit(RLIMIT_NOFILE, &rl);      /* the squeeze takes them all: keep "all" small */
    int fds0 = fd_count();
    tpool = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 4, .name = "soak-t" });
    atomic_store(&ppool, new_process_pool());
    cf_queue *q = cf_queue_new(256);

    pthread_t th[16];
    int n = 0;
    pthread_create(&th[n++], NULL, thread_load, (void *)1);
    pthread_create(&th[n++], NULL, process_load, (void *)2);
    pthread_create(&th[n++], NULL, process_load, (void *)3);
    pthread_create(&th[n++], NULL, queue_producer, q);
    pthread_create(&th[n++], NULL, queue_producer, q);
    pthread_create(&th[n++], NULL, pipe_load, (void *)4);
    pthread_create(&th[n++], NULL, loop_load, (void *)5);
    pthread_create(&th[n++], NULL, chaos, (void *)6);
    pthread_t consumers[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&consumers[i], NULL, queue_consumer, q);

    /* RSS at a quarter of the run (warm) and at the end. */
    nap(minutes * 60 / 4);
    long rss_warm = rss_kib();
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    cf_queue_shutdown(q, false);
    for (int i = 0; i < 2; i++)
        pthread_join(consumers[i], NULL);
    long rss_end = rss_kib();

    cf_executor_free(tpool);
    cf_executor_free(atomic_load(&ppool));
    cf_queue_free(q);
    for (int i = 0; i < nretired; i++)
        cf_executor_free(retired[i]);
    int fds_end = fd_count();
    pid_t left[8];
    int zombies = all_children(left, 8);

    long sub = atomic_load(&T.submitted);
    long acc = atomic_load(&T.ok) + atomic_load(&T.failed_worker) + atomic_load(&T.failed_cancel) +
               atomic_load(&T.failed_timeout) + atomic_load(&T.failed_broken) + atomic_load(&T.cancelled);
    printf("soak: %.1f min: %ld futures submitted = %ld ok + %ld CF_EWORKER + %ld ECANCELED + "
           "%ld ETIMEDOUT + %ld CF_EBROKEN + %ld cancelled (%ld other, %ld lost); "
           "%ld coroutines (%ld done); %ld queue items (%ld got); %ld pipe messages over %ld peers; "
           "chaos: %ld worker kills, %ld stops, %ld fork-server kills, %ld fd squeezes; "
           "RSS %ld -> %ld KiB; fds %d -> %d; children left %d\n",
           (now_s() - t0) / 60, sub, atomic_load(&T.ok), atomic_load(&T.failed_worker),
           atomic_load(&T.failed_cancel), atomic_load(&T.failed_timeout), atomic_load(&T.failed_broken),
           atomic_load(&T.cancelled), atomic_load(&T.other), sub - acc - atomic_load(&T.other),
           atomic_load(&coros_spawned), atomic_load(&coros_done), atomic_load(&queue_moved),
           atomic_load(&queue_got), atomic_load(&pipe_msgs), atomic_load(&pipe_peers),
           atomic_load(&kills), atomic_load(&stops), atomic_load(&server_kills),
           atomic_load(&fd_squeezes), rss_warm, rss_end, fds0, fds_end, zombies);
    int bad = 0;
    if (sub != acc || atomic_load(&T.other)) {
        fprintf(stderr, "soak: futures lost or failed unexpectedly\n");
        bad = 1;
    }
    if (atomic_load(&coros_spawned) != atomic_load(&coros_done) ||
        atomic_load(&queue_moved) != atomic_load(&queue_got)) {
        fprintf(stderr, "soak: coroutines or queue items unaccounted for\n");
        bad = 1;
    }
    if (fds_end != fds0 || zombies) {
        fprintf(stderr, "soak: descriptors or children left behind\n");
        bad = 1;
    }
    /* Flat: what a warm process holds, give or take allocator slack (32 MiB). */
    if (rss_end > rss_warm + 32768) {
        fprintf(stderr, "soak: RSS grew from %ld to %ld KiB\n", rss_warm, rss_end);
        bad = 1;
    }
    return bad;
}
