#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# layers.sh: checks that the sources keep the layering docs/design.md describes. Each directory of
# src/ may include only the src/ directories below it, and the public headers it is allowed; no
# source includes the umbrella cfutures.h (a source names the concept headers it uses, so that
# nothing reaches the loop through it). Prints each violation; exits 1 if there is one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/src"
declare -A below=(
  [common]=""
  [wait]="common"
  [future]="common wait"
  [sync]="common wait"
  [queue]="common wait"
  [ipc]="common wait"
  [pool]="common wait future queue ipc"
  [loop]="common wait future"
  [group]="common wait future"
  [io]="common wait"
  [mpi]="common wait future queue pool"
)
# Public headers whose declarations belong to the loop: only the loop and the layer above it.
loop_headers="cfutures/loop.h"
bad=0
for dir in */; do
  dir=${dir%/}
  [ -n "${below[$dir]+x}" ] || { echo "src/$dir: a directory docs/design.md does not place"; bad=1; continue; }
  for f in "$dir"/*.[ch]; do
    while IFS= read -r inc; do
      case "$inc" in
        ../*/*)
          up=${inc#../}; up=${up%%/*}
          [[ " ${below[$dir]} " == *" $up "* ]] || { echo "src/$f includes $inc: $dir may not use $up"; bad=1; } ;;
        cfutures.h)
          echo "src/$f includes the umbrella cfutures.h: include the concept headers"; bad=1 ;;
        $loop_headers)
          [ "$dir" = loop ] || [ "$dir" = group ] || { echo "src/$f includes $inc: only src/loop and src/group may"; bad=1; } ;;
      esac
    done < <(sed -n 's/^#include "\(.*\)".*/\1/p' "$f")
  done
done
[ $bad -eq 0 ] && echo "layers ok"
exit $bad
