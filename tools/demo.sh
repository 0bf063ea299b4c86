#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh: the README's first command. Installs what the build needs when it is missing (a
# compiler, CMake, pkg-config, liburcu), builds cfutures (Release) in build-release/ (ignored by
# git) and
# runs the demo: one thread-pool task per file under DIR (default /usr/share), with a progress bar,
# totals, and the speed-up over doing the same serially. Arguments go to the demo (--help).
# demo.sh --mpi [N [CHUNKS]]: the prime count on 3 local MPI ranks instead (installs Open MPI).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
if [ "${1:-}" = --mpi ]; then
    # The prime count on 3 local MPI ranks (examples/mpi_primes.c); further arguments: N, chunks.
    shift
    cf_install_deps libopenmpi-dev openmpi-bin
    cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DCF_BUILD_TESTS=OFF \
        -DCF_BUILD_BENCH=OFF >/dev/null
    cmake --build "$root/build-release" -j"$(nproc)" --target cf_mpi_primes >/dev/null
    # Open MPI refuses to run as root unless told; --oversubscribe: more ranks than CPUs is fine.
    [ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    exec mpirun --oversubscribe -n 3 "$root/build-release/examples/cf_mpi_primes" "$@"
fi
cf_install_deps
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DCF_BUILD_TESTS=OFF \
    -DCF_BUILD_BENCH=OFF >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" --target cf_demo >/dev/null
exec "$root/build-release/examples/cf_demo" "$@"
