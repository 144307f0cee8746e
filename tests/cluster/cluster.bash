# A three-node "cluster" without an overlay (host-gw routing), built from network namespaces.
# Sourced by tests/integration/66-cluster.bats and tests/cluster/demo.sh, after tests/cri/containerd.bash.
# Must run inside a private network + mount namespace (run.sh, demo.sh): every namespace below is new.
#
#   underlay   a netns holding the bridge "underlay" (L2 only): the nodes' network, 192.168.50.0/24
#   node N     (N = 1..3) a netns with eth0 = 192.168.50.1N/24, a veth whose other end is a port of the
#              underlay bridge; podCIDR 10.244.N.0/24 on cniveth's bridge cni0; host-gw routes to the other
#              nodes' podCIDRs via their eth0 addresses; default route via the outside router; ip_forward on.
#              Every node has its own IPAM dataDir and boot id file (CNIVETH_BOOT_ID_FILE) under CL_DIR.
#   outside    a netns on the underlay (192.168.50.254, the nodes' default gateway) that also holds the
#              "internet" address 198.51.100.1. It has no route to 10.244.0.0/16, so a pod's packet gets a
#              reply only if its node masqueraded it to the node's own address.
# Node 1 runs containerd + CRI in its netns (tests/cri/containerd.bash) and its pods come from
# RunPodSandbox; nodes 2 and 3 exec the plugin directly, as a runtime does.
#
#   cluster_up DIR       builds everything (DIR: a fresh directory on /tmp)
#   cluster_down         stops containerd, kills every namespace holder
#   pod_add NODE NAME [CONTAINER_ID]    a pod: POD_IP[NAME], POD_NODE[NAME], POD_ID[NAME]
#   pod_del NAME         node 1: StopPodSandbox + RemovePodSandbox; others: DEL
#   in_pod NAME CMD...   CMD in the pod's network namespace
#   in_node N CMD...     CMD in node N's network namespace
#   node_plugin N VERB CONTAINER_ID NETNS < CONFIG     the plugin as node N's runtime runs it
#   node_reboot N        node N loses its netns and pods, comes back with a new boot id
#   seen_sources NAME    source addresses of the ICMP echo requests the pod (or "outside") received since
#                        the last call (an nftables dynamic set in its netns; see watch_sources)

CL_NET=k8s-pods
CL_CLUSTER_CIDR=10.244.0.0/16
CL_OUTSIDE_IP=198.51.100.1
CL_ROUTER_IP=192.168.50.254

declare -gA NODE_NS=() NODE_PID=() POD_IP=() POD_NODE=() POD_ID=() POD_NS=() POD_PID=()
CL_DIR=""
_cl_pids=()

node_ip() { echo "192.168.50.1$1"; }
pod_cidr() { echo "10.244.$1.0/24"; }

# _cl_ns VAR: a new network namespace held open by a sleeping process; VAR gets the holder's pid
# (its netns is /proc/PID/ns/net). fd 3 is closed for bats.
_cl_ns() {
  unshare --net --fork --kill-child sleep infinity </dev/null >/dev/null 2>&1 3>&- &
  local launcher=$! child="" i
  disown "$launcher" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    child=$(pgrep -P "$launcher" sleep || true)
    [ -n "$child" ] && break
    sleep 0.01
  done
  [ -n "$child" ] || { echo "cluster: could not start a namespace holder" >&2; return 1; }
  _cl_pids+=("$launcher")
  nsenter --net="/proc/$child/ns/net" ip link set lo up
  printf -v "$1" '%s' "$child"
}

# _cl_uplink NS_PID NAME_INSIDE NAME_ON_BRIDGE ADDRESS: a veth from a netns to the underlay bridge
# (created inside, then one end moved: this kernel refuses iproute2's "peer ... netns" form)
_cl_uplink() {
  local pid=$1 inside=$2 port=$3 addr=$4 u=/proc/$UNDERLAY_PID/ns/net
  nsenter --net="/proc/$pid/ns/net" ip link add "$inside" type veth peer name "$port"
  nsenter --net="/proc/$pid/ns/net" ip link set "$port" netns "$UNDERLAY_PID"
  nsenter --net="$u" ip link set "$port" master underlay up
  nsenter --net="/proc/$pid/ns/net" ip addr add "$addr/24" dev "$inside"
  nsenter --net="/proc/$pid/ns/net" ip link set "$inside" up
}

