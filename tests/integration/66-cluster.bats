#!/usr/bin/env bats
# A three-node cluster without an overlay (tests/cluster/cluster.bash): nodes are network namespaces on a
# shared underlay bridge (192.168.50.0/24), each with its own podCIDR out of 10.244.0.0/16, host-gw routes
# to the other nodes' podCIDRs, its own IPAM dataDir and boot id. Node 1's pods come from containerd's CRI
# (RunPodSandbox), nodes 2 and 3 exec cniveth directly. An "outside" host on the underlay has no route
# back to the pods. Every node's config has ipMasq with "nonMasqueradeCIDRs": ["10.244.0.0/16"].
#
# What a receiving pod or the outside sees is read in its own netns from an nftables dynamic set of the
# source addresses of the echo requests it received (seen_sources), i.e. after any NAT on the way.
# CRI_PLUGIN=/path/to/binary runs every node with another binary in cniveth's place.

load helpers
load ../cri/containerd
load ../cluster/cluster

setup_file() {
  export CRI_CACHE_DIR="$BATS_FILE_TMPDIR/cri-cache"
  cri_prepare "$BATS_FILE_TMPDIR/prepare"
}

setup() {
  [ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
    fail "not in a private network namespace: run through tests/integration/run.sh"
  TEST_TMP=$(mktemp -d /tmp/cniveth-cluster.XXXXXX)
  cluster_up "$TEST_TMP"
}

teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${TEST_TMP:-}" ]; then
    echo "# containerd errors and warnings (tail):"
    grep -v 'level=info' "$TEST_TMP/node1/cri/containerd.log" 2>/dev/null | tail -n 10 | cut -c1-400 | sed 's/^/#   /'
  fi
  cluster_down
  [ -n "${TEST_TMP:-}" ] && rm -rf "$TEST_TMP"
  return 0
}

# ping_from FROM TO_ADDRESS
ping_from() { in_pod "$1" ping -c1 -W2 "$2" >/dev/null || fail "$1 (node ${POD_NODE[$1]}) cannot reach $2"; }

# what node N holds of the pod network: host veths and ipMasq set elements
node_veths() { in_node "$1" ip -j link show type veth | jq -r '[.[].ifname | select(. != "eth0")] | length'; }
node_masq_elements() {
  in_node "$1" nft -j list ruleset |
    jq -r '[.nftables[] | select(.set? and (.set.name | startswith("saddr"))) | .set.elem // [] | .[]] | sort | join(" ")'
}
node_state() { echo "reservations=[$(reservations "$1")] veths=$(node_veths "$1") masq=[$(node_masq_elements "$1")]"; }

@test "cluster: pods on different nodes reach each other with their own addresses (nonMasqueradeCIDRs keeps pod-to-pod traffic un-NATed)" {
  pod_add 1 a
  pod_add 2 b
  pod_add 3 c
  local from to seen
  for to in a b c; do watch_sources "$to"; done
  for from in a b c; do
    for to in a b c; do
      [ "$from" != "$to" ] || continue
      ping_from "$from" "${POD_IP[$to]}"
      seen=$(seen_sources "$to")
      [ "$seen" = "${POD_IP[$from]}" ] ||
        fail "$to (node ${POD_NODE[$to]}) saw the echo request from '$seen', not from $from's own ${POD_IP[$from]}" \
             "(node ${POD_NODE[$from]} is $(node_ip "${POD_NODE[$from]}")): cross-node pod traffic was masqueraded"
    done
  done
}

@test "cluster: traffic leaving the cluster network is masqueraded: the outside sees only node addresses and still replies" {
  pod_add 1 a
  pod_add 2 b
  pod_add 3 c
  # the control: the outside cannot route to a pod address, so un-NATed traffic would get no reply
  run nsenter --net="$OUTSIDE_NS" ip route get "${POD_IP[a]}"
  [ "$status" -ne 0 ] || fail "the outside has a route to the pods: $output"
  watch_sources outside
  local p seen
  for p in a b c; do
    ping_from "$p" "$CL_OUTSIDE_IP"
    seen=$(seen_sources outside)
    [ "$seen" = "$(node_ip "${POD_NODE[$p]}")" ] ||
      fail "the outside saw '$seen' from $p (${POD_IP[$p]}), expected node ${POD_NODE[$p]}'s $(node_ip "${POD_NODE[$p]}")"
  done
}

