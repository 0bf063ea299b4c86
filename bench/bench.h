/* SPDX-License-Identifier: MIT */
/* bench.h: what the benchmark files share: the figure runner, the clock, result checks and the
 * latency sample buffer. */
#ifndef CF_BENCH_H
#define CF_BENCH_H

#include <stdbool.h>

enum { LAT_SAMPLES = 2000 };
extern int    reps;
extern double lat_p[LAT_SAMPLES];

double now(void);
void   check(bool ok, const char *what);
int    cmp_double(const void *a, const void *b);
extern const char *bench_filter;        /* only figures whose name contains it run */
/* Adds fn to the figure's group (figure.c): consecutive calls with one figure name are run
 * together, repetitions interleaved, when the next name comes or at figures_flush(); prints a
 * TSV row each (median, min, max; peers: the median ratio of pairs with cfutures). */
void   figure(const char *fig, const char *impl, const char *unit, double (*fn)(void));
/* Runs the pending group now: before changing anything its functions read, and at the end. */
void   figures_flush(void);
/* Two implementations of one figure, their repetitions interleaved (a, b, a, b...: drift on a
 * shared machine hits both alike); prints both rows, b's with an eighth column, the median of
 * the per-repetition ratios a/b (bench/report.py prefers it to the ratio of medians). The
 * medians go to *ma and *mb. */
void   figure_pair(const char *fig, const char *unit, const char *impl_a, double (*a)(void),
                   const char *impl_b, double (*b)(void), double *ma, double *mb);
double pct(double p);                   /* percentile of lat_p, in microseconds */
/* Starts n threads (n <= 16), thread i running fn(i, arg), lets them go together and returns
 * the seconds from then until the last has been joined. The threads must not block before
 * they begin. */
double run_threads(int n, void *(*fn)(int i, void *arg), void *arg);
void   dump_latency(const char *impl);  /* lat_p to $CF_BENCH_DATA/latency_<impl>.dat */

#include <cfutures.h>
/* n trivial tasks submitted to ex, then every result checked; frees ex. Returns tasks/s. */
double submit_wait_all(cf_executor *ex, long n);
/* The same with task fn (which must return its argument). */
double submit_wait_fn(cf_executor *ex, long n, cf_fn fn);
/* LAT_SAMPLES submit->result round trips on ex, each on an idle pool, into lat_p; frees ex.
 * Called in a coroutine, its sleeps and waits suspend the coroutine (bench_loop.c). */
void   latency_samples(cf_executor *ex);

void   process_pool_figures(void);      /* bench_process.c */
void   loop_figures(void);              /* bench_loop.c */
void   sync_figures(void);              /* bench_sync.c */
void   scaling_figures(void);           /* bench_scaling.c: bench/run --scaling */
double wfcq_best_1p1c(void);          /* bench_wfcq.c: raw cds_wfcq at its best */
double wfcq_best_2p2c(void);
/* peers.c: Go (when $CF_BENCH_GO names bench/go_peers.go built), libuv's thread pool */
bool   go_peers_available(void);
double go_spawn(void);                  /* goroutines/s */
double go_pingpong(void);               /* us per round trip, unbuffered channels */
double go_chan1p1c(void);               /* items/s through a channel buffered to 1024 */
double cf_coro_pool_tasks(void);        /* a coroutine submits 1M tasks and awaits each */
double uv_pool_tasks(void);             /* CF_BENCH_UV: 1M uv_queue_work */
/* peers.c: Python's peers, one repetition each (bench/py_peers.py), when $CF_BENCH_PY is set */
bool   py_peers_available(void);
double py_pool_tasks(void), py_pool_p50(void), py_pool_p99(void), py_proc_tasks(void),
       py_proc_map(void), py_mp_map(void), py_proc_p50(void), py_proc_p99(void),
       py_asyncio_switches(void), py_asyncio_spawns(void), py_asyncio_exec_p50(void),
       py_asyncio_exec_p99(void), py_asyncio_queue_rt(void), py_threading_event_rt(void),
       py_asyncio_lock(void), py_proc_primes(void);
/* peers_cxx.cpp */
double tbb_task_group(void);            /* CF_BENCH_TBB */
double tbb_parallel_for(void);
double fcontext_switches(void);         /* CF_BENCH_FCONTEXT */

#endif
