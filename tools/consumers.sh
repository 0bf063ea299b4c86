#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# consumers.sh: uses cfutures the ways a project outside this repository does, and fails if any
# of them breaks:
#  - installed (shared + static, top-level defaults) into a fresh prefix: pkg-config (shared; the
#    shared link needs no liburcu .pc file) and find_package (both targets, the version file
#    accepting 0.x's own minor and refusing a newer one, a caller's URCU_* variables and
#    PkgConfig::URCU target left alone), the installed examples built from share/doc;
#  - installed static only (BUILD_SHARED_LIBS=OFF): pkg-config --static and find_package;
#  - as a subproject through add_subdirectory and FetchContent: no tests, examples or benchmarks
#    of ours, nothing added to the parent's ctest, the parent's build type and flags kept, Check
#    not looked up, one library of the kind BUILD_SHARED_LIBS says;
#  - from C++ (g++ -std=c++11 and c++20): every public header, and the options initializers;
#  - the examples in README.md and docs/: compiled as C and as C++, run.
# Usage: tools/consumers.sh   (needs the build dependencies; g++ is installed when missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
cf_install_deps g++
jobs=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
triple=$(gcc -dumpmachine)
version=$(sed -n 's/^#define CF_VERSION_STRING "\(.*\)"/\1/p' "$root/include/cfutures/version.h")
major=${version%%.*}; rest=${version#*.}; minor=${rest%%.*}
say() { echo "consumers: $*"; }
libdir_of() { if [ -d "$1/lib/$triple" ]; then echo "$1/lib/$triple"; else echo "$1/lib"; fi; }
fail() { echo "consumers: FAILED: $*" >&2; exit 1; }
runs() { "$@" | grep -q "result 16" || fail "$* did not print 'result 16'"; }

# The example every consumer builds: the README's first program.
cp "$root/examples/hello.c" "$tmp/hello.c"

# --- installed, shared and static ---------------------------------------------------------------
prefix="$tmp/prefix"
cmake -S "$root" -B "$tmp/build" -DCF_BUILD_TESTS=OFF -DCF_BUILD_EXAMPLES=OFF \
    -DCF_BUILD_BENCH=OFF >/dev/null
cmake --build "$tmp/build" -j"$jobs" >/dev/null
cmake --install "$tmp/build" --prefix "$prefix" >/dev/null
libdir=$(libdir_of "$prefix")
[ -f "$libdir/libcfutures.so.0" ] && [ -f "$libdir/libcfutures.a" ] || fail "install lacks a library"
[ -f "$libdir/cmake/cfutures/cfuturesConfigVersion.cmake" ] || fail "no cfuturesConfigVersion.cmake"
for f in LICENSE README.md CHANGELOG.md examples/CMakeLists.txt examples/hello.c; do
    [ -f "$prefix/share/doc/cfutures/$f" ] || fail "share/doc/cfutures/$f not installed"
done

# pkg-config, with only our .pc file visible: the shared link must not need liburcu's.
pc() { PKG_CONFIG_LIBDIR="$libdir/pkgconfig" pkg-config "$@"; }
[ "$(pc --modversion cfutures)" = "$version" ] || fail "pkg-config --modversion is not $version"
pc --atleast-version="$major.$minor" cfutures || fail "pkg-config --atleast-version"
! pc --atleast-version="$((major + 1)).0" cfutures || fail "pkg-config accepts a newer version"
gcc -std=c11 -Wall -Werror "$tmp/hello.c" -o "$tmp/hello_pc" $(pc --cflags --libs cfutures)
LD_LIBRARY_PATH="$libdir" runs "$tmp/hello_pc"
say "pkg-config (shared, without liburcu's .pc) builds and runs; --modversion $version"

# find_package, from a caller that has URCU_* variables and a PkgConfig::URCU of its own.
mkdir -p "$tmp/fp"
cat >"$tmp/fp/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(PkgConfig REQUIRED)
pkg_check_modules(URCU REQUIRED IMPORTED_TARGET liburcu-qsbr)   # the caller's own liburcu
set(URCU_LIBRARIES caller-value)
find_package(cfutures $major.$minor REQUIRED)
if(NOT URCU_LIBRARIES STREQUAL "caller-value")
  message(FATAL_ERROR "find_package(cfutures) changed the caller's URCU_LIBRARIES")
endif()
get_target_property(deps cfutures::cfutures_static INTERFACE_LINK_LIBRARIES)
if(deps MATCHES "PkgConfig::URCU[;>]|PkgConfig::URCU\$")
  message(FATAL_ERROR "cfutures_static depends on the caller's PkgConfig::URCU: \${deps}")
endif()
find_package(cfutures $((major + 1)).0 QUIET)
if(cfutures_FOUND)
  message(FATAL_ERROR "find_package accepted version $((major + 1)).0")
endif()
find_package(cfutures $major.$minor REQUIRED)
add_executable(hello_shared ../hello.c)
target_link_libraries(hello_shared PRIVATE cfutures::cfutures)
add_executable(hello_static ../hello.c)
target_link_libraries(hello_static PRIVATE cfutures::cfutures_static)
CM
cmake -S "$tmp/fp" -B "$tmp/fp/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/fp/build" >/dev/null
LD_LIBRARY_PATH="$libdir" runs "$tmp/fp/build/hello_shared"
runs "$tmp/fp/build/hello_static"
! ldd "$tmp/fp/build/hello_static" | grep -q libcfutures || fail "hello_static links libcfutures.so"
say "find_package (shared and static; version file; caller's URCU left alone) builds and runs"

# The installed examples build from share/doc against the installed library.
cmake -S "$prefix/share/doc/cfutures/examples" -B "$tmp/ex" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/ex" -j"$jobs" >/dev/null
LD_LIBRARY_PATH="$libdir" runs "$tmp/ex/cf_hello"
say "the installed examples build from share/doc/cfutures/examples"

# The MPI executor, when this machine has an MPI: its library, header and .pc installed, and a
# program built with pkg-config cfutures-mpi and with find_package(cfutures COMPONENTS mpi) runs
# on 3 ranks.
if [ -f "$libdir/libcfutures_mpi.so.0" ]; then
    [ -f "$prefix/include/cfutures/mpi.h" ] || fail "cfutures/mpi.h not installed"
    [ "$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --modversion cfutures-mpi)" = "$version" ] ||
        fail "pkg-config cfutures-mpi"
    cp "$root/examples/mpi_primes.c" "$root/examples/primes.h" "$tmp/"
    gcc -std=c11 -D_GNU_SOURCE -Wall -Werror "$tmp/mpi_primes.c" -o "$tmp/mpi_pc" \
        $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs cfutures-mpi)
    mpirun_() { OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 LD_LIBRARY_PATH="$libdir" \
                mpirun --oversubscribe -n 3 "$@"; }
    mpirun_ "$tmp/mpi_pc" 100000 8 | grep -q "primes below 100000: 9592 .* 9592 on 2 worker ranks" ||
        fail "the MPI example built with pkg-config cfutures-mpi"
    mkdir -p "$tmp/fpm"
    cat >"$tmp/fpm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(mpi_consumer C)
