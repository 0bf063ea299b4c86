#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/plot.sh: SVG plots from a bench run, with gnuplot: RESULTS/latest.tsv and the latency
# samples RESULTS/latency_*.dat (written by cf_bench when CF_BENCH_DATA is set).
#   thread_scaling.svg   tasks/s against the number of workers, cfutures and GThreadPool
#   latency_cdf.svg      distribution of idle-pool submit->result latency (CDF), thread and
#                        process pools
#   pipe_throughput.svg  cf_pipe, pipe(2) and socketpair throughput against message size
#   echo_throughput.svg  TCP echo requests/s against message size, every server (when the run
#                        had the echo group)
# Usage: bench/plot.sh RESULTS_DIR   (CF_PLOT_TERM/CF_PLOT_EXT pick another gnuplot terminal)
set -euo pipefail
dir=${1:?results directory}
tsv="$dir/latest.tsv"
[ -f "$tsv" ] || { echo "plot.sh: no $tsv" >&2; exit 1; }

# scaling: "scaling: 1M trivial tasks, N worker(s)" rows -> workers value per implementation
for impl in cfutures GThreadPool; do
    awk -F'\t' -v impl="$impl" '$1 ~ /^scaling:/ && $2 == impl {
        match($1, /, [0-9]+ worker/); n = substr($1, RSTART + 2, RLENGTH - 9);
        printf "%s %.4f %.4f %.4f\n", n, $3 / 1e6, $4 / 1e6, $5 / 1e6 }' "$tsv" | sort -n >"$dir/scaling_$impl.dat"
done
# pipe throughput: "ipc: 256 MiB in SIZE messages" rows
for impl in cfutures "pipe(2)" socketpair; do
    f="$dir/pipe_$(echo "$impl" | tr -cd 'a-z0-9').dat"
    awk -F'\t' -v impl="$impl" '$1 ~ /^ipc: 256 MiB in / && $2 == impl {
        split($1, w, " "); v = w[5]; u = w[6];
        b = v * (u == "KiB" ? 1024 : u == "MiB" ? 1048576 : 1);
        printf "%d %.4f %.4f %.4f\n", b, $3 / 1e9, $4 / 1e9, $5 / 1e9 }' "$tsv" | sort -n >"$f"
done

term=${CF_PLOT_TERM:-"svg size 720,440 dynamic font 'sans,12'"}
gnuplot <<GP
set terminal $term
set termoption noenhanced
set grid
set key top left

set output "$dir/thread_scaling.${CF_PLOT_EXT:-svg}"
set title "Thread pool: 1M trivial tasks, submit then wait all (median, min-max)"
set xlabel "workers ($(nproc) CPUs)"
set ylabel "million tasks/s"
set xtics (1, 2, 4, 8)
set xrange [0.8:10]
set yrange [0:*]
set logscale x 2
plot "$dir/scaling_cfutures.dat" using 1:2:3:4 with yerrorlines lw 2 title "cfutures", \
     "$dir/scaling_GThreadPool.dat" using 1:2:3:4 with yerrorlines lw 2 title "GThreadPool"

set output "$dir/latency_cdf.${CF_PLOT_EXT:-svg}"
set autoscale x
set title "Idle pools (2 workers): submit -> result latency, CDF"
unset logscale x
set xtics auto
set logscale x 10
set xlabel "microseconds"
set ylabel "fraction of submits"
set key bottom right
plot "$dir/latency_cfutures.dat" using 1:2 with lines lw 2 title "cfutures thread pool", \
     "$dir/latency_GThreadPool.dat" using 1:2 with lines lw 2 title "GThreadPool", \
     "$dir/latency_process.dat" using 1:2 with lines lw 2 title "cfutures process pool"

set output "$dir/pipe_throughput.${CF_PLOT_EXT:-svg}"
set autoscale x
set title "Between two processes: 256 MiB in messages of a given size (median, min-max)"
set logscale x 2
set xtics ("64 B" 64, "4 KiB" 4096, "64 KiB" 65536, "1 MiB" 1048576)
set xlabel "message size"
set ylabel "GB/s"
set key top left
plot "$dir/pipe_cfutures.dat" using 1:2:3:4 with yerrorlines lw 2 title "cf_pipe", \
     "$dir/pipe_pipe2.dat" using 1:2:3:4 with yerrorlines lw 2 title "pipe(2)", \
     "$dir/pipe_socketpair.dat" using 1:2:3:4 with yerrorlines lw 2 title "socketpair"
GP
# echo: "echo: 10 connections, SIZE messages, requests/s" rows, one line per server
if grep -q '^echo: .*requests/s' "$tsv"; then
    plots=""
    n=0
    while IFS= read -r impl; do
        f="$dir/echo_$n.dat"
        awk -F'\t' -v impl="$impl" '$1 ~ /^echo: .*requests\/s/ && $2 == impl {
            split($1, w, " "); kib = w[4] + 0;
            printf "%d %.4f %.4f %.4f\n", kib, $3 / 1e3, $4 / 1e3, $5 / 1e3 }' "$tsv" | sort -n >"$f"
        plots="$plots${plots:+, }\"$f\" using 1:2:3:4 with yerrorlines lw 2 title \"$impl\""
        n=$((n + 1))
    done < <(awk -F'\t' '$1 ~ /^echo: .*requests\/s/ { print $2 }' "$tsv" | awk '!seen[$0]++')
    gnuplot <<GP
set terminal $term
set termoption noenhanced
set grid
set output "$dir/echo_throughput.${CF_PLOT_EXT:-svg}"
set title "TCP echo, 10 connections: requests/s against message size (median, min-max)"
set logscale x 10
set xtics ("1 KiB" 1, "10 KiB" 10, "100 KiB" 100)
set xrange [0.8:130]
set xlabel "message size"
set ylabel "thousand requests/s"
set yrange [0:*]
set key top right
plot $plots
GP
    rm -f "$dir"/echo_*.dat
fi
echo "plots: $dir/thread_scaling.svg $dir/latency_cdf.svg $dir/pipe_throughput.svg" >&2
