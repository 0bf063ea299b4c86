#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs.sh: builds the API reference from the public headers with Doxygen: HTML in
# build-docs/html (open index.html) and man pages in build-docs/man/man3 (one per function,
# `man -l build-docs/man/man3/cf_submit.3`). Fails on any Doxygen warning: every public symbol
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
echo "docs ok: $(ls "$out/man/man3" | wc -l) man pages, HTML in $out/html"
