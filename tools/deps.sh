#!/usr/bin/env bash
# deps.sh: installs the Debian packages the build, tests and demo need, when they are missing.
# Sourced by demo.sh and test.sh; needs root (or sudo) only when something is missing.
cf_install_deps() {
    local pkgs=(cmake make gcc pkg-config liburcu-dev check "$@") missing=()
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
