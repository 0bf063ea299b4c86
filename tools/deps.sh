#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deps.sh: installs the Debian packages a build needs (compiler, CMake, pkg-config, liburcu) and
# those the caller names (test.sh: check, the test framework), when they are missing.
# Sourced by the scripts in tools/ and bench/; needs root (or sudo) only when something is missing.
cf_install_deps() {
    local pkgs=(cmake make gcc pkg-config liburcu-dev "$@") missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
