/* SPDX-License-Identifier: MIT */
/* bench_process.c: the process pool's figures (group "process pool:" and "cpu-bound:"): trivial
 * tasks one by one and through cf_map, idle-pool latency, and counting primes end to end against
 * serial C. Python's ProcessPoolExecutor and multiprocessing.Pool rows come from py_peers.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cfutures.h>

#include "bench.h"
#include "../examples/primes.h"

enum { PTASKS = 1000000, PRIMES_N = 20000000, PRIMES_CHUNKS = 64 };

static void *triv(void *a) { return a; }

static cf_executor *proc_pool(void)
{
    cf_executor *ex = cf_process_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    check(ex != NULL, "cf_process_pool_new");
    return ex;
}

static double submit_all(void) { return submit_wait_all(proc_pool(), PTASKS); }

/* PTASKS trivial items through cf_map in chunks of 256. warm: one untimed map of the same size
 * first, on a pool whose arrays existed before it (steady state). Cold: the same map as the first
 * thing a fresh pool does: it pays a one-time page fault for every page it writes
 * (copy-on-write: the fork server keeps the pool-creation snapshot) and for fresh heap; the
 * docs/performance.md says how much. */
static double map256_run(bool warm)
{
    void **args = malloc(PTASKS * sizeof *args), **res = malloc(PTASKS * sizeof *res);
    for (intptr_t i = 0; i < PTASKS; i++)
        args[i] = (void *)i;
    cf_executor *ex = proc_pool();
    if (warm)
        check(cf_map(ex, triv, args, res, PTASKS, 256, CF_FOREVER) == 0, "process cf_map warm-up");
    double t0 = now();
    check(cf_map(ex, triv, args, res, PTASKS, 256, CF_FOREVER) == 0, "process cf_map");
    double t = now() - t0;
    for (intptr_t i = 0; i < PTASKS; i++)
        check(res[i] == (void *)i, "process cf_map results");
    free(args);
    free(res);
    cf_executor_free(ex);
    return PTASKS / t;
}
static double map256(void) { return map256_run(true); }
static double map256_cold(void) { return map256_run(false); }

static void latency_run(void) { latency_samples(proc_pool()); }
static double lat_p50(void) { latency_run(); return pct(0.50); }
static double lat_p99(void)
{
    latency_run();
    double v = pct(0.99);
    dump_latency("process");
    return v;
}

/* ---- cpu-bound: count primes below PRIMES_N (the demo's workload, primes.h) ---- */

static uint32_t lo_of(int i) { return (uint32_t)((uint64_t)PRIMES_N * (uint64_t)i / PRIMES_CHUNKS); }

static double primes_serial(void)
{
    double t0 = now();
    uint64_t c = count_range(0, PRIMES_N);
    double t = now() - t0;
    check(c == 1270607, "primes below 20M");
    return PRIMES_N / t;
}

static double primes_pool(void)
{
    cf_executor *ex = proc_pool();
    cf_future *fs[PRIMES_CHUNKS];
    double t0 = now();
    for (int i = 0; i < PRIMES_CHUNKS; i++)
        fs[i] = cf_submit(ex, count_range_task, pack_range(lo_of(i), lo_of(i + 1)));
    uint64_t c = 0;
    for (int i = 0; i < PRIMES_CHUNKS; i++) {
        void *v;
        check(cf_future_result(fs[i], CF_FOREVER, &v) == 0, "primes result");
        c += (uint64_t)(uintptr_t)v;
        cf_future_unref(fs[i]);
    }
    double t = now() - t0;
    check(c == 1270607, "primes below 20M (pool)");
    cf_executor_free(ex);
    return PRIMES_N / t;
}

void process_pool_figures(void)
{
    figure("process pool: 1M trivial tasks, submit then wait all, 2 workers", "cfutures", "tasks/s", submit_all);
    if (py_peers_available())
        figure("process pool: 1M trivial tasks, submit then wait all, 2 workers", "Python ProcessPoolExecutor (20k tasks)", "tasks/s", py_proc_tasks);
    figure("process pool: cf_map 1M items, chunksize 256, 2 workers", "cfutures", "items/s", map256);
    if (py_peers_available()) {
        figure("process pool: cf_map 1M items, chunksize 256, 2 workers", "Python ProcessPoolExecutor.map", "items/s", py_proc_map);
        figure("process pool: cf_map 1M items, chunksize 256, 2 workers", "Python multiprocessing.Pool.map", "items/s", py_mp_map);
    }
    figure("process pool: first cf_map 1M items after creating the pool", "cfutures", "items/s", map256_cold);
    figure("process pool: idle-pool submit->result latency p50", "cfutures", "us", lat_p50);
    if (py_peers_available())
        figure("process pool: idle-pool submit->result latency p50", "Python ProcessPoolExecutor", "us", py_proc_p50);
    figure("process pool: idle-pool submit->result latency p99", "cfutures", "us", lat_p99);
    if (py_peers_available())
        figure("process pool: idle-pool submit->result latency p99", "Python ProcessPoolExecutor", "us", py_proc_p99);
    figures_flush();                    /* the pending group runs with every repetition */
    int saved = reps;
    reps = reps < 3 ? reps : 3;         /* seconds per run: three are enough for a median */
    figure("cpu-bound: primes below 20M in 64 chunks, 2 workers", "cfutures", "numbers/s", primes_pool);
    figure("cpu-bound: primes below 20M in 64 chunks, 2 workers", "serial C (1 core)", "numbers/s", primes_serial);
    if (py_peers_available())
        figure("cpu-bound: primes below 20M in 64 chunks, 2 workers", "Python ProcessPoolExecutor (pure Python, below 1M)", "numbers/s", py_proc_primes);
    figures_flush();
    reps = saved;
}