# node_conf N [CNIVERSION]: node N's network config (one plugin: what libcni hands each plugin).
# nonMasqueradeCIDRs: pod-to-pod traffic across nodes keeps the pod's address; only traffic leaving the
# cluster network is masqueraded (ip-masq-agent's setting).
node_conf() {
  local n=$1 v=${2:-1.0.0}
  cat <<EOF
{"cniVersion":"$v","name":"$CL_NET","type":"cniveth","bridge":"cni0","isGateway":true,"hairpinMode":true,
 "ipMasq":true,"nonMasqueradeCIDRs":["$CL_CLUSTER_CIDR"],
 "ipam":{"type":"host-local","dataDir":"$CL_DIR/node$n/ipam","routes":[{"dst":"0.0.0.0/0"}],
         "ranges":[[{"subnet":"$(pod_cidr "$n")"}]]}}
EOF
}

# node 1's conflist for containerd: the same network plus the reference portmap
_cl_node1_conflist() {
  jq -c '{cniVersion, name, plugins: [del(.cniVersion, .name),
          {type: "portmap", capabilities: {portMappings: true}}]}' <<<"$(node_conf 1)"
}

# _cl_node_boot N: node N's netns, uplink, routes and forwarding (first boot and reboots)
_cl_node_boot() {
  local n=$1 pid m ns
  _cl_ns pid
  NODE_PID[$n]=$pid
  NODE_NS[$n]=/proc/$pid/ns/net
  ns=${NODE_NS[$n]}
  _cl_uplink "$pid" eth0 "node$n" "$(node_ip "$n")"
  for m in 1 2 3; do
    [ "$m" = "$n" ] || nsenter --net="$ns" ip route add "$(pod_cidr "$m")" via "$(node_ip "$m")" dev eth0
  done
  nsenter --net="$ns" ip route add default via "$CL_ROUTER_IP" dev eth0
  # this writes the node netns' own sysctl (net.* sysctls are per network namespace)
  nsenter --net="$ns" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
}

cluster_up() {
  CL_DIR=$1
  local n
  for n in 1 2 3; do
    mkdir -p "$CL_DIR/node$n/ipam"
    echo "node$n-boot-1" > "$CL_DIR/node$n/boot_id"
  done
  _cl_ns UNDERLAY_PID
  nsenter --net="/proc/$UNDERLAY_PID/ns/net" ip link add underlay type bridge
  nsenter --net="/proc/$UNDERLAY_PID/ns/net" ip link set underlay up
  _cl_ns OUTSIDE_PID
  OUTSIDE_NS=/proc/$OUTSIDE_PID/ns/net
  _cl_uplink "$OUTSIDE_PID" eth0 outside "$CL_ROUTER_IP"
  nsenter --net="$OUTSIDE_NS" ip addr add "$CL_OUTSIDE_IP/32" dev lo
  for n in 1 2 3; do _cl_node_boot "$n"; done

  # node 1: containerd + CRI in the node's netns; its plugin reads node 1's boot id file
  cri_prepare "$CL_DIR/node1/cri" "${CRI_PLUGIN:-$CNIVETH}"
  _cl_node1_conflist > "$CL_DIR/node1/cri/net.d/10-$CL_NET.conflist"
  echo "CNIVETH_BOOT_ID_FILE=$CL_DIR/node1/boot_id" > "$CL_DIR/node1/cri/containerd.env"
  cri_start "$CL_DIR/node1/cri" "${NODE_NS[1]}"
}

cluster_down() {
  cri_stop
  local p
  for p in "${_cl_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  _cl_pids=()
  return 0
}

in_node() { local n=$1; shift; nsenter --net="${NODE_NS[$n]}" "$@"; }

# node_plugin N VERB CONTAINER_ID NETNS < CONFIG: exec'd in the node's netns with the runtime's
# environment only (empty PATH: the plugin runs no binaries), node N's boot id file
node_plugin() {
  local n=$1 verb=$2 cid=$3 netns=$4
  nsenter --net="${NODE_NS[$n]}" env -i CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_NETNS="$netns" \
    CNI_IFNAME=eth0 CNI_PATH="$CRI_REF_DIR" CNIVETH_BOOT_ID_FILE="$CL_DIR/node$n/boot_id" PATH=/nonexistent \
    "${CRI_PLUGIN:-$CNIVETH}"
}

