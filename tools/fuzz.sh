#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz.sh: builds the libFuzzer targets (tests/fuzz: cf_pipe records and chunks, cf_mpqueue
# records, the process pool's task and result messages) with clang, ASan and UBSan, writes a
# corpus of valid messages (fuzz_seeds), and runs each target for SECONDS (default 30). Fails if
# a target finds a crash, a leak or undefined behaviour; prints each target's executions.
# Usage: tools/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
cf_install_deps clang libfuzzer-14-dev
secs=${1:-30}
dir="$root/build-fuzz"
CC=clang cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCF_FUZZ=ON -DCF_MPI=OFF \
    -DCF_SANITIZE=address,undefined -DCF_BUILD_TESTS=OFF -DCF_BUILD_EXAMPLES=OFF -DCF_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
corpus="$dir/corpus"
rm -rf "$corpus"
"$dir/tests/fuzz/fuzz_seeds" "$corpus"
for t in pipe mpqueue wire; do
    mkdir -p "$corpus/$t.found"
    log="$dir/fuzz_$t.log"
    # Crash files go to the build folder; a finding makes libFuzzer exit non-zero, and so us.
    if ! (cd "$dir" && "./tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
            -rss_limit_mb=2048 -timeout=10 "$corpus/$t.found" "$corpus/$t" >"$log" 2>&1); then
        tail -40 "$log"
        echo "fuzz_$t: FAILED (log: $log)"
        exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz_$t: ${execs:-?} runs in ${secs} s (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$corpus/$t.found" | wc -l) new inputs, 0 crashes"
done
