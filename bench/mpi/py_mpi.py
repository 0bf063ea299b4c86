# SPDX-License-Identifier: MIT
"""py_mpi.py: the mpi4py.futures peer of bench/mpi/cf_mpi_bench.c, run under mpirun with Debian's
/usr/bin/python3 (python3-mpi4py): MPICommExecutor, the SPMD executor whose shape cf_mpi_pool_new
copies. Usage: py_mpi.py submit N | map N CHUNK. Prints tasks/s or items/s on the root, after a
warm-up pass of N/10, checking every result."""
import sys
import time

from mpi4py import MPI
from mpi4py.futures import MPICommExecutor


def plus_one(x):
    return x + 1


def submit_all(ex, n):
    t0 = time.perf_counter()
    fs = [ex.submit(plus_one, i) for i in range(n)]
    ok = all(f.result() == i + 1 for i, f in enumerate(fs))
    return n / (time.perf_counter() - t0), ok


def map_all(ex, n, chunk):
    t0 = time.perf_counter()
    res = list(ex.map(plus_one, range(n), chunksize=chunk))
    rate = n / (time.perf_counter() - t0)
    return rate, res == list(range(1, n + 1))


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    chunk = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with MPICommExecutor(MPI.COMM_WORLD, root=0) as ex:
        if ex is None:
            return 0
        run = (lambda k: submit_all(ex, k)) if mode == "submit" else (lambda k: map_all(ex, k, chunk))
        run(n // 10 + 1)
        rate, ok = run(n)
        if not ok:
            print("py_mpi: wrong results", file=sys.stderr)
            return 1
        print(f"{rate:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
