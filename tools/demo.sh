#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh: the README's first command. Installs what the build needs when it is missing (a
# compiler, CMake, pkg-config, liburcu), builds cfutures (Release) in build-release/ (ignored by
# git) and
# runs the demo: one thread-pool task per file under DIR (default /usr/share), with a progress bar,
# totals, and the speed-up over doing the same serially. Arguments go to the demo (--help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
cf_install_deps
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DCF_BUILD_TESTS=OFF \
    -DCF_BUILD_BENCH=OFF >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" --target cf_demo >/dev/null
exec "$root/build-release/examples/cf_demo" "$@"
