#!/usr/bin/env bash
# make demo: two "containers" (network namespaces) attached by cniveth to one bridge, inside a private
# sandbox namespace — the machine's own network is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
export CNIVETH="$PWD/out/cniveth" CONFLIST="${CONFLIST:-$PWD/conf/10-cniveth.conflist}"
exec unshare --net --mount --propagation private --fork -- bash -c '
set -euo pipefail
mkdir -p /var/lib/cni && mount -t tmpfs tmpfs /var/lib/cni
ip link set lo up
bold() { printf "\n\033[1m== %s\033[0m\n" "$*"; }
# A network config is one entry of the conflist plus the list-level name and cniVersion (what libcni sends).
CONF=$(jq -c "(.plugins[0]) + {name: .name, cniVersion: .cniVersion}" "$CONFLIST")
NET=$(jq -r .name "$CONFLIST")
pids=()
# SIGKILL: unshare --fork ignores SIGTERM while it waits; --kill-child then takes the sleeper along.
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
# container VAR: a network namespace held open by a sleeping process; VAR gets its path.
container() {
  unshare --net --fork --kill-child sleep infinity >/dev/null 2>&1 & local p=$!; pids+=($p)
  local c=""; while [ -z "$c" ]; do c=$(pgrep -P $p sleep || true); done
  printf -v "$1" "%s" "/proc/$c/ns/net"
}
cni() { CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$3 CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin "$CNIVETH" <<<"$4"; }

bold "config ($CONFLIST)"; jq . <<<"$CONF"
container A; container B
bold "ADD demo-a ($A)"; RA=$(cni ADD demo-a "$A" "$CONF"); jq . <<<"$RA"
bold "ADD demo-b ($B)"; RB=$(cni ADD demo-b "$B" "$CONF"); jq -c .ips <<<"$RB"
IPA=$(jq -r ".ips[0].address" <<<"$RA" | cut -d/ -f1); IPB=$(jq -r ".ips[0].address" <<<"$RB" | cut -d/ -f1)
GW=$(jq -r ".ips[0].gateway" <<<"$RA")
bold "host: bridge and ports"; bridge link show 2>/dev/null || ip -br link show master "$(jq -r .bridge <<<"$CONF")"
ip -br addr show "$(jq -r .bridge <<<"$CONF")"
bold "demo-a pings demo-b ($IPB) and the gateway ($GW)"
nsenter --net="$A" ping -c 2 -W 2 "$IPB"; nsenter --net="$A" ping -c 1 -W 2 "$GW"
bold "ipMasq: native nftables (no nft/iptables binary was run by the plugin)"
nft list table inet cniveth 2>/dev/null | sed -n "1,40p" || echo "(ipMasq off in this config)"
bold "CHECK demo-a (prevResult = its ADD result)"
cni CHECK demo-a "$A" "$(jq -c --argjson p "$RA" ". + {prevResult: \$p}" <<<"$CONF")" && echo "CHECK ok"
bold "DEL both (demo-b as containerd does it: empty CNI_NETNS)"
cni DEL demo-a "$A" "$CONF" && echo "DEL demo-a ok"; cni DEL demo-b "" "$CONF" && echo "DEL demo-b ok"
bold "what is left"
echo "veths: $(ip -br link show type veth | wc -l)"
echo "reservations: $(ls /var/lib/cni/networks/$NET | grep -cE "^[0-9a-f.:]+$" || true)"
echo "masquerade set elements: $(nft -j list ruleset 2>/dev/null | jq "[.nftables[] | select(.set? and (.set.name | startswith(\"saddr\"))) | .set.elem // [] | .[]] | length")"
echo "the bridge stays for the next container (as with the reference plugin):"; ip -br link show type bridge
bold "demo finished: the sandbox namespace disappears with this process"
'
