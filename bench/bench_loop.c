/* SPDX-License-Identifier: MIT */
/* bench_loop.c: coroutines against their peers, measured in the same run:
 * - the context switch itself: the library's cf__ctx_switch (compiled in from src/loop/) against
 *   glibc's swapcontext, each ping-ponging between two contexts;
 * - the switch between two coroutines as users see it: cf_yield ping-pong through the loop's
 *   scheduler (asyncio's sleep(0) between two tasks is the Python peer, in py_peers.py);
 * - spawning + completing 1M trivial coroutines (asyncio's create_task + gather).
 * A "switch" is one hand-over from one context to another. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "bench.h"
#include "../src/loop/switch.h"

enum { SWITCHES = 4000000, SPAWNS = 1000000 };

/* ---- cf_yield ping-pong ---- */

static long yields_left;

static void *yielder(void *arg)
{
    (void)arg;
    while (yields_left > 0) {
        yields_left--;
        cf_yield();
    }
    return NULL;
}

static double cf_switches(void)
{
    cf_loop *loop = cf_loop_new();
    check(loop != NULL, "loop");
    yields_left = SWITCHES;
    cf_future *a = cf_loop_spawn(loop, yielder, NULL), *b = cf_loop_spawn(loop, yielder, NULL);
    double t0 = now();
    check(cf_loop_run(loop) == 0, "run");
    double t = now() - t0;
    check(yields_left <= 0 && cf_future_done(a) && cf_future_done(b), "all switches");
    cf_future_unref(a);
    cf_future_unref(b);
    cf_loop_free(loop);
    return SWITCHES / t;
}

/* ---- swapcontext ping-pong ---- */

static ucontext_t uc_main, uc_a, uc_b;
static long uc_left;

static void uc_body(int which)
{
    ucontext_t *self = which ? &uc_b : &uc_a, *other = which ? &uc_a : &uc_b;
    while (uc_left > 0) {
        uc_left--;
        swapcontext(self, other);
    }
    swapcontext(self, &uc_main);
}

static double ucontext_switches(void)
{
    static char stack_a[64 * 1024], stack_b[64 * 1024];
    getcontext(&uc_a);
    uc_a.uc_stack.ss_sp = stack_a;
    uc_a.uc_stack.ss_size = sizeof stack_a;
    uc_a.uc_link = &uc_main;
    makecontext(&uc_a, (void (*)(void))uc_body, 1, 0);
    getcontext(&uc_b);
    uc_b.uc_stack.ss_sp = stack_b;
    uc_b.uc_stack.ss_size = sizeof stack_b;
    uc_b.uc_link = &uc_main;
    makecontext(&uc_b, (void (*)(void))uc_body, 1, 1);
    uc_left = SWITCHES;
    double t0 = now();
    swapcontext(&uc_main, &uc_a);
    double t = now() - t0;
    check(uc_left <= 0, "all swaps");
    return SWITCHES / t;
}

/* ---- the primitive: cf__ctx_switch ping-pong ---- */

static cf__ctx raw_main, raw_a, raw_b;
static long raw_left;

static void raw_body(void *arg)
{
    cf__ctx *self = arg, *other = self == &raw_a ? &raw_b : &raw_a;
    while (raw_left > 0) {
        raw_left--;
        cf__ctx_switch(self, other);
    }
    cf__ctx_switch(self, &raw_main);
}

static double raw_switches(void)
{
    static char stack_a[64 * 1024] __attribute__((aligned(16))), stack_b[64 * 1024] __attribute__((aligned(16)));
    cf__ctx_make(&raw_a, stack_a, sizeof stack_a, raw_body, &raw_a);
    cf__ctx_make(&raw_b, stack_b, sizeof stack_b, raw_body, &raw_b);
    raw_left = SWITCHES * 4;
    double t0 = now();
    cf__ctx_switch(&raw_main, &raw_a);
    double t = now() - t0;
    check(raw_left <= 0, "all raw switches");
    return SWITCHES * 4 / t;
}

/* ---- spawn + complete 1M trivial coroutines ---- */

static void *trivial(void *arg) { return arg; }

/* The arrays of futures and results, allocated and faulted in before the clock starts, as Go's
 * result slice is (go_peers.go). */
static cf_future **spawn_fs;
static void **spawn_vals;

static void *spawn_all(void *arg)
{
    (void)arg;
    cf_loop *loop = cf_loop_current();
    cf_future **fs = spawn_fs;
    void **vals = spawn_vals;
    for (intptr_t i = 0; i < SPAWNS; i++)
        fs[i] = cf_loop_spawn(loop, trivial, (void *)i);
    check(cf_gather(fs, SPAWNS, CF_FOREVER, vals) == 0, "gather");
    for (intptr_t i = 0; i < SPAWNS; i++) {
        check(vals[i] == (void *)i, "result");
        cf_future_unref(fs[i]);
    }
    return NULL;
}

