#!/usr/bin/env bash
# CRI-level timing: RunPodSandbox and StopPodSandbox + RemovePodSandbox through containerd 1.6's CRI
# plugin, with [cniveth, portmap] against [reference bridge + host-local, portmap], both with ipMasq.
# One containerd serves both: two runtime handlers, each with a cni_conf_dir of its own; every round runs
# one pod cycle per handler, and the order alternates every round (so neither always goes first).
# Timings are taken inside the client around each gRPC call (tests/cri/cri.py cycle).
#
# Usage: tests/cri/bench-cri.sh [ROUNDS]      (default CRI_BENCH_N or 20, plus 2 warm-up rounds)
# Knobs: CNIVETH (out/cniveth), REF_CNI_DIR (/usr/lib/cni), CRI_BENCH_PORT=1 (each pod also maps a
# hostPort: portmap then does its iptables work), CRI_BENCH_RAW=path (keep the per-cycle lines).
# Runs entirely inside the sandbox the harness makes (own network, mount and pid namespaces).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-${CRI_BENCH_N:-20}}
WARMUP=2
CNIVETH=$(realpath "${CNIVETH:-out/cniveth}")
export CNIVETH
[ "$(id -u)" -eq 0 ] || { echo "bench-cri: needs root (namespaces)" >&2; exit 1; }
[ -x "$CNIVETH" ] || { echo "bench-cri: $CNIVETH missing: make build" >&2; exit 1; }
source tests/cri/containerd.bash

WORK=$(mktemp -d /tmp/cniveth-bench-cri.XXXXXX)
trap 'cri_stop; rm -rf "$WORK"' EXIT
cri_prepare "$WORK"
mkdir -p "$WORK/net.d-cniveth" "$WORK/net.d-ref"

# conflist NAME TYPE BRIDGE SUBNET: the same chain for both, only the first plugin's type differs
conflist() {
  cat <<EOF
{"cniVersion":"1.0.0","name":"$1","plugins":[
 {"type":"$2","bridge":"$3","isGateway":true,"ipMasq":true,"hairpinMode":true,
  "ipam":{"type":"host-local","routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"$4"}]]}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
EOF
}
conflist bench-cniveth cniveth cni-veth0 10.86.0.0/24 > "$WORK/net.d-cniveth/10-bench.conflist"
conflist bench-ref bridge cni-ref0 10.87.0.0/24 > "$WORK/net.d-ref/10-bench.conflist"
# the default conf_dir gets the cniveth one (the default handler is not used here)
cp "$WORK/net.d-cniveth/10-bench.conflist" "$WORK/net.d/"

CRI_EXTRA_TOML="
  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.cniveth]
    runtime_type = \"io.containerd.runc.v2\"
    cni_conf_dir = \"$WORK/net.d-cniveth\"
    cni_max_conf_num = 1
  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.ref]
    runtime_type = \"io.containerd.runc.v2\"
    cni_conf_dir = \"$WORK/net.d-ref\"
    cni_max_conf_num = 1"
cri_start "$WORK"

ports=()
[ "${CRI_BENCH_PORT:-0}" = 1 ] && ports=(--port 8080:80)
cri cycle --runtime cniveth --runtime ref --count $((ROUNDS + WARMUP)) "${ports[@]}" > "$WORK/raw"
[ -z "${CRI_BENCH_RAW:-}" ] || cp "$WORK/raw" "$CRI_BENCH_RAW"
# each handler did use its own network: both bridges exist (each made by its plugin's first ADD)
for br in cni-veth0 cni-ref0; do
  cri_in ip link show "$br" >/dev/null 2>&1 || { echo "bench-cri: bridge $br missing: a handler did not use its network" >&2; exit 1; }
done
# every pod is gone: nothing leaked in either network
left=$(cri listp -q | wc -l)
[ "$left" -eq 0 ] || { echo "bench-cri: $left sandboxes left" >&2; exit 1; }

# column 6: stop + remove
awk '{print $0, $4 + $5}' "$WORK/raw" > "$WORK/table"

# stat HANDLER COLUMN: "median p90" (p90: nearest rank) over the measured rounds
stat() {
  awk -v h="$1" -v c="$2" -v w="$WARMUP" '$1 == h && $2 >= w {print $c}' "$WORK/table" | sort -n |
    awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                          printf "%.1f %.1f", m, v[int(NR * 0.9 + 0.999)]}'
}
row() {   # LABEL COLUMN
  local a b
  a=$(stat cniveth "$2"); b=$(stat ref "$2")
  awk -v l="$1" -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " ");
    printf "%-32s %9.1f %9.1f %11.1f %11.1f %7.2f\n", l, x[1], x[2], y[1], y[2], x[1] / y[1]}'
}

echo
echo "CRI pod cycle, containerd $(containerd --version | awk '{print $3}'), $ROUNDS interleaved rounds (ms)"
printf "%-32s %9s %9s %11s %11s %7s\n" "" "cniveth" "p90" "reference" "p90" "ratio"
row "RunPodSandbox" 3
row "StopPodSandbox" 4
row "RemovePodSandbox" 5
row "StopPodSandbox+RemovePodSandbox" 6
echo "(ratio = cniveth median / reference median; reference = bridge + host-local from $CRI_REF_DIR;"
echo " load average $(cut -d' ' -f1-3 /proc/loadavg): a shared machine's numbers are only indicative)"
