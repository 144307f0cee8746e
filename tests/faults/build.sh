#!/usr/bin/env bash
# Builds the fault injector: build.sh [OUTPUT.so] (default: out/faults/libfaultinject.so of the repo).
# Rebuilds only when the source is newer than the library.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../out/faults/libfaultinject.so}
mkdir -p "$(dirname "$out")"
if [ ! -e "$out" ] || [ "$here/faultinject.c" -nt "$out" ]; then
  # no _FORTIFY_SOURCE: its inline wrappers would rename open/read in the shim's own definitions;
  # paths longer than PATH_MAX are cut on purpose (only for matching and the log)
  gcc -shared -fPIC -O2 -Wall -Wextra -Werror -Wno-format-truncation -U_FORTIFY_SOURCE -o "$out.tmp" "$here/faultinject.c" -ldl
  mv "$out.tmp" "$out"
fi
echo "$out"
