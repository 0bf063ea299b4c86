#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deb.sh: builds the Debian packages (debian/: libcfutures0, libcfutures-dev, and the MPI
# executor's libcfutures-mpi0, libcfutures-mpi-dev) with
# `dpkg-buildpackage -us -uc -b` from a copy of the tree (the package's build runs the test
# suite), installs them, builds and runs a program against the installed package through
# pkg-config and CMake's find_package (the MPI example too, run on 3 ranks), checks that
# `man cf_submit` is there, and removes the
# packages again. Installs the build dependencies when they are missing.
# Usage: tools/deb.sh [OUTDIR]   (the .deb files are left in OUTDIR when it is given)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
cf_install_deps dpkg-dev debhelper check doxygen man-db mpi-default-dev mpi-default-bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "deb: FAILED: $*" >&2; exit 1; }
mkdir -p "$tmp/src/cfutures"
tar -C "$root" --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . |
    tar -C "$tmp/src/cfutures" -xf -
(cd "$tmp/src/cfutures" && dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1) ||
    { tail -60 "$tmp/build.log"; fail "dpkg-buildpackage"; }
grep -q "100% tests passed" "$tmp/build.log" || fail "the package's build did not run the tests"
debs=("$tmp"/src/libcfutures0_*.deb "$tmp"/src/libcfutures-dev_*.deb
      "$tmp"/src/libcfutures-mpi0_*.deb "$tmp"/src/libcfutures-mpi-dev_*.deb)
echo "deb: built $(for d in "${debs[@]}"; do basename "$d"; done | tr '\n' ' ')(tests passed at build time)"

sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo dpkg -i "${debs[@]}" >/dev/null
trap '$sudo dpkg -r libcfutures-mpi-dev libcfutures-mpi0 libcfutures-dev libcfutures0 >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
cp "$root/examples/hello.c" "$tmp/"
gcc -std=c11 -Wall -Werror "$tmp/hello.c" -o "$tmp/hello" $(pkg-config --cflags --libs cfutures)
"$tmp/hello" | grep -q "result 16" || fail "hello (pkg-config) against the package"
ldd "$tmp/hello" | grep -Eq "libcfutures.so.0 => (/usr)?/lib/" || fail "hello does not use the package's library"
mkdir -p "$tmp/fp"
cat >"$tmp/fp/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(cfutures REQUIRED)
add_executable(hello_static ../hello.c)
target_link_libraries(hello_static PRIVATE cfutures::cfutures_static)
CM
cmake -S "$tmp/fp" -B "$tmp/fp/build" >/dev/null && cmake --build "$tmp/fp/build" >/dev/null
"$tmp/fp/build/hello_static" | grep -q "result 16" || fail "hello (find_package, static) against the package"
cp "$root/examples/mpi_primes.c" "$root/examples/primes.h" "$tmp/"
gcc -std=c11 -D_GNU_SOURCE -Wall -Werror "$tmp/mpi_primes.c" -o "$tmp/mpi_primes" \
    $(pkg-config --cflags --libs cfutures-mpi)
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -n 3 \
    "$tmp/mpi_primes" 100000 8 | grep -q "9592 on 2 worker ranks" || fail "mpi_primes against the package"
man -w cf_submit >/dev/null 2>&1 || fail "no man page for cf_submit"
[ -f /usr/share/doc/libcfutures-dev/examples/hello.c ] || fail "the examples are not installed"
if [ $# -gt 0 ]; then mkdir -p "$1" && cp "${debs[@]}" "$1/"; fi
echo "deb: installed, pkg-config and find_package (static) build against it, the MPI example runs on 3 ranks, man cf_submit works; removed again"