find_package(cfutures $major.$minor REQUIRED COMPONENTS mpi)
add_executable(mpi_primes ../mpi_primes.c)
target_compile_definitions(mpi_primes PRIVATE _GNU_SOURCE)
target_link_libraries(mpi_primes PRIVATE cfutures::mpi)
CM
    cmake -S "$tmp/fpm" -B "$tmp/fpm/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
    cmake --build "$tmp/fpm/build" >/dev/null
    mpirun_ "$tmp/fpm/build/mpi_primes" 100000 8 | grep -q "9592 on 2 worker ranks" ||
        fail "the MPI example built with find_package(cfutures COMPONENTS mpi)"
    say "MPI executor: pkg-config cfutures-mpi and find_package(cfutures COMPONENTS mpi) build, run on 3 ranks"
else
    say "no MPI here: libcfutures_mpi not built, its checks skipped"
fi

# --- installed, static only ---------------------------------------------------------------------
sprefix="$tmp/sprefix"
cmake -S "$root" -B "$tmp/sbuild" -DBUILD_SHARED_LIBS=OFF -DCF_BUILD_TESTS=OFF \
    -DCF_BUILD_EXAMPLES=OFF -DCF_BUILD_BENCH=OFF >/dev/null
cmake --build "$tmp/sbuild" -j"$jobs" >/dev/null
cmake --install "$tmp/sbuild" --prefix "$sprefix" >/dev/null
slibdir=$(libdir_of "$sprefix")
! ls "$slibdir"/libcfutures.so* >/dev/null 2>&1 || fail "BUILD_SHARED_LIBS=OFF installed a .so"
gcc -std=c11 -Wall -Werror "$tmp/hello.c" -o "$tmp/hello_spc" \
    $(PKG_CONFIG_LIBDIR="$slibdir/pkgconfig" pkg-config --static --cflags --libs cfutures)
