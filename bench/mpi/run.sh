#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/mpi/run.sh: the MPI executor against its peers, on local ranks, interleaved repetition by
# repetition: cfutures' cf_mpi_pool_new (bench/mpi/cf_mpi_bench.c) and mpi4py.futures'
# MPICommExecutor (py_mpi.py, Debian's python3-mpi4py under /usr/bin/python3), each on 3 ranks
# (the root and 2 serving ranks), doing 20k trivial submits and a 1M-item map with chunksize 256;
# and the floor for a pipelined task, a raw MPI_Send/MPI_Recv ping-pong between two ranks.
# Prints TSV rows (figure, impl, median, min, max, unit, reps) for bench/report.py.
# Usage: run.sh BUILDDIR [REPS]   (BUILDDIR: a build with libcfutures_mpi)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$1
reps=${2:-3}
. "$root/tools/deps.sh"
cf_install_deps libopenmpi-dev openmpi-bin python3-mpi4py >&2
. "$root/bench/lib.sh"
bench_scratch
lib="$build/src/mpi"
[ -f "$lib/libcfutures_mpi.so" ] || { echo "run.sh: no libcfutures_mpi in $build" >&2; exit 1; }
flags=$(pkg-config --cflags --libs mpi-c)
gcc -O2 -Wall -I"$root/include" "$here/cf_mpi_bench.c" -o "$out/cf_mpi_bench" -L"$lib" -L"$build" \
    -lcfutures_mpi -lcfutures $flags -Wl,-rpath,"$lib" -Wl,-rpath,"$build"
gcc -O2 -Wall "$here/pingpong.c" -o "$out/pingpong" $flags
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
py=/usr/bin/python3
have_py=yes
$py -c 'import mpi4py.futures' 2>/dev/null || have_py=""
mpi() { mpirun --oversubscribe -n "$1" "${@:2}" 2>/dev/null | tail -1; }
raw="$out/raw.tsv"
: >"$raw"
for rep in $(seq "$reps"); do
    printf 'submit\tcfutures\t%s\n' "$(mpi 3 "$out/cf_mpi_bench" submit 20000)" >>"$raw"
    [ -n "$have_py" ] && printf 'submit\tmpi4py\t%s\n' "$(mpi 3 $py "$here/py_mpi.py" submit 20000)" >>"$raw"
    printf 'map\tcfutures\t%s\n' "$(mpi 3 "$out/cf_mpi_bench" map 1000000 256)" >>"$raw"
    [ -n "$have_py" ] && printf 'map\tmpi4py\t%s\n' "$(mpi 3 $py "$here/py_mpi.py" map 1000000 256)" >>"$raw"
    printf 'cost\tcfutures\t%s\n' "$(mpi 3 "$out/cf_mpi_bench" submit 20000)" >>"$raw"
    printf 'cost\traw\t%s\n' "$(mpi 2 "$out/pingpong" 100000)" >>"$raw"
    printf 'rtt\tcfutures\t%s\n' "$(mpi 3 "$out/cf_mpi_bench" rtt 5000)" >>"$raw"
done
[ -z "$have_py" ] && echo "bench/mpi: mpi4py.futures not importable by $py: its rows are skipped" >&2
python3 - "$raw" "$reps" "$root/bench" <<'PY'
import sys
from collections import OrderedDict
sys.path.insert(0, sys.argv[3])
from pairs import row
rows = OrderedDict()
for line in open(sys.argv[1]):
    what, impl, v = line.rstrip("\n").split("\t")
    if not v:
        continue
    rows.setdefault((what, impl), []).append(float(v))
names = {"cfutures": "cfutures", "mpi4py": "mpi4py.futures MPICommExecutor",
         "raw": "raw MPI_Send/MPI_Recv round trip, 2 ranks (the floor)"}
figs = {"submit": ("mpi: 20k trivial submits then wait, 3 ranks", "tasks/s"),
        "map": ("mpi: cf_map 1M items, chunksize 256, 3 ranks", "items/s"),
        "cost": ("mpi: per-task cost pipelined, against one raw round trip", "us"),
        "rtt": ("mpi: one task at a time (submit, wait), 3 ranks", "us")}
if ("cost", "cfutures") in rows:
    rows[("cost", "cfutures")] = [1e6 / x for x in rows[("cost", "cfutures")]]   # tasks/s -> us
for (what, impl), xs in rows.items():
    fig, unit = figs[what]
    cf = None if impl == "cfutures" else rows.get((what, "cfutures"))
    print(row(fig, names[impl], xs, unit, cf))
PY
