#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# expect_output.sh REGEX CMD...: runs CMD, shows its output, and succeeds only if CMD exited 0 and
# printed a line matching REGEX (extended). The examples run as tests through it.
set -uo pipefail
regex=$1; shift
out=$("$@" 2>&1); rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "expect_output: exit status $rc" >&2; exit 1; }
grep -Eq -- "$regex" <<<"$out" || { echo "expect_output: no line matches: $regex" >&2; exit 1; }