# pod_add NODE NAME [CONTAINER_ID]
pod_add() {
  local n=$1 name=$2 cid=${3:-} pid result
  POD_NODE[$name]=$n
  if [ "$n" = 1 ]; then
    POD_ID[$name]=$(cri runp "$name") || return 1
    POD_NS[$name]=$(cri inspectp --netns "${POD_ID[$name]}")
    POD_IP[$name]=$(cri inspectp "${POD_ID[$name]}")
  else
    _cl_ns pid
    POD_PID[$name]=$pid
    POD_NS[$name]=/proc/$pid/ns/net
    POD_ID[$name]=${cid:-$name-$RANDOM$RANDOM}
    result=$(node_plugin "$n" ADD "${POD_ID[$name]}" "${POD_NS[$name]}" <<<"$(node_conf "$n")") ||
      { echo "ADD $name on node $n failed: $result" >&2; return 1; }
    POD_IP[$name]=$(jq -r '.ips[0].address' <<<"$result" | cut -d/ -f1)
  fi
}

pod_del() {
  local name=$1 n=${POD_NODE[$1]}
  if [ "$n" = 1 ]; then
    cri stopp "${POD_ID[$name]}" && cri rmp "${POD_ID[$name]}"
  else
    node_plugin "$n" DEL "${POD_ID[$name]}" "${POD_NS[$name]}" <<<"$(node_conf "$n")"
  fi
}

in_pod() {
  local name=$1; shift
  if [ "${POD_NODE[$name]}" = 1 ]; then
    cri_in nsenter --net="${POD_NS[$name]}" "$@"      # the path lives in containerd's mount namespace
  else
    nsenter --net="${POD_NS[$name]}" "$@"
  fi
}

# _cl_in_target NAME CMD...: a pod, or "outside"
_cl_in_target() {
  local name=$1; shift
  if [ "$name" = outside ]; then nsenter --net="$OUTSIDE_NS" "$@"; else in_pod "$name" "$@"; fi
}

# watch_sources NAME: in the pod's (or outside's) netns, remember the source address of every ICMP echo
# request it receives (input hook: after any NAT on the way, exactly what the receiver sees)
watch_sources() {
  _cl_in_target "$1" nft -f - <<'EOF'
table ip probe {
  set sources { type ipv4_addr; flags dynamic; size 256; }
  chain input {
    type filter hook input priority 0; policy accept;
    icmp type echo-request add @sources { ip saddr }
  }
}
EOF
}

# seen_sources NAME: the addresses recorded since the last call (sorted, space-separated); then forgets them
seen_sources() {
  local out
  out=$(_cl_in_target "$1" nft -j list set ip probe sources |
        jq -r '[.nftables[] | select(.set?) | .set.elem // [] | .[] | if type == "object" then .elem.val else . end] | sort | join(" ")')
  _cl_in_target "$1" nft flush set ip probe sources
  echo "$out"
}

# node_reboot N: node N goes away with its pods (netns destroyed) and comes back with a new boot id.
# Its reservation files were written before this "boot": their mtime is set before the machine's boot
# time, as a real reboot would leave them (the store's sweep releases only files older than the boot).
node_reboot() {
  local n=$1 name btime f
  [ "$n" != 1 ] || { echo "node_reboot: node 1 runs containerd; reboot node 2 or 3" >&2; return 1; }
  for name in "${!POD_NODE[@]}"; do
    [ "${POD_NODE[$name]}" = "$n" ] || continue
    kill -9 "${POD_PID[$name]}" 2>/dev/null || true
    unset "POD_NODE[$name]" "POD_IP[$name]" "POD_NS[$name]" "POD_ID[$name]" "POD_PID[$name]"
  done
  kill -9 "${NODE_PID[$n]}" 2>/dev/null || true
  # the uplink's bridge port disappears with the node's netns
  btime=$(awk '/^btime/ {print $2}' /proc/stat)
  for f in "$CL_DIR/node$n/ipam/$CL_NET"/*; do
    [[ $(basename "$f") =~ ^[0-9.]+$ ]] && touch -d "@$((btime - 60))" "$f"
  done
  echo "node$n-boot-$(date +%s%N)" > "$CL_DIR/node$n/boot_id"
  local i
  for ((i = 0; i < 100; i++)); do
    nsenter --net="/proc/$UNDERLAY_PID/ns/net" ip link show "node$n" >/dev/null 2>&1 || break
    sleep 0.05
  done
  _cl_node_boot "$n"
}

# reservations N: node N's reserved addresses (file names), sorted, space-separated
reservations() {
  ls "$CL_DIR/node$1/ipam/$CL_NET" 2>/dev/null | grep -E '^[0-9.]+$' | sort -V | tr '\n' ' ' | sed 's/ $//'
}
