/* SPDX-License-Identifier: MIT */
/* mpi_primes.c: the demo's prime count on the ranks of an MPI job, with the same task code as
 * the process-pool version (primes.h: count_range_task, and count_on_executor, which the demo's
 * process-pool count uses too). Every rank runs this program; rank 0 gets the executor,
 * the others serve inside cf_mpi_pool_new until rank 0 frees it.
 *   mpirun -n 3 ./cf_mpi_primes [N [CHUNKS]]      (tools/demo.sh --mpi runs it on 3 local ranks)
 * Prints the count found serially on rank 0 and through the MPI pool, and the times. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cfutures.h>
#include <cfutures/mpi.h>

#include "primes.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 5000000;
    int chunks = argc > 2 ? atoi(argv[2]) : 64;
    if (chunks < 1)
        chunks = 1;

    cf_executor *ex = cf_mpi_pool_new(MPI_COMM_WORLD, NULL);
    if (!ex) {
        int err = errno;
        if (err)                         /* 0: a worker rank, done serving */
            fprintf(stderr, "rank %d: cf_mpi_pool_new: %s\n", rank, cf_strerror(err));
        MPI_Finalize();
        return err ? 1 : 0;
    }
    double t0 = now();
    uint64_t serial = count_range(0, n);
    double t1 = now();
    uint64_t total = 0;
    int err = count_on_executor(ex, n, chunks, &total);
    double t2 = now();
    cf_executor_free(ex);
    if (err)
        fprintf(stderr, "MPI pool: %s\n", cf_strerror(err));
    else
        printf("primes below %u: %llu serially in %.3f s; %llu on %d worker ranks in %.3f s "
               "(%.2fx)\n", n, (unsigned long long)serial, t1 - t0, (unsigned long long)total,
               size - 1, t2 - t1, (t1 - t0) / (t2 - t1));
    MPI_Finalize();
    return err || total != serial;
}
