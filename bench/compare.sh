#!/usr/bin/env bash
# bench/compare.sh [label=path ...]: quick A/B of cniveth builds, interleaved with the reference and the
# floor, in a sandbox like make bench: VERSION, ADD and DEL per build, median and p90 wall time, median
# CPU time (user + sys, steadier than wall on a busy machine) and median peak RSS. For measuring what
# one change buys: build the variant elsewhere (dotnet publish -o DIR), then
#   bash bench/compare.sh base=out/cniveth new=/tmp/variant/cniveth
# N (default 100) calls per verb and build; the first call of each is dropped (warm-up).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- "cniveth=out/cniveth"
N=${N:-100}
REF_DIR=${BENCH_REF_DIR:-/usr/lib/cni}
WORK=$(mktemp -d /tmp/cniveth-compare.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -Wall -Werror -o "$WORK/driver" bench/driver.c
gcc -O2 -Wall -Werror -o "$WORK/floor" bench/floor.c
specs="ref=$REF_DIR/bridge"
for a in "$@"; do specs="$specs ${a%%=*}=$(realpath "${a#*=}")"; done
export N WORK specs
unshare --net --mount --propagation private --fork -- bash -c '
set -euo pipefail
mount -t tmpfs tmpfs /run; mkdir -p /run/netns "$WORK/sb"; mount -t tmpfs tmpfs "$WORK/sb"; D=$WORK/sb
labels=""
for s in $specs floor=$WORK/floor; do
  l=${s%%=*}; labels="$labels $l"; echo "$s" > $D/exe-$l
  ip netns add h-$l; ip -n h-$l link set lo up
  for i in $(seq 0 $N); do echo "netns add $l-$i"; done | ip -batch -
  t=$([ $l = ref ] && echo bridge || echo cniveth)
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"cmp\",\"type\":\"$t\",\"bridge\":\"cni0\",\"isGateway\":true,\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.88.0.0/16\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"$D/data-$l\"}}" > $D/$l.json
done
ip -n h-floor link add cni0 type bridge; ip -n h-floor addr add 10.88.0.1/16 dev cni0; ip -n h-floor link set cni0 up
# The order rotates with i, as in make bench: a call right after a DEL meets that DEL'"'"'s deferred kernel
# work (RCU callbacks, the freed veth), which put up to 2-3 ms on the DEL p50 of whichever build came second.
set -- $labels; nl=$#
for cmd in VERSION ADD DEL; do for i in $(seq 0 $N); do for k in $(seq 0 $((nl - 1))); do
  set -- $labels; shift $(( (i + k) % nl )); l=$1
  exe=$(cut -d= -f2- $D/exe-$l)
  extra=-; [ $l = floor ] && extra="FLOOR_BRIDGE=cni0,FLOOR_HOSTIF=vf$i,FLOOR_ADDR=10.88.$(( (i + 2) / 256 )).$(( (i + 2) % 256 ))/16,FLOOR_GW=10.88.0.1"
  printf "0\t%s\t%s\t%s\tc%s\t/run/netns/%s-%s\teth0\t%s\t/run/netns/h-%s\t%s\t-\t-\t%s\n" \
    "$l" "$cmd" "$exe" "$i" "$l" "$i" "$D/$l.json" "$l" "/usr/lib/cni" "$extra"
done; done; done > $D/plan
"$WORK/driver" $D/plan > $D/out.tsv
python3 - $D/out.tsv <<PY
import sys, math, statistics as st
d = {}
fails = {}
for l in open(sys.argv[1]):
    label, cmd, rc, wall, rss, cpu, *_ = l.rstrip("\n").split("\t")
    d.setdefault((cmd, label), [])
    if rc != "0": fails[(cmd, label)] = fails.get((cmd, label), 0) + 1; continue
    d[(cmd, label)].append((int(wall), int(cpu), int(rss)))
print("%-8s %-12s %4s %4s %10s %10s %9s %8s" % ("verb", "build", "n", "fail", "wall p50", "wall p90", "CPU p50", "RSS p50"))
for (cmd, label), x in sorted(d.items()):
    x = x[1:]
    if not x: print(f"{cmd:8} {label:12} all failed"); continue
    w = sorted(a[0] for a in x)
    p90 = w[max(0, math.ceil(.9 * len(w)) - 1)]
    print(f"{cmd:8} {label:12} {len(x):4} {fails.get((cmd, label), 0):4} {st.median(w)/1e6:8.2f}ms {p90/1e6:8.2f}ms "
          f"{st.median(a[1] for a in x)/1e6:7.2f}ms {st.median(a[2] for a in x)/1024:6.1f}MB")
PY
'
