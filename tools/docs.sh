#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs.sh: builds the API reference from the public headers with Doxygen: HTML in
# build-docs/html (open index.html) and man pages in build-docs/man/man3 (one per function,
# type and constant, `man -l build-docs/man/man3/cf_submit.3`; the Debian package installs them). Fails on any Doxygen warning: every public symbol
# must be documented and every comment must parse. Installs doxygen when it is missing.
# Usage: tools/docs.sh [OUTDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
cf_install_deps doxygen
out=${1:-$root/build-docs}
rm -rf "$out" && mkdir -p "$out"
version=$(sed -n 's/^#define CF_VERSION_STRING "\(.*\)"/\1/p' "$root/include/cfutures/version.h")
log="$out/warnings.log"
if ! (cd "$root" && CF_VERSION="$version" CF_DOCS_OUT="$out" doxygen docs/Doxyfile) >"$out/doxygen.log" 2>"$log" ||
        [ -s "$log" ]; then
    cat "$log"
    echo "docs: FAILED: $(grep -c . "$log") warning(s) (above)"
    exit 1
fi
# Man pages fit for a system's man3: one per public function, type and constant (cf_*, CF_*),
# each pointing at its header's page, named cfutures_<header>.3 (a bare "executor.h" or a
# struct field's page, "name.3", would collide with other packages').
man="$out/man/man3"
for f in "$man"/*.3; do
    b=$(basename "$f" .3)
    case "$b" in
        cf_*|CF_*) sed -i 's|^\.so man3/\(.*\.h\)\.3$|.so man3/cfutures_\1.3|' "$f" ;;
        *.h) mv "$f" "$man/cfutures_$b.3" ;;
        *) rm "$f" ;;
    esac
done
echo "docs ok: $(ls "$man" | wc -l) man pages (man -l $man/cf_submit.3), HTML in $out/html"
