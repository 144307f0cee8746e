#!/usr/bin/env bash
# bench/callgrind.sh [label=path ...]: user-space instruction counts (callgrind's "Collected") of VERSION,
# ADD, CHECK (the ADD's own result as prevResult) and DEL per build, plain and with ipMasq. Each call is
# exec'd as a runtime does it, in a throwaway sandbox like make bench's (own network and mount namespace,
# tmpfs /run and dataDir, one "host" namespace per build). Wall and CPU time swing with the machine's
# load; an instruction count hardly moves, so start-up work shows even on a busy machine. The kernel's
# share of a call (netlink, namespaces) is not counted: compare with bench/compare.sh for that.
#   bash bench/callgrind.sh base=/tmp/old/cniveth new=out/cniveth
# REPS (default 3) calls per verb and build, median shown. CALLGRIND_OUT=DIR keeps every profile as
# DIR/<label>-<scenario>-<verb>-<rep>.out, for callgrind_annotate (function breakdown; build with
# -p:StripSymbols=false for names).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
[ $# -gt 0 ] || set -- "cniveth=out/cniveth"
REPS=${REPS:-3}
OUTDIR=${CALLGRIND_OUT:-}
[ -z "$OUTDIR" ] || { mkdir -p "$OUTDIR"; OUTDIR=$(realpath "$OUTDIR"); }
specs=""
for a in "$@"; do specs="$specs ${a%%=*}=$(realpath "${a#*=}")"; done
WORK=$(mktemp -d /tmp/cniveth-callgrind.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export REPS OUTDIR specs WORK

unshare --net --mount --propagation private --fork -- bash -c '
set -euo pipefail
mount -t tmpfs tmpfs /run; mkdir -p /run/netns; mount -t tmpfs tmpfs "$WORK"
D=$WORK
conf() { # conf LABEL SCENARIO
  local masq=false; [ "$2" = masq ] && masq=true
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"cg-$2\",\"type\":\"cniveth\",\"bridge\":\"cg-$2\",\"isGateway\":true,\"ipMasq\":$masq,\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.$([ "$2" = masq ] && echo 89 || echo 88).0.0/16\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"$D/data-$1\"}}"
}
# call LABEL EXE SCENARIO VERB ID STDIN [PROFILE]: the Ir count into $D/count, the reply into $D/reply
call() {
  local out=/dev/null; [ -z "${7:-}" ] || out=$7
  env -i CNI_COMMAND=$4 CNI_CONTAINERID=$5 CNI_NETNS=/run/netns/$5 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
    nsenter --net=/run/netns/h-$1 valgrind --tool=callgrind --callgrind-out-file="$out" "$2" <"$6" >$D/reply 2>$D/vg \
    || { echo "callgrind.sh: $1 $3 $4 failed: $(cat $D/reply) $(grep -v "^==" $D/vg | head -3)" >&2; exit 1; }
  sed -n "s/^==[0-9]*== Collected : \([0-9]*\)$/\1/p" $D/vg > $D/count
}
for s in $specs; do
  l=${s%%=*}; exe=${s#*=}
  ip netns add h-$l; ip -n h-$l link set lo up
  for sc in plain masq; do
    conf $l $sc > $D/$l-$sc.json
    # warm-up, not counted: the bridge and the firewall ruleset exist from now on, as on a node
    ip netns add w-$l-$sc
    for v in ADD DEL; do
      env -i CNI_COMMAND=$v CNI_CONTAINERID=w-$l-$sc CNI_NETNS=/run/netns/w-$l-$sc CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
        nsenter --net=/run/netns/h-$l "$exe" <$D/$l-$sc.json >/dev/null
    done
  done
done
echo "{\"cniVersion\":\"1.0.0\"}" > $D/version.json
printf "%-8s %-8s %-10s %14s\n" scenario verb build "Ir (median)"
for sc in plain masq; do
  for verb in VERSION ADD CHECK DEL; do
    [ $sc = masq ] && [ $verb = VERSION ] && continue
    for s in $specs; do
      l=${s%%=*}; exe=${s#*=}; counts=()
      for r in $(seq 1 $REPS); do
        id=c-$l-$sc-$r; prof=""; [ -z "$OUTDIR" ] || prof=$OUTDIR/$l-$sc-$verb-$r.out
        case $verb in
          VERSION) call $l "$exe" $sc VERSION $id $D/version.json "$prof" ;;
          ADD) ip netns add $id; call $l "$exe" $sc ADD $id $D/$l-$sc.json "$prof"; cp $D/reply $D/result-$id ;;
          CHECK) jq -c --slurpfile p $D/result-$id ". + {prevResult: \$p[0]}" $D/$l-$sc.json > $D/check-$id
                 call $l "$exe" $sc CHECK $id $D/check-$id "$prof" ;;
          DEL) call $l "$exe" $sc DEL $id $D/$l-$sc.json "$prof"; ip netns del $id ;;
        esac
        counts+=("$(cat $D/count)")
      done
      median=$(printf "%s\n" "${counts[@]}" | sort -n | sed -n "$(( (REPS + 1) / 2 ))p")
      printf "%-8s %-8s %-10s %14s   (%s)\n" $sc $verb $l "$median" "${counts[*]}"
    done
  done
done
'
