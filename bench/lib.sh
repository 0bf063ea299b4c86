# SPDX-License-Identifier: MIT
# bench/lib.sh: what the bench scripts that run servers share (sourced): a scratch directory
# removed at exit, Go builds in it, and starting a server that prints its port on its first line.
# shellcheck shell=bash
bench_scratch() {   # sets $out
    out=$(mktemp -d)
    trap 'rm -rf "$out"; kill $(jobs -p) 2>/dev/null || true' EXIT
}

go_build() {        # SOURCE_DIR FILE.go OUTPUT
    (cd "$1" && GOCACHE="$out/gocache" GO111MODULE=off go build -o "$3" "$2")
}

serve() {           # COMMAND...: starts it, sets $port from the last word of its first line
    coproc SRV { exec "$@"; }
    local first
    read -r first <&"${SRV[0]}"
    port=${first##* }
}

unserve() {
    kill "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null || true
}
