/* SPDX-License-Identifier: MIT */
/* cf_mpi_bench.c: the MPI executor's benchmark figures, run under mpirun (bench/mpi/run.sh).
 *   cf_mpi_bench submit N    N trivial tasks submitted, then all waited for: tasks/s
 *   cf_mpi_bench map N C     cf_map of N items, chunksize C: items/s
 *   cf_mpi_bench rtt N       N tasks one at a time (submit, wait): us per round trip
 * Each checks its results and prints one number on rank 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cfutures.h>
#include <cfutures/mpi.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *plus_one(void *arg) { return (void *)((uintptr_t)arg + 1); }

static int submit_all(cf_executor *ex, size_t n, double *out)
{
    cf_future **fs = malloc(n * sizeof *fs);
    if (!fs)
        return ENOMEM;
    double t0 = now();
    for (size_t i = 0; i < n; i++)
        if (!(fs[i] = cf_submit(ex, plus_one, (void *)(uintptr_t)i)))
            return errno;
    int err = 0;
    for (size_t i = 0; i < n; i++) {
        void *v;
        if (cf_future_result(fs[i], CF_FOREVER, &v) || (uintptr_t)v != i + 1)
            err = EIO;
    }
    *out = (double)n / (now() - t0);
    for (size_t i = 0; i < n; i++)
        cf_future_unref(fs[i]);
    free(fs);
    return err;
}

static int map_all(cf_executor *ex, size_t n, size_t chunk, double *out)
{
    void **args = malloc(n * sizeof *args), **res = malloc(n * sizeof *res);
    if (!args || !res)
        return ENOMEM;
    for (size_t i = 0; i < n; i++)
        args[i] = (void *)(uintptr_t)i;
    double t0 = now();
    int err = cf_map(ex, plus_one, args, res, n, chunk, CF_FOREVER);
    *out = (double)n / (now() - t0);
    for (size_t i = 0; !err && i < n; i++)
        if ((uintptr_t)res[i] != i + 1)
            err = EIO;
    free(args);
    free(res);
    return err;
}

static int round_trips(cf_executor *ex, size_t n, double *out)
{
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        cf_future *f = cf_submit(ex, plus_one, (void *)(uintptr_t)i);
        void *v;
        if (!f || cf_future_result(f, CF_FOREVER, &v) || (uintptr_t)v != i + 1)
            return EIO;
        cf_future_unref(f);
    }
    *out = (now() - t0) / (double)n * 1e6;
    return 0;
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    if (argc < 3) {
        fprintf(stderr, "usage: cf_mpi_bench submit|map|rtt N [CHUNK]\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    size_t n = strtoull(argv[2], NULL, 10), chunk = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    cf_executor *ex = cf_mpi_pool_new(MPI_COMM_WORLD, NULL);
    int err = ex ? 0 : errno;
    if (ex) {
        double v = 0;
        /* One warm-up pass: the ranks' windows open and the caches fill. */
        if (!strcmp(argv[1], "submit"))
            err = submit_all(ex, n / 10 + 1, &v) ?: submit_all(ex, n, &v);
        else if (!strcmp(argv[1], "map"))
            err = map_all(ex, n / 10 + 1, chunk, &v) ?: map_all(ex, n, chunk, &v);
        else
            err = round_trips(ex, n / 10 + 1, &v) ?: round_trips(ex, n, &v);
        if (!err)
            printf("%.6g\n", v);
        cf_executor_free(ex);
    }
    if (err)
        fprintf(stderr, "cf_mpi_bench: %s\n", cf_strerror(err));
    MPI_Finalize();
    return err != 0;
}
