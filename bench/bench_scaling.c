/* SPDX-License-Identifier: MIT */
/* bench_scaling.c: `bench/run --scaling`, for a machine with more CPUs than this one: the thread
 * pool against GLib's GThreadPool with 1 worker up to one per CPU, on tasks that take 0, 1 and
 * 10 us (each spins that long), repetitions interleaved pool by pool. Each row is submit-then-
 * wait-all throughput; the last column of bench/run's table is then cfutures' advantage, and the
 * stderr summary gives each pool's speed-up over its own single worker (perfect: the number of
 * workers, for tasks long enough to hide the queue). docs/performance.md says what to expect. */
#include <glib.h>
#include <stdio.h>
#include <unistd.h>
#include <urcu/arch.h>

#include "bench.h"

static int     workers;
static int64_t task_ns;
static long    ntasks;

static void spin(void)
{
    if (!task_ns)
        return;
    double end = now() + (double)task_ns * 1e-9;
    while (now() < end)
        caa_cpu_relax();
}

static void *cf_task(void *arg)
{
    spin();
    return arg;
}

static double cf_rate(void)
{
    cf_pool_opts o = CF_POOL_OPTS_INIT;
    o.max_workers = workers;
    return submit_wait_fn(cf_thread_pool_new(&o), ntasks, cf_task);
}

static GMutex mu;
static GCond  cv;
static long   done;

static void g_task(gpointer data, gpointer user)
{
    (void)data;
    (void)user;
    spin();
    g_mutex_lock(&mu);
    if (++done == ntasks)
        g_cond_signal(&cv);
    g_mutex_unlock(&mu);
}

static double glib_rate(void)
{
    done = 0;
    GThreadPool *p = g_thread_pool_new(g_task, NULL, workers, FALSE, NULL);
    double t0 = now();
    for (long i = 0; i < ntasks; i++)
        g_thread_pool_push(p, GINT_TO_POINTER(i + 1), NULL);
    g_mutex_lock(&mu);
    while (done < ntasks)
        g_cond_wait(&cv, &mu);
    g_mutex_unlock(&mu);
    double t = now() - t0;
    g_thread_pool_free(p, FALSE, TRUE);
    return (double)ntasks / t;
}

void scaling_figures(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1)
        ncpu = 1;
    static const int64_t lengths[] = { 0, 1000, 10000 };
    for (size_t l = 0; l < sizeof lengths / sizeof *lengths; l++) {
        task_ns = lengths[l];
        /* About 0.2 s of serial work per figure (1M tasks at least for the trivial ones). */
        ntasks = task_ns ? (long)(200000000 / task_ns) : 1000000;
        double base_cf = 0, base_g = 0;
        for (long w = 1; w <= ncpu; w = w * 2 > ncpu && w < ncpu ? ncpu : w * 2) {
            workers = (int)w;
            char fig[128];
            snprintf(fig, sizeof fig, "scaling sweep: %ld tasks of %lld us, %ld worker%s",
                     ntasks, (long long)(task_ns / 1000), w, w > 1 ? "s" : "");
            double cf = 0, g = 0;
            figure_pair(fig, "tasks/s", "cfutures", cf_rate, "GThreadPool", glib_rate, &cf, &g);
            if (w == 1) {
                base_cf = cf;
                base_g = g;
            }
            fprintf(stderr, "scaling: %lld us tasks, %ld workers: cfutures %.2fx its 1 worker, "
                    "GThreadPool %.2fx\n", (long long)(task_ns / 1000), w,
                    base_cf > 0 ? cf / base_cf : 0, base_g > 0 ? g / base_g : 0);
        }
    }
}
