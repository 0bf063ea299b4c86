/* SPDX-License-Identifier: MIT */
/* pingpong.c: the floor for the MPI executor's per-task cost: rank 0 sends 8 bytes to rank 1 with
 * MPI_Send, which sends them back, N times (after N/10 to warm up). Prints the round trip in us. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long n = argc > 1 ? atol(argv[1]) : 100000;
    uint64_t word = 0;
    double t0 = 0;
    for (long i = -n / 10; i < n; i++) {
        if (i == 0)
            t0 = MPI_Wtime();
        if (rank == 0) {
            word++;
            MPI_Send(&word, 1, MPI_UINT64_T, 1, 0, MPI_COMM_WORLD);
            MPI_Recv(&word, 1, MPI_UINT64_T, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (rank == 1) {
            MPI_Recv(&word, 1, MPI_UINT64_T, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(&word, 1, MPI_UINT64_T, 0, 0, MPI_COMM_WORLD);
        }
    }
    if (rank == 0)
        printf("%.6g\n", (MPI_Wtime() - t0) / (double)n * 1e6);
    MPI_Finalize();
    return 0;
}
