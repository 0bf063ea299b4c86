#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/echo/run.sh: the TCP echo servers against one client, interleaved: every repetition runs
# every server once per message size, so drift on this shared machine hits them all alike.
# Servers: cfutures (a coroutine per connection, cf_stream_read + cf_stream_write), libuv, Go's net
# (a goroutine per connection), asyncio and uvloop with streams and with protocols (Debian's
# /usr/bin/python3, which has uvloop), and a raw single-threaded epoll loop as the floor.
# Client: bench/echo/client.c, 10 connections on one epoll thread, each sending a message and
# waiting for its echo before the next. Prints TSV rows (figure, impl, median, min, max, unit,
# reps, and for peers the median of per-repetition ratios, bench/pairs.py) for bench/report.py:
# requests/s, and p50 and p99 latency.
# Usage: run.sh LIBDIR [REPS] [SECONDS]   (LIBDIR: where libcfutures.so was built)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=$1
reps=${2:-3}
secs=${3:-2}
. "$root/tools/deps.sh"
cf_install_deps libuv1-dev golang-go python3-uvloop >&2
. "$root/bench/lib.sh"
bench_scratch
cc="gcc -O2 -Wall"
$cc "$here/client.c" -o "$out/client"
$cc "$here/epoll_echo.c" -o "$out/epoll_echo"
$cc "$here/uv_echo.c" -o "$out/uv_echo" $(pkg-config --cflags --libs libuv)
$cc -I"$root/include" "$here/cf_echo.c" -o "$out/cf_echo" -L"$lib" -lcfutures -Wl,-rpath,"$lib"
go_build "$here" echo.go "$out/go_echo"
py=/usr/bin/python3
declare -a names cmds
add() { names+=("$1"); cmds+=("$2"); }
add "cfutures" "$out/cf_echo"
add "raw epoll loop (the floor)" "$out/epoll_echo"
add "libuv" "$out/uv_echo"
add "Go net (goroutine per connection)" "$out/go_echo"
if $py -c 'import uvloop' 2>/dev/null; then
    add "uvloop protocols" "$py $here/py_echo.py uvloop protocols"
    add "uvloop streams" "$py $here/py_echo.py uvloop streams"
fi
add "asyncio protocols" "$py $here/py_echo.py asyncio protocols"
add "asyncio streams" "$py $here/py_echo.py asyncio streams"
raw="$out/raw.tsv"
: >"$raw"
for rep in $(seq "$reps"); do
    for size in 1024 10240 102400; do
        for i in "${!names[@]}"; do
            serve ${cmds[$i]}
            res=$("$out/client" "$port" 10 "$size" "$secs")
            unserve
            printf '%s\t%s\t%s\n' "$size" "${names[$i]}" "$res" >>"$raw"
        done
    done
done
python3 - "$raw" "$reps" "$root/bench" <<'PY'
import sys
from collections import OrderedDict
sys.path.insert(0, sys.argv[3])
from pairs import row
rows = OrderedDict()
for line in open(sys.argv[1]):
    size, impl, res = line.rstrip("\n").split("\t")
    rps, p50, p99 = map(float, res.split())
    rows.setdefault((int(size), impl), []).append((rps, p50, p99))
label = {1024: "1 KiB", 10240: "10 KiB", 102400: "100 KiB"}
for metric, idx, unit in (("requests/s", 0, "req/s"), ("p50 latency", 1, "us"), ("p99 latency", 2, "us")):
    for (size, impl), v in rows.items():
        xs = [x[idx] for x in v]
        cf = None if impl == "cfutures" else [x[idx] for x in rows[(size, "cfutures")]]
        print(row(f"echo: 10 connections, {label[size]} messages, {metric}", impl, xs, unit, cf))
PY
