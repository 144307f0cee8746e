#!/usr/bin/env bash
# bench/bulkdel.sh: how fast can GC delete many veths? Times each method of bench/bulkdel.c on the same
# layout, in a private network + mount namespace: one host namespace with a bridge and TOTAL veths,
# each with its peer (eth0) in its own container namespace; STALE of them (names vs*) are deleted, the
# others (vk*) must survive untouched, peer included (checked after every run: a method that touches
# them fails the run).
#   STALE (500) TOTAL (1000) REPS (2) METHODS ("each batch group netns threads-4 threads-16")
#   BULKDEL_WRAP (a command prefix for bulkdel, e.g. "perf record -g -o /tmp/x.data --")
set -euo pipefail
cd "$(dirname "$0")/.."
STALE=${STALE:-500} TOTAL=${TOTAL:-1000} REPS=${REPS:-2}
METHODS=${METHODS:-"each batch group netns threads-4 threads-16"}
[ "$TOTAL" -le 1023 ] || { echo "bulkdel: a bridge holds at most 1023 ports" >&2; exit 1; }
WORK=$(mktemp -d /tmp/cniveth-bulkdel.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -Wall -Wextra -Werror -pthread -o "$WORK/bulkdel" bench/bulkdel.c
export STALE TOTAL REPS METHODS WORK BULKDEL_WRAP
unshare --net --mount --propagation private --fork -- bash -c '
set -euo pipefail
mount -t tmpfs tmpfs /run; mkdir -p /run/netns
printf "method\tlinks\twall_ms\tuser_ms\tsys_ms\tgone_ms\n"
layout() { # fresh host namespace h with the bridge, TOTAL attachments
  ip netns add h; ip -n h link set lo up
  ip -n h link add br0 type bridge; ip -n h link set br0 up
  for i in $(seq 1 "$TOTAL"); do echo "netns add c$i"; done | ip -batch -
  for i in $(seq 1 "$TOTAL"); do
    name=$([ "$i" -le "$STALE" ] && echo vs$i || echo vk$i)
    echo "link add $name type veth peer name eth0 netns c$i"
    echo "link set $name master br0 up"
  done | ip -n h -batch -
}
teardown() {
  for i in $(seq 1 "$TOTAL"); do echo "netns del c$i"; done | ip -batch -
  ip netns del h
}
for rep in $(seq 1 "$REPS"); do
  for m in $METHODS; do
    layout
    peers="/run/netns/c1 /run/netns/c$STALE"
    BULKDEL_PEER_NS="$peers" ip netns exec h ${BULKDEL_WRAP:-} "$WORK/bulkdel" ${m%%-*} $([ "${m#*-}" != "$m" ] && echo "${m#*-}")
    # safety: every keeper still there, still on the bridge, its peer still in its container
    kept=$(ip -n h -j link show master br0 | python3 -c "import json,sys; print(sum(1 for l in json.load(sys.stdin) if l[\"ifname\"].startswith(\"vk\")))")
    stale=$(ip -n h -j link show | python3 -c "import json,sys; print(sum(1 for l in json.load(sys.stdin) if l[\"ifname\"].startswith(\"vs\")))")
    peers_left=0; for i in $(seq $((STALE + 1)) "$TOTAL"); do ip -n c$i link show eth0 >/dev/null 2>&1 && peers_left=$((peers_left + 1)); done
    if [ "$kept" -ne $((TOTAL - STALE)) ] || [ "$stale" -ne 0 ] || [ "$peers_left" -ne $((TOTAL - STALE)) ]; then
      echo "bulkdel: $m left the layout wrong: $kept keepers on the bridge, $peers_left keeper peers, $stale stale links" >&2; exit 1
    fi
    teardown
  done
done
'