runs "$tmp/hello_spc"
rm -rf "$tmp/fp/build"
cmake -S "$tmp/fp" -B "$tmp/fp/build" -DCMAKE_PREFIX_PATH="$sprefix" >/dev/null
cmake --build "$tmp/fp/build" >/dev/null
runs "$tmp/fp/build/hello_shared"    # cfutures::cfutures is the static library here
runs "$tmp/fp/build/hello_static"
say "static only: pkg-config --static and find_package build and run"

# --- as a subproject ------------------------------------------------------------------------------
# A copy of the sources, as a release tarball would have them (no build folders).
tar -C "$root" --exclude='./build*' --exclude=./.git -czf "$tmp/cfutures.tar.gz" .
mkdir -p "$tmp/src" && tar -C "$tmp/src" -xzf "$tmp/cfutures.tar.gz"
subproject() {   # name, how the parent gets cfutures (cmake lines)
    local name=$1 how=$2 dir="$tmp/$1"
    mkdir -p "$dir"
    cat >"$dir/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(parent C)
enable_testing()
add_compile_options(-Wall)   # the parent's own flags
$how
foreach(t cfutures_tests test_future cf_hello cf_bench)
  if(TARGET \${t})
    message(FATAL_ERROR "the subproject made target \${t}")
  endif()
endforeach()
if(TARGET cfutures_static)
  message(FATAL_ERROR "the subproject built two libraries")
endif()
get_target_property(kind cfutures TYPE)
message(STATUS "parent: cfutures is \${kind}")
if(DEFINED CF_CHECK_FOUND OR DEFINED CF_CHECK_LIBRARIES)
  message(FATAL_ERROR "the subproject looked for Check")
endif()
add_executable(hello \${CMAKE_CURRENT_SOURCE_DIR}/../hello.c)
target_link_libraries(hello PRIVATE cfutures::cfutures)
add_test(NAME parent_hello COMMAND hello)
CM
    cmake -S "$dir" -B "$dir/build" >"$dir/configure.log" || { cat "$dir/configure.log"; fail "$name: configure"; }
    grep -q "^CMAKE_BUILD_TYPE:STRING=$" "$dir/build/CMakeCache.txt" || fail "$name: the parent's (empty) CMAKE_BUILD_TYPE was changed"
    grep -q "parent: cfutures is STATIC_LIBRARY" "$dir/configure.log" || fail "$name: not one static library"
    cmake --build "$dir/build" -j"$jobs" >/dev/null
    runs "$dir/build/hello"
    ! grep -qE -- "-D_GNU_SOURCE|-Wextra|-fvisibility" "$dir/build/CMakeFiles/hello.dir/flags.make" ||
        fail "$name: the library's compile flags reached the parent's target"
    local n; n=$(cd "$dir/build" && ctest -N | sed -n 's/^Total Tests: //p')
    [ "$n" = 1 ] || fail "$name: the parent's ctest lists $n tests, not its own 1"
    # BUILD_SHARED_LIBS=ON gives the shared library alone.
    cmake -S "$dir" -B "$dir/build-shared" -DBUILD_SHARED_LIBS=ON >"$dir/configure-shared.log"
    grep -q "parent: cfutures is SHARED_LIBRARY" "$dir/configure-shared.log" || fail "$name: BUILD_SHARED_LIBS=ON ignored"
    cmake --build "$dir/build-shared" -j"$jobs" >/dev/null
    runs "$dir/build-shared/hello"
    say "$name: one library (static, or shared with BUILD_SHARED_LIBS), no tests or examples, parent's build type kept"
}
subproject add_subdirectory "add_subdirectory($tmp/src cfutures)"
subproject fetchcontent "include(FetchContent)
FetchContent_Declare(cfutures URL file://$tmp/cfutures.tar.gz DOWNLOAD_EXTRACT_TIMESTAMP TRUE)
FetchContent_MakeAvailable(cfutures)"

# --- C++ ------------------------------------------------------------------------------------------
cat >"$tmp/cxx.cc" <<'CXX'
#include <cfutures.h>
#include <cstdint>
#include <cstdio>
static void *square(void *arg) { intptr_t x = (intptr_t)arg; return (void *)(x * x); }
int main()
{
    static_assert(CF_VERSION_CHECK(0, 0, 0), "version macros");
    cf_pool_opts o = CF_POOL_OPTS_INIT;
    o.max_workers = 2;
    cf_executor *ex = cf_thread_pool_new(&o);
    cf_future *f = cf_submit(ex, square, (void *)4);
    void *v = nullptr;
    int err = cf_future_result(f, CF_FOREVER, &v);
    std::printf("result %ld\n", err ? -1L : (long)(intptr_t)v);
    cf_subprocess_opts so = CF_SUBPROCESS_OPTS_INIT;
    (void)so;
    cf_future_unref(f);
    cf_executor_free(ex);
    return cf_version() == CF_VERSION_HEX ? 0 : 1;
}
CXX
for std in c++11 c++20; do
    g++ -std=$std -Wall -Wextra -Werror -pedantic "$tmp/cxx.cc" -o "$tmp/cxx_$std" \
        $(pc --cflags --libs cfutures)
    LD_LIBRARY_PATH="$libdir" runs "$tmp/cxx_$std"
done
say "C++ (c++11, c++20, -pedantic): the headers and CF_POOL_OPTS_INIT compile and run"

# The documentation's examples: every ```c block of README.md and docs/*.md that includes
# <cfutures.h> compiles as C11 and as C++17 without a warning, and those with a main() run and
# exit 0. The README's two pool examples are examples/hello.c and hello_process.c, verbatim.
mkdir -p "$tmp/doc"
python3 - "$root" "$tmp/doc" <<'PY'
import glob, os, re, sys
root, out = sys.argv[1], sys.argv[2]
n = 0
for md in [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md"))):
    for i, block in enumerate(re.findall(r"```c\n(.*?)```", open(md).read(), re.S)):
        if "#include <cfutures.h>" not in block:
            continue
        n += 1
        name = "%s_%d" % (os.path.basename(md)[:-3].replace("-", "_"), i)
        open(os.path.join(out, name + ".c"), "w").write(block)
for ex in ("hello.c", "hello_process.c"):
    body = open(os.path.join(root, "examples", ex)).read()
    body = body[body.index("#include <cfutures.h>"):]
    if body not in open(os.path.join(root, "README.md")).read():
        sys.exit("README.md does not show examples/%s as it is" % ex)
PY
for c in "$tmp"/doc/*.c; do
    b=${c%.c}
    gcc -std=c11 -Wall -Wextra -Werror "$c" -o "$b.c.out" $(pc --cflags --libs cfutures) ||
        fail "$(basename "$c"): does not compile as C"
    g++ -std=c++17 -Wall -Wextra -Werror -x c++ "$c" -o "$b.cxx.out" $(pc --cflags --libs cfutures) ||
        fail "$(basename "$c"): does not compile as C++"
    if grep -q "int main" "$c"; then
        LD_LIBRARY_PATH="$libdir" "$b.c.out" >/dev/null || fail "$(basename "$c") (C) exited $?"
        LD_LIBRARY_PATH="$libdir" "$b.cxx.out" >/dev/null || fail "$(basename "$c") (C++) exited $?"
    fi
done
say "the documentation's $(ls "$tmp"/doc/*.c | wc -l) examples compile as C and C++ and run"
say "all ok"