/* One loop for all the runs, as an application keeps its loop: a loop keeps its finished
 * coroutines' memory and stacks for the next ones (the warm-up run fills it). */
static cf_loop *spawn_loop;

static double cf_spawns(void)
{
    if (!spawn_loop) {
        spawn_loop = cf_loop_new();
        spawn_fs = calloc(SPAWNS, sizeof *spawn_fs);
        spawn_vals = calloc(SPAWNS, sizeof *spawn_vals);
        check(spawn_loop && spawn_fs && spawn_vals, "loop and arrays");
        memset(spawn_fs, 0, SPAWNS * sizeof *spawn_fs);          /* fault them in */
        memset(spawn_vals, 0, SPAWNS * sizeof *spawn_vals);
    }
    double t0 = now();
    cf_future *f = cf_loop_spawn(spawn_loop, spawn_all, NULL);
    check(cf_loop_run_until_complete(spawn_loop, f, NULL) == 0, "spawn all");
    double t = now() - t0;
    cf_future_unref(f);
    return SPAWNS / t;
}

/* ---- a coroutine awaiting a thread pool's future, pool idle before each sample ---- */

static void *await_samples(void *pool)
{
    latency_samples(pool);   /* in a coroutine: cf_sleep and cf_future_result suspend it */
    return NULL;
}

static void await_latency_run(void)
{
    cf_executor *pool = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    cf_loop *loop = cf_loop_new();
    check(pool && loop, "pool and loop");
    cf_future *f = cf_loop_spawn(loop, await_samples, pool);
    check(cf_loop_run_until_complete(loop, f, NULL) == 0, "await samples");
    cf_future_unref(f);
    cf_loop_free(loop);
}

static double await_p50(void) { await_latency_run(); return pct(0.50); }
static double await_p99(void) { await_latency_run(); return pct(0.99); }
static double thread_p50(void) { latency_samples(cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 })); return pct(0.50); }
static double thread_p99(void) { latency_samples(cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 })); return pct(0.99); }

void loop_figures(void)
{
    figure("coroutine: context switch, ping-pong between two contexts", "cfutures", "switches/s", raw_switches);
    figure("coroutine: context switch, ping-pong between two contexts", "swapcontext (ucontext)", "switches/s", ucontext_switches);
#ifdef CF_BENCH_FCONTEXT
    figure("coroutine: context switch, ping-pong between two contexts", "Boost.Context fcontext", "switches/s", fcontext_switches);
#endif
    if (py_peers_available())
        figure("coroutine: context switch, ping-pong between two contexts", "Python asyncio (task switch: sleep(0))", "switches/s", py_asyncio_switches);
    figure("coroutine: cf_yield between two coroutines, through the loop", "cfutures", "switches/s", cf_switches);
    figure("coroutine: cf_yield between two coroutines, through the loop", "swapcontext (ucontext)", "switches/s", ucontext_switches);
#ifdef CF_BENCH_FCONTEXT
    figure("coroutine: cf_yield between two coroutines, through the loop", "Boost.Context fcontext (a bare switch)", "switches/s", fcontext_switches);
#endif
    if (py_peers_available())
        figure("coroutine: cf_yield between two coroutines, through the loop", "Python asyncio (task switch: sleep(0))", "switches/s", py_asyncio_switches);
    figure("coroutine: spawn + complete 1M trivial coroutines", "cfutures", "coroutines/s", cf_spawns);
    if (go_peers_available())
        figure("coroutine: spawn + complete 1M trivial coroutines", "Go goroutines (GOMAXPROCS = CPUs)", "coroutines/s", go_spawn);
    if (py_peers_available())
        figure("coroutine: spawn + complete 1M trivial coroutines", "Python asyncio create_task + gather", "coroutines/s", py_asyncio_spawns);
    figure("coroutine: 1M thread-pool tasks submitted and their results handled on the loop", "cfutures", "tasks/s", cf_coro_pool_tasks);
#ifdef CF_BENCH_UV
    figure("coroutine: 1M thread-pool tasks submitted and their results handled on the loop", "libuv uv_queue_work", "tasks/s", uv_pool_tasks);
#endif
    figure("coroutine: await an idle thread pool's future, submit->result p50", "cfutures", "us", await_p50);
    figure("coroutine: await an idle thread pool's future, submit->result p50", "cfutures from a plain thread (cf_future_result)", "us", thread_p50);
    if (py_peers_available())
        figure("coroutine: await an idle thread pool's future, submit->result p50", "Python asyncio run_in_executor", "us", py_asyncio_exec_p50);
    figure("coroutine: await an idle thread pool's future, submit->result p99", "cfutures", "us", await_p99);
    figure("coroutine: await an idle thread pool's future, submit->result p99", "cfutures from a plain thread (cf_future_result)", "us", thread_p99);
    if (py_peers_available())
        figure("coroutine: await an idle thread pool's future, submit->result p99", "Python asyncio run_in_executor", "us", py_asyncio_exec_p99);
}
