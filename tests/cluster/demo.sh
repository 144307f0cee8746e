#!/usr/bin/env bash
# make demo-cluster: three "nodes" (network namespaces on a shared underlay bridge) running cniveth with
# host-gw routes, node 1's pods started through containerd's CRI; shows the pods, a cross-node ping with
# the source address the far pod saw, and masqueraded egress as the outside saw it. Everything runs inside
# a private sandbox namespace and is removed at the end (tests/cluster/cluster.bash has the topology).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CNIVETH=${CNIVETH:-$PWD/out/cniveth}
[ -x "$CNIVETH" ] || { echo "demo-cluster: $CNIVETH missing: make build" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "demo-cluster: needs root (namespaces)" >&2; exit 1; }

if [ "${1:-}" != --inside ]; then
  exec unshare --net --mount --propagation private --fork -- "$0" --inside
fi

for d in /var/lib/cni /etc/cni /run/netns; do mkdir -p "$d"; mount -t tmpfs tmpfs "$d"; done
ip link set lo up
source tests/cri/containerd.bash
source tests/cluster/cluster.bash

bold() { printf "\n\033[1m== %s\033[0m\n" "$*"; }
W=$(mktemp -d /tmp/cniveth-demo-cluster.XXXXXX)
cleanup() { cluster_down; rm -rf "$W"; }
trap cleanup EXIT

bold "building the cluster (underlay 192.168.50.0/24, cluster CIDR $CL_CLUSTER_CIDR)"
cluster_up "$W"
printf "%-7s %-15s %-15s %s\n" NODE UNDERLAY PODCIDR "PODS STARTED BY"
for n in 1 2 3; do
  how="cniveth exec'd directly (as a runtime does)"
  [ "$n" = 1 ] && how="containerd $(cri version | awk '{print $2}') CRI (RunPodSandbox)"
  printf "%-7s %-15s %-15s %s\n" "node$n" "$(node_ip "$n")" "$(pod_cidr "$n")" "$how"
done
printf "%-7s %-15s %s\n" outside "$CL_ROUTER_IP" "router + $CL_OUTSIDE_IP; no route to the pods"
echo; echo "node 1's routes (host-gw: the other nodes' podCIDRs via their underlay addresses):"
in_node 1 ip route show | sed 's/^/  /'
echo; echo "node 1's network config (what containerd hands to libcni):"
jq -c '.plugins[]' "$W/node1/cri/net.d/10-$CL_NET.conflist" | sed 's/^/  /'

bold "pods"
pod_add 1 web-a; pod_add 1 web-b; pod_add 2 api-a; pod_add 3 db-a
printf "%-7s %-6s %-12s %s\n" POD NODE IP ID
for p in web-a web-b api-a db-a; do
  printf "%-7s %-6s %-12s %.12s\n" "$p" "node${POD_NODE[$p]}" "${POD_IP[$p]}" "${POD_ID[$p]}"
done

# show FROM TO: a ping and the source address TO saw
show() {
  local from=$1 to=$2 seen verdict
  watch_sources "$to" 2>/dev/null || true
  if in_pod "$from" ping -c1 -W2 "${POD_IP[$to]}" >/dev/null; then
    seen=$(seen_sources "$to")
    if [ "$seen" = "${POD_IP[$from]}" ]; then verdict="its own pod address: not NATed"
    else verdict="NOT $from's address: masqueraded on the way"; fi
    echo "$from (node${POD_NODE[$from]}, ${POD_IP[$from]}) -> $to (node${POD_NODE[$to]}, ${POD_IP[$to]}): reply received; $to saw source $seen ($verdict)"
  else
    echo "$from -> $to: no reply"
  fi
}
bold "pod to pod across nodes (source address as seen in the far pod's netns)"
show web-a db-a
show api-a web-b
show db-a api-a

bold "egress: pods to the outside ($CL_OUTSIDE_IP)"
watch_sources outside
for p in web-a api-a; do
  if in_pod "$p" ping -c1 -W2 "$CL_OUTSIDE_IP" >/dev/null; then
    seen=$(seen_sources outside)
    verdict="node${POD_NODE[$p]}'s underlay address: masqueraded"
    [ "$seen" = "$(node_ip "${POD_NODE[$p]}")" ] || verdict="not node${POD_NODE[$p]}'s address"
    echo "$p (node${POD_NODE[$p]}, ${POD_IP[$p]}) -> outside: reply received; the outside saw source $seen ($verdict)"
  else
    echo "$p -> outside: no reply"
  fi
done
echo; echo "node 1's masquerade rule:"
in_node 1 nft list chain inet cniveth postrouting | grep -E 'masquerade' | sed 's/^[[:space:]]*/  /'

bold "cleaning up: StopPodSandbox + RemovePodSandbox on node 1, DEL on nodes 2 and 3"
for p in web-a web-b api-a db-a; do pod_del "$p"; done
for n in 1 2 3; do
  echo "node$n: reservations [$(reservations "$n")], host veths $(in_node "$n" ip -o link show type veth | grep -vc ' eth0@' || true)"
done
echo "containerd's sandboxes: $(cri listp -q | wc -l)"
bold "demo finished: containerd stopped, every namespace removed"