@test "cluster: DEL and GC on one node never touch another node's pods (same network name, even the same container id)" {
  pod_add 1 a
  pod_add 2 b shared-id
  pod_add 2 b2
  pod_add 3 c shared-id
  local before1 before3
  before1=$(node_state 1); before3=$(node_state 3)
  [ "$(reservations 3)" = "${POD_IP[c]}" ] || fail "node 3: $(node_state 3)"

  # DEL of container "shared-id" on node 2
  node_plugin 2 DEL shared-id "${POD_NS[b]}" <<<"$(node_conf 2)" || fail "DEL on node 2 failed"
  [ "$(reservations 2)" = "${POD_IP[b2]}" ] || fail "node 2 after DEL: $(node_state 2)"
  [ "$(node_state 1)" = "$before1" ] || fail "node 1 changed: $before1 -> $(node_state 1)"
  [ "$(node_state 3)" = "$before3" ] || fail "node 3 changed by node 2's DEL of the same container id: $before3 -> $(node_state 3)"

  # GC on node 2 with no valid attachment: everything of the network on node 2 goes, nothing elsewhere
  local gc
  gc=$(jq -c '. + {"cni.dev/valid-attachments": []}' <<<"$(node_conf 2 1.1.0)")
  node_plugin 2 GC "" "" <<<"$gc" || fail "GC on node 2 failed"
  [ "$(node_state 2)" = "reservations=[] veths=0 masq=[]" ] || fail "node 2 after GC: $(node_state 2)"
  [ "$(node_state 1)" = "$before1" ] || fail "node 1 changed by node 2's GC: $before1 -> $(node_state 1)"
  [ "$(node_state 3)" = "$before3" ] || fail "node 3 changed by node 2's GC: $before3 -> $(node_state 3)"
  ping_from a "${POD_IP[c]}"
  ping_from c "${POD_IP[a]}"
}

@test "cluster: a rebooted node (new netns, new boot id) releases only its own reservations; the other nodes' pods keep theirs and their traffic" {
  pod_add 1 a
  pod_add 2 b
  pod_add 2 b2
  pod_add 3 c
  local res1 res2 res3 btime f
  res1=$(reservations 1); res2=$(reservations 2); res3=$(reservations 3)
  [ "$res2" = "${POD_IP[b]} ${POD_IP[b2]}" ] || fail "node 2 before: $res2"
  # make every node's reservation files as old as node 2's will look after its reboot: only the
  # unchanged boot ids (and separate dataDirs) of nodes 1 and 3 keep theirs
  btime=$(awk '/^btime/ {print $2}' /proc/stat)
  for f in "$TEST_TMP"/node[13]/ipam/"$CL_NET"/10.*; do touch -d "@$((btime - 60))" "$f"; done

  node_reboot 2
  pod_add 2 d          # node 2's first ADD after the reboot sweeps node 2's store
  pod_add 1 e          # nodes 1 and 3 keep working with theirs
  pod_add 3 f
  [ "$(reservations 2)" = "${POD_IP[d]}" ] || fail "node 2 after the reboot: $(reservations 2) (before: $res2)"
  local want1 want3
  want1=$(printf '%s\n' $res1 "${POD_IP[e]}" | sort -V | xargs)
  want3=$(printf '%s\n' $res3 "${POD_IP[f]}" | sort -V | xargs)
  [ "$(reservations 1)" = "$want1" ] || fail "node 1: expected [$want1] (a=${POD_IP[a]}, new e=${POD_IP[e]}), found [$(reservations 1)]"
  [ "$(reservations 3)" = "$want3" ] || fail "node 3: expected [$want3] (c=${POD_IP[c]}, new f=${POD_IP[f]}), found [$(reservations 3)]"
  # each node's store recorded its own boot id (node 1's came through containerd's environment)
  local n
  for n in 1 2 3; do
    [ "$(cat "$TEST_TMP/node$n/ipam/$CL_NET/.cniveth/boot_id")" = "$(cat "$TEST_TMP/node$n/boot_id")" ] ||
      fail "node $n's store recorded boot id '$(cat "$TEST_TMP/node$n/ipam/$CL_NET/.cniveth/boot_id")'"
  done
  # the boot sweep did not hand a live pod's address to someone else
  [ "${POD_IP[e]}" != "${POD_IP[a]}" ] && [ "${POD_IP[f]}" != "${POD_IP[c]}" ] || fail "an address was handed out twice"
  ping_from a "${POD_IP[c]}"
  ping_from d "${POD_IP[a]}"
  ping_from c "${POD_IP[d]}"
}
