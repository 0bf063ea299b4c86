/* SPDX-License-Identifier: MIT */
/* peers.c: peers that are not C++ (peers_cxx.cpp has oneTBB and Boost.Context):
 * - Python (bench/py_peers.py): started once as a coprocess; each repetition of a Python row
 *   sends it the peer's key and reads back one figure, so Python's repetitions interleave with
 *   cfutures' too. Without $CF_BENCH_PY the Python rows are left out.
 * - Go (bench/go_peers.go, built by bench/run; $CF_BENCH_GO names the binary, and without it
 *   the Go rows are left out): one run of the Go program per repetition, so its repetitions
 *   interleave with cfutures' like any other row. The program times itself: process start-up
 *   is not in its figure.
 * - libuv's thread pool: 1M uv_queue_work requests (a trivial work callback on the pool, the
 *   after-work callback on the loop), beside a coroutine that submits 1M trivial tasks to a
 *   2-worker thread pool and awaits each future (cf_coro_pool_tasks). UV_THREADPOOL_SIZE=2. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

enum { POOL_TASKS = 1000000 };

/* A peer's rows run when bench/run named its program in this variable. */
static bool named(const char *var)
{
    const char *v = getenv(var);
    return v && *v;
}

bool go_peers_available(void) { return named("CF_BENCH_GO"); }

static double go_run(const char *mode)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s", getenv("CF_BENCH_GO"), mode);
    FILE *p = popen(cmd, "r");
    check(p != NULL, "popen go_peers");
    double v = 0;
    check(fscanf(p, "%lf", &v) == 1, "go_peers output");
    check(pclose(p) == 0, "go_peers exit status");
    return v;
}

double go_spawn(void) { return go_run("spawn"); }
double go_pingpong(void) { return go_run("pingpong"); }
double go_chan1p1c(void) { return go_run("chan1p1c"); }

/* ---- Python (bench/py_peers.py --serve, started once; $CF_BENCH_PY names the script) ---- */

static FILE *py_to, *py_from;
static pid_t py_pid;

bool py_peers_available(void) { return named("CF_BENCH_PY"); }

static void py_stop(void)
{
    fclose(py_to);                          /* its loop over stdin ends */
    fclose(py_from);
    waitpid(py_pid, NULL, 0);
}

static void py_start(void)
{
    int to[2], from[2];
    check(pipe(to) == 0 && pipe(from) == 0, "pipes to python");
    py_pid = fork();
    check(py_pid >= 0, "fork python");
    if (py_pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        char *argv[] = { "python3", (char *)getenv("CF_BENCH_PY"), "--serve", NULL };
        execvp("python3", argv);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    py_to = fdopen(to[1], "w");
    py_from = fdopen(from[0], "r");
    check(py_to && py_from, "fdopen");
    atexit(py_stop);
}

static double py_run(const char *key)
{
    if (!py_pid)
        py_start();
    fprintf(py_to, "%s\n", key);
    fflush(py_to);
    double v = 0;
    check(fscanf(py_from, "%lf", &v) == 1, "py_peers output");
    return v;
}

#define PY_PEER(name, key) double name(void) { return py_run(key); }
PY_PEER(py_pool_tasks, "pool_tasks")
PY_PEER(py_pool_p50, "pool_p50")
PY_PEER(py_pool_p99, "pool_p99")
PY_PEER(py_proc_tasks, "proc_tasks")
PY_PEER(py_proc_map, "proc_map")
PY_PEER(py_mp_map, "mp_map")
PY_PEER(py_proc_p50, "proc_p50")
PY_PEER(py_proc_p99, "proc_p99")
PY_PEER(py_asyncio_switches, "asyncio_switches")
PY_PEER(py_asyncio_spawns, "asyncio_spawns")
PY_PEER(py_asyncio_exec_p50, "asyncio_exec_p50")
PY_PEER(py_asyncio_exec_p99, "asyncio_exec_p99")
PY_PEER(py_asyncio_queue_rt, "asyncio_queue_rt")
PY_PEER(py_threading_event_rt, "threading_event_rt")
PY_PEER(py_asyncio_lock, "asyncio_lock")
PY_PEER(py_proc_primes, "proc_primes")

/* ---- 1M pool tasks, results handled on the loop ---- */

static void *triv(void *a) { return a; }

static void *submit_and_await(void *pool)
{
    cf_future **fs = malloc(POOL_TASKS * sizeof *fs);
    check(fs != NULL, "memory");
    for (intptr_t i = 0; i < POOL_TASKS; i++)
        check((fs[i] = cf_submit(pool, triv, (void *)i)) != NULL, "submit");
    for (intptr_t i = 0; i < POOL_TASKS; i++) {
        void *v;
        check(cf_await(fs[i], CF_FOREVER, &v) == 0 && v == (void *)i, "await");
        cf_future_unref(fs[i]);
    }
    free(fs);
    return NULL;
}

double cf_coro_pool_tasks(void)
{
    cf_executor *pool = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    cf_loop *loop = cf_loop_new();
    check(pool && loop, "pool and loop");
    double t0 = now();
    cf_future *f = cf_loop_spawn(loop, submit_and_await, pool);
    check(cf_loop_run_until_complete(loop, f, NULL) == 0, "submit and await");
    double t = now() - t0;
    cf_future_unref(f);
    cf_loop_free(loop);
    cf_executor_free(pool);
    return POOL_TASKS / t;
}

#ifdef CF_BENCH_UV
#include <uv.h>

static long uv_done;
static intptr_t uv_sum;

static void uv_work(uv_work_t *req) { (void)req; }

static void uv_after(uv_work_t *req, int status)
{
    check(status == 0, "uv_queue_work status");
    uv_done++;
    uv_sum += (intptr_t)req->data;
}

double uv_pool_tasks(void)
{
    setenv("UV_THREADPOOL_SIZE", "2", 1);    /* read once, at the pool's first use */
    uv_work_t *reqs = malloc(POOL_TASKS * sizeof *reqs);
    check(reqs != NULL, "memory");
    uv_loop_t loop;
    check(uv_loop_init(&loop) == 0, "uv_loop_init");
    uv_done = 0;
    uv_sum = 0;
    double t0 = now();
    for (intptr_t i = 0; i < POOL_TASKS; i++) {
        reqs[i].data = (void *)i;
        check(uv_queue_work(&loop, &reqs[i], uv_work, uv_after) == 0, "uv_queue_work");
    }
    check(uv_run(&loop, UV_RUN_DEFAULT) == 0, "uv_run");
    double t = now() - t0;
    check(uv_done == POOL_TASKS && uv_sum == (intptr_t)POOL_TASKS * (POOL_TASKS - 1) / 2,
          "uv results");
    uv_loop_close(&loop);
    free(reqs);
    return POOL_TASKS / t;
}
#endif
