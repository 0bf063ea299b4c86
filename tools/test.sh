#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh: the README's test command, and what CI runs. Installs what is missing, then builds
# and runs the whole suite three times: a normal build with warnings as errors, AddressSanitizer +
# UndefinedBehaviorSanitizer, and ThreadSanitizer. Other steps: contract (the public headers
# against the contract declarations in ../shared/contract, when there, and the layering of src/,
# tools/layers.sh), docs (the API reference, tools/docs.sh: an undocumented symbol fails),
# install (installed, as a subproject and from C++: tools/consumers.sh), deb (the Debian
# packages built with dpkg-buildpackage, installed and used: tools/deb.sh), ucontext (the coroutine
# tests over the portable switch), valgrind (the pool and coroutine examples: uninitialised
# bytes sent, leaks), fuzz (each libFuzzer target for 30 s, tools/fuzz.sh) and soak (one minute,
# tools/soak.sh).
# Usage: tools/test.sh [normal|asan|tsan|contract|docs|install|deb|ucontext|valgrind|fuzz|soak|aarch64 ...]
# (aarch64, not in the default list: cross-builds the context switch and runs a ping-pong under
# qemu-user; it installs a cross compiler, about 200 MB.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
cf_install_deps check libglib2.0-dev curl libopenmpi-dev openmpi-bin   # Check: the tests; GLib: the embedding test; curl: the HTTP example's; Open MPI: the MPI executor
jobs=$(nproc)
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(normal contract docs install deb ucontext valgrind asan tsan fuzz soak)

suite() {   # name, ctest regex (empty: all), extra cmake args...
    local name=$1 only=$2; shift 2
    local dir="$root/build-test-$name"
    echo "=== $name build"
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCF_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$jobs" >/dev/null
    echo "=== $name tests"
    (cd "$dir" && ctest --output-on-failure -j"$jobs" ${only:+-R "$only"})
}

aarch64_check() {
    echo "=== aarch64: the context switch, cross-built, under qemu-user"
    cf_install_deps gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
    local tmp; tmp=$(mktemp -d)
    aarch64-linux-gnu-gcc -std=c11 -D_GNU_SOURCE -O2 -static -I"$root/src" \
        "$root/tools/switch_pingpong.c" "$root/src/loop/switch_asm.c" -o "$tmp/pingpong"
    qemu-aarch64 "$tmp/pingpong"
    rm -rf "$tmp"
}

valgrind_check() {
    echo "=== valgrind: the pool and coroutine examples"
    cf_install_deps valgrind
    # Its own build: configured after valgrind's header is there, so coroutine stacks get
    # registered with it (src/loop/stack.c).
    local dir="$root/build-test-valgrind"
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCF_WERROR=ON \
        -DCF_BUILD_TESTS=OFF -DCF_BUILD_BENCH=OFF >/dev/null
    cmake --build "$dir" -j"$jobs" >/dev/null
    local e
    for e in cf_hello cf_hello_process cf_coro_mix cf_coro_gather cf_coro_taskgroup; do
        # Its own stderr: it warns that it does not know epoll_pwait2 (the loop falls back).
        if ! valgrind -q --error-exitcode=9 --leak-check=full --show-possibly-lost=no \
                --errors-for-leak-kinds=definite --log-file="$dir/valgrind-$e.log" \
                "$dir/examples/$e" >/dev/null; then
            cat "$dir/valgrind-$e.log"
            echo "valgrind: $e failed"
            exit 1
        fi
    done
    echo "valgrind ok: cf_hello, cf_hello_process, cf_coro_mix, cf_coro_gather, cf_coro_taskgroup"
}

contract_check() {
    echo "=== layers (docs/design.md)"
    bash "$root/tools/layers.sh"
    local check="$root/../shared/contract/check"
    if [ -x "$check" ]; then
        echo "=== contract"
        (cd "$root" && "$check")
    else
        echo "=== contract: ../shared/contract/check not present, skipped"
    fi
}

for s in "${steps[@]}"; do
    case "$s" in
        normal)   suite normal "" ;;
        asan)     suite asan "" -DCF_SANITIZE=address,undefined -DCF_BUILD_BENCH=OFF ;;
        tsan)     suite tsan "" -DCF_SANITIZE=thread -DCF_TEST_RACES=ON -DCF_BUILD_BENCH=OFF ;;
        ucontext) suite ucontext test_loop -DCF_UCONTEXT=ON -DCF_BUILD_EXAMPLES=OFF -DCF_BUILD_BENCH=OFF ;;
        aarch64)  aarch64_check ;;
        install)  echo "=== install: pkg-config, find_package, add_subdirectory, FetchContent, C++"
                  bash "$root/tools/consumers.sh" ;;
        contract) contract_check ;;
        deb)      echo "=== deb: the Debian packages, built (with their tests), installed, used"
                  bash "$root/tools/deb.sh" ;;
        docs)     echo "=== docs: the API reference from the headers (tools/docs.sh; warnings are errors)"
                  bash "$root/tools/docs.sh" "$root/build-test-docs" ;;
        valgrind) valgrind_check ;;
        fuzz)     echo "=== fuzz: each target 30 s"; bash "$root/tools/fuzz.sh" 30 ;;
        soak)     echo "=== soak: one minute"; bash "$root/tools/soak.sh" 1 ;;
        *) echo "unknown step $s" >&2; exit 2 ;;
    esac
done
echo "=== all steps passed: ${steps[*]}"
