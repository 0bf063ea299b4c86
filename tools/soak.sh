#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# soak.sh: runs tests/soak.c for MINUTES (default 1): thread pool, process pool, queues, pipes and
# coroutines under mixed load, with workers and fork servers SIGKILLed and SIGSTOPped at random,
# random cancels and brief descriptor exhaustion. Fails if a future is lost or fails in an
# unexpected way, if RSS grows, or if descriptors or children are left behind.
# Usage: tools/soak.sh [MINUTES] (a normal build in build-soak; SOAK_SANITIZE=address,undefined
# builds it sanitized instead).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
cf_install_deps check   # the soak is built with the tests
minutes=${1:-1}
dir="$root/build-soak"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCF_BUILD_EXAMPLES=OFF -DCF_BUILD_BENCH=OFF \
    ${SOAK_SANITIZE:+-DCF_SANITIZE=$SOAK_SANITIZE} >/dev/null
cmake --build "$dir" -j"$(nproc)" --target soak >/dev/null
"$dir/tests/soak" "$minutes"
