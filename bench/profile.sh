#!/usr/bin/env bash
# bench/profile.sh [OUTDIR]: where one ADD and one DEL spend their time, cniveth and the reference,
# in the same kind of sandbox as make bench. Writes, per plugin and verb, into OUTDIR
# (default /tmp/cniveth-profile): strace -c -f (syscall summary), strace -f -T -tt (timeline with
# the time spent in each call) and perf stat (when perf is installed). Set MASQ=1 for ipMasq configs.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-/tmp/cniveth-profile}")
mkdir -p "$OUT"
export CNIVETH=$(realpath "${BENCH_CNIVETH:-out/cniveth}") REF_DIR=${BENCH_REF_DIR:-/usr/lib/cni} OUT MASQ=${MASQ:-0}
exec unshare --net --mount --propagation private --fork -- bash -c '
set -euo pipefail
mount -t tmpfs tmpfs /run; mkdir -p /run/netns
D=$(mktemp -d); mount -t tmpfs tmpfs "$D"
masq=$([ "$MASQ" = 1 ] && echo true || echo false)
for p in ref cv; do
  ip netns add h-$p; ip -n h-$p link set lo up
  for i in 0 1 2 3 4; do ip netns add $p$i; done
  type=$([ $p = ref ] && echo bridge || echo cniveth)
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"prof\",\"type\":\"$type\",\"bridge\":\"cni0\",\"isGateway\":true,\"ipMasq\":$masq,\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.88.0.0/16\"}]],\"dataDir\":\"$D/data-$p\"}}" > $D/$p.json
done
call() { # plugin verb i [wrapper...]
  local p=$1 verb=$2 i=$3; shift 3
  local exe=$([ $p = ref ] && echo $REF_DIR/bridge || echo $CNIVETH) path=$([ $p = ref ] && echo $REF_DIR || echo /nonexistent)
  ip netns exec h-$p env CNI_COMMAND=$verb CNI_CONTAINERID=c$i CNI_NETNS=/run/netns/$p$i CNI_IFNAME=eth0 CNI_PATH=$path \
    "$@" $exe < $D/$p.json > /dev/null
}
for p in ref cv; do
  call $p ADD 0; call $p DEL 0                       # warm-up: page cache, bridge
  for verb in ADD DEL; do
    call $p $verb 1 strace -f -c -o "$OUT/$p-$verb.strace-c.txt"
    call $p $verb 2 strace -f -T -tt -yy -s 256 -o "$OUT/$p-$verb.strace-T.txt"
    if command -v perf >/dev/null; then
      call $p $verb 3 perf stat -e task-clock,context-switches,cpu-migrations,page-faults -o "$OUT/$p-$verb.perf-stat.txt"
    fi
  done
done
echo "profile written to $OUT" >&2
'
