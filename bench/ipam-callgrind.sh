#!/usr/bin/env bash
# bench/ipam-callgrind.sh [label=path/to/cniveth ...]: what one host-local verb costs, counted rather than
# timed (a shared machine makes wall times noisy): user-space instructions (callgrind "Ir", repeatable to
# a few parts per thousand) and store syscalls (strace -c -f, by name), per build, for
#   empty: the first ADD on a new store, then a steady ADD, CHECK and DEL
#   N reserved (BENCH_SCALE, default 60000 reference-format files): the first ADD (index rebuild and
#   reboot sweep), a steady ADD, DEL, and the first ADD after a foreign write (index rebuild only).
# Runs the binary as host-local (IPAM only: no netlink, no namespaces entered), with a container netns
# made here. Each build gets its own copy of the store. Needs valgrind and strace.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- "cniveth=out/cniveth"
N=${BENCH_SCALE:-60000}
WORK=$(mktemp -d /tmp/cniveth-ipam-cg.XXXXXX)
unshare --net --fork --kill-child sleep infinity >/dev/null 2>&1 &
holder=$!
trap 'kill "$holder" 2>/dev/null || true; rm -rf "$WORK"' EXIT
netns=""
for _ in $(seq 100); do
  child=$(pgrep -P "$holder" sleep || true)
  [ -n "$child" ] && { netns=/proc/$child/ns/net; break; }
  sleep 0.05
done
[ -n "$netns" ] || { echo "no container netns" >&2; exit 1; }

# prefill DIR COUNT: COUNT reservations of other containers in the reference format, in 10.200.0.0/16.
prefill() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
for i in range(n):
    with open(os.path.join(d, "10.200.%d.%d" % (2 + i // 250, 1 + i % 250)), "w") as f:
        f.write("%064x\r\neth0" % i)
PY
}

conf() {
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"cg\",\"type\":\"host-local\",\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"$1\",\"ranges\":[[{\"subnet\":\"10.200.0.0/16\"}]]}}"
}

# measure LABEL EXE DATADIR VERB CID WHAT: one call under callgrind and one (the same state again) under
# strace; prints "WHAT LABEL Ir syscalls".
measure() {
  local label=$1 exe=$2 data=$3 verb=$4 cid=$5 what=$6 ir calls
  cp -a "$data" "$WORK/snap"
  ir=$(CNI_COMMAND=$verb CNI_CONTAINERID=$cid CNI_NETNS=$netns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" <<<"$(conf "$data")" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
  rm -rf "$data"; mv "$WORK/snap" "$data"
  calls=$(CNI_COMMAND=$verb CNI_CONTAINERID=$cid CNI_NETNS=$netns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
    strace -f -c -o "$WORK/strace" "$exe" <<<"$(conf "$data")" >/dev/null 2>&1; awk '$NF == "total" {print $(NF-2)}' "$WORK/strace")
  printf '%-34s %-10s %14s %9s\n' "$what" "$label" "$ir" "$calls"
}

printf '%-34s %-10s %14s %9s\n' "case" "build" "instructions" "syscalls"
for spec in "$@"; do
  label=${spec%%=*}; bin=$(realpath "${spec#*=}")
  mkdir -p "$WORK/$label"; ln -sf "$bin" "$WORK/$label/host-local"; exe=$WORK/$label/host-local
  d=$WORK/$label/empty; mkdir -p "$d"
  measure "$label" "$exe" "$d" ADD first "empty: first ADD"
  measure "$label" "$exe" "$d" ADD steady "empty: ADD"
  measure "$label" "$exe" "$d" CHECK steady "empty: CHECK"
  measure "$label" "$exe" "$d" DEL steady "empty: DEL"
  d=$WORK/$label/scale; prefill "$d/cg" "$N"
  measure "$label" "$exe" "$d" ADD first "$N reserved: first ADD (sweep)"
  measure "$label" "$exe" "$d" ADD steady "$N reserved: ADD"
  measure "$label" "$exe" "$d" DEL steady "$N reserved: DEL"
  echo "x" >"$d/cg/10.200.255.250"   # a foreign write: the next call rebuilds the index
  measure "$label" "$exe" "$d" ADD other "$N reserved: ADD after a foreign write"
  rm -rf "$WORK/$label"
done
