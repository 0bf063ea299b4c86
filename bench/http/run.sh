#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/http/run.sh: wrk against examples/http_hello.c ("/", answered from memory), Go's net/http
# and aiohttp serving the same response, interleaved repetitions. Prints TSV rows for
# bench/report.py: requests/s, p50 and p99 latency (wrk's, 64 connections, 1 thread).
# Usage: run.sh BUILDDIR [REPS] [SECONDS]   (BUILDDIR: where cf_http_hello was built)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$1
reps=${2:-3}
secs=${3:-3}
. "$root/tools/deps.sh"
cf_install_deps wrk golang-go python3-aiohttp >&2
. "$root/bench/lib.sh"
bench_scratch
go_build "$here" hello.go "$out/go_hello"
declare -a names cmds
names=("cfutures" "Go net/http" "aiohttp")
cmds=("$build/examples/cf_http_hello 0" "$out/go_hello" "/usr/bin/python3 $here/hello_aiohttp.py")
raw="$out/raw.tsv"
: >"$raw"
for rep in $(seq "$reps"); do
    for i in "${!names[@]}"; do
        serve ${cmds[$i]}
        res=$(wrk -t1 -c64 -d"${secs}s" --latency "http://127.0.0.1:$port/" 2>/dev/null)
        unserve
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$res")
        p50=$(awk '$1 == "50%" {print $2}' <<<"$res")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$res")
        printf '%s\t%s\t%s\t%s\n' "${names[$i]}" "$rps" "$p50" "$p99" >>"$raw"
    done
done
python3 - "$raw" "$root/bench" <<'PY'
import re, sys
from collections import OrderedDict
sys.path.insert(0, sys.argv[2])
from pairs import row
def us(t):
    m = re.match(r"([\d.]+)(us|ms|s)", t)
    v = float(m.group(1))
    return v * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
rows = OrderedDict()
for line in open(sys.argv[1]):
    impl, rps, p50, p99 = line.rstrip("\n").split("\t")
    rows.setdefault(impl, []).append((float(rps), us(p50), us(p99)))
for metric, idx, unit in (("requests/s", 0, "req/s"), ("p50 latency", 1, "us"), ("p99 latency", 2, "us")):
    for impl, v in rows.items():
        xs = [x[idx] for x in v]
        cf = None if impl == "cfutures" else [x[idx] for x in rows["cfutures"]]
        fig = f"http: wrk, 64 connections, GET / (14 bytes; cfutures: examples/http_hello.c), {metric}"
        print(row(fig, impl, xs, unit, cf))
PY
