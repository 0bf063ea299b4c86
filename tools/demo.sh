#!/usr/bin/env bash
# demo.sh: the README's first command. Installs what is missing, builds cfutures (Release) and
# runs the demo: one thread-pool task per file under DIR (default /usr/share), with a progress bar,
# totals, and the speed-up over doing the same serially. Arguments go to the demo (--help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
cf_install_deps
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DCF_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" --target cf_demo >/dev/null
exec "$root/build-release/examples/cf_demo" "$@"
