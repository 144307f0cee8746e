#!/usr/bin/env bats
# Native nftables (ipMasq, macspoofchk): kernel state with nft -j, and real traffic.
load helpers

setup() {
  basic_setup
  # An "outside" namespace reached through the fake host; it has NO route back to the container
  # subnet, so a container can reach it only when its source address is masqueraded.
  new_ns OUT_PID
  OUT_NS="/proc/$OUT_PID/ns/net"
  in_host ip link add upl0 type veth peer name upl1
  in_host ip link set upl1 netns "$OUT_PID"
  in_host ip addr add 192.168.77.1/24 dev upl0
  in_host ip link set upl0 up
  in_ns "$OUT_NS" ip addr add 192.168.77.2/24 dev upl1
  in_ns "$OUT_NS" ip link set upl1 up
}
teardown() { basic_teardown; }

masq_conf() { bridge_conf "${1:-1.1.0}" '"ipMasq":true'; }
nft_json() { in_host nft -j list ruleset; }
masq_elements() {
  nft_json | jq -r '[.nftables[] | select(.set? and (.set.name | startswith("saddr4-"))) | .set.elem // [] | .[]] | sort | join(",")'
}
# the network's not-masqueraded IPv4 destinations, as "a.b.c.d/n,..."
not_masqueraded() {
  nft_json | jq -r '[.nftables[] | select(.set? and (.set.name | startswith("subnet4-"))) | .set.elem // [] | .[]
    | if type == "object" then "\(.prefix.addr)/\(.prefix.len)" else . end] | sort | join(",")'
}
check_conf() { jq -c --argjson p "$2" '. + {prevResult: $p}' <<<"$1"; }

# A "peer" namespace, like another node of a cluster: 192.168.88.2 behind the host's 192.168.88.1, WITH a
# route back to the container subnet, so it answers un-NATed traffic as well as masqueraded traffic.
new_peer() {
  new_ns PEER_PID
  PEER_NS="/proc/$PEER_PID/ns/net"
  in_host ip link add pr0 type veth peer name pr1
  in_host ip link set pr1 netns "$PEER_PID"
  in_host ip addr add 192.168.88.1/24 dev pr0
  in_host ip link set pr0 up
  in_ns "$PEER_NS" ip addr add 192.168.88.2/24 dev pr1
  in_ns "$PEER_NS" ip link set pr1 up
  in_ns "$PEER_NS" ip route add 10.99.0.0/24 via 192.168.88.1
}

# watch_sources NS: NS records the source address of every ICMP echo request it receives (an input-hook
# dynamic set: after any NAT on the way, what the receiver sees); seen_sources NS prints and forgets them.
watch_sources() {
  in_ns "$1" nft -f - <<'EOF'
table ip probe {
  set sources { type ipv4_addr; flags dynamic; size 256; }
  chain input { type filter hook input priority 0; policy accept; icmp type echo-request add @sources { ip saddr }; }
}
EOF
}
seen_sources() {
  in_ns "$1" nft -j list set ip probe sources | jq -r '[.nftables[] | select(.set?) | .set.elem // [] | .[]] | sort | join(" ")'
  in_ns "$1" nft flush set ip probe sources
}

@test "ipMasq: the container reaches a network with no route back; DEL removes its set element" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(masq_conf)"; assert_status 0
  assert_json "$(nft_json)" '[.nftables[] | select(.table? and .table.name=="cniveth")] | length' 1
  [ "$(masq_elements)" = "10.99.0.2" ] || fail "set elements: $(masq_elements)"
  assert_json "$(nft_json)" '[.nftables[] | select(.rule? and .rule.chain=="postrouting")] | length' 1
  in_ns "$C1" ping -c1 -W2 192.168.77.2 >/dev/null || fail "masqueraded ping failed"

  run_plugin DEL c1 "$C1" eth0 "$(masq_conf)"; assert_status 0
  [ -z "$(masq_elements)" ] || fail "element left after DEL: $(masq_elements)"
}

@test "without ipMasq the same traffic does not come back (the SNAT test can fail)" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  ! in_ns "$C1" ping -c1 -W1 192.168.77.2 >/dev/null || fail "reached the outside without masquerading"
}

@test "ipMasq: one rule per network whatever the number of containers" {
  local i
  for i in 1 2 3 4; do
    new_container C
    run_plugin ADD "c$i" "$C" eth0 "$(masq_conf)"; assert_status 0
  done
  [ "$(masq_elements)" = "10.99.0.2,10.99.0.3,10.99.0.4,10.99.0.5" ] || fail "elements: $(masq_elements)"
  assert_json "$(nft_json)" '[.nftables[] | select(.rule?)] | length' 1
  assert_json "$(nft_json)" '[.nftables[] | select(.chain?)] | length' 1
}

@test "ipMasq: DEL with empty CNI_NETNS and after the netns is gone removes the element" {
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$(masq_conf)"; assert_status 0
  run_plugin ADD c2 "$C2" eth0 "$(masq_conf)"; assert_status 0
  run_plugin DEL c1 "" eth0 "$(masq_conf)"; assert_status 0
  [ "$(masq_elements)" = "10.99.0.3" ] || fail "elements: $(masq_elements)"
  local pid=${C2#/proc/}; pid=${pid%%/*}; kill -9 "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
  run_plugin DEL c2 "$C2" eth0 "$(masq_conf)"; assert_status 0
  [ -z "$(masq_elements)" ] || fail "elements left: $(masq_elements)"
}

@test "ipMasqBackend iptables is served by nftables (no iptables binary is run)" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf 1.1.0 '"ipMasq":true,"ipMasqBackend":"iptables"')"; assert_status 0
  [ "$(masq_elements)" = "10.99.0.2" ] || fail "elements: $(masq_elements)"
  in_ns "$C1" ping -c1 -W2 192.168.77.2 >/dev/null || fail "masqueraded ping failed"
}

@test "macspoofchk: only the container's MAC leaves its port; DEL removes the entry" {
  new_container C1
  local conf; conf=$(bridge_conf 1.1.0 '"macspoofchk":true')
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local hostveth mac; hostveth=$(jq -r '.interfaces[1].name' <<<"$output"); mac=$(jq -r '.interfaces[2].mac' <<<"$output")
  assert_json "$(nft_json)" '[.nftables[] | select(.map? and .map.name=="spoofchk-ports") | .map.elem[][0]] | join(",")' "$hostveth"
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "ping with the real MAC failed"
  in_ns "$C1" ip link set eth0 address 02:00:00:00:be:ef
  in_ns "$C1" ip neigh flush dev eth0
  ! in_ns "$C1" ping -c1 -W1 10.99.0.1 >/dev/null || fail "spoofed MAC got through"
  run_plugin DEL c1 "" eth0 "$conf"; assert_status 0
  assert_json "$(nft_json)" '[.nftables[] | select(.map? and .map.name=="spoofchk-ports") | .map.elem // [] | .[]] | length' 0
}

@test "nonMasqueradeCIDRs: traffic to a listed destination keeps the container's own address, traffic elsewhere is masqueraded" {
  new_peer
  watch_sources "$PEER_NS"; watch_sources "$OUT_NS"
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf 1.1.0 '"ipMasq":true,"nonMasqueradeCIDRs":["192.168.88.0/24"]')"; assert_status 0
  [ "$(not_masqueraded)" = "10.99.0.0/24,192.168.88.0/24" ] || fail "not-masqueraded set: $(not_masqueraded)"
  in_ns "$C1" ping -c1 -W2 192.168.88.2 >/dev/null || fail "ping to the peer failed"
  local seen; seen=$(seen_sources "$PEER_NS")
  [ "$seen" = "10.99.0.2" ] || fail "the peer saw '$seen', not the container's 10.99.0.2"
  in_ns "$C1" ping -c1 -W2 192.168.77.2 >/dev/null || fail "masqueraded ping to the outside failed"
  seen=$(seen_sources "$OUT_NS")
  [ "$seen" = "192.168.77.1" ] || fail "the outside saw '$seen', not the host's 192.168.77.1"
}

@test "without nonMasqueradeCIDRs the same peer sees the host's address (the control)" {
  new_peer
  watch_sources "$PEER_NS"
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(masq_conf)"; assert_status 0
  in_ns "$C1" ping -c1 -W2 192.168.88.2 >/dev/null || fail "ping to the peer failed"
  local seen; seen=$(seen_sources "$PEER_NS")
  [ "$seen" = "192.168.88.1" ] || fail "the peer saw '$seen', not the host's 192.168.88.1"
}

@test "nonMasqueradeCIDRs widened while containers exist: the wider prefix replaces the narrower one and takes effect for them" {
  new_peer
  watch_sources "$PEER_NS"
  new_container C1; new_container C2
  # the first config leaves the peer (192.168.88.2) out of the listed /26
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf 1.1.0 '"ipMasq":true,"nonMasqueradeCIDRs":["192.168.88.64/26"]')"; assert_status 0
  [ "$(not_masqueraded)" = "10.99.0.0/24,192.168.88.64/26" ] || fail "set: $(not_masqueraded)"
  in_ns "$C1" ping -c1 -W2 192.168.88.2 >/dev/null || fail "ping to the peer failed"
  local seen; seen=$(seen_sources "$PEER_NS")
  [ "$seen" = "192.168.88.1" ] || fail "before: the peer saw '$seen'"
  # the kernel refuses the /24 beside the /26 it contains (EEXIST): ADD merges the two in one batch
  local conf; conf=$(bridge_conf 1.1.0 '"ipMasq":true,"nonMasqueradeCIDRs":["192.168.88.0/24"]')
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
  local prev2=$output
  [ "$(not_masqueraded)" = "10.99.0.0/24,192.168.88.0/24" ] || fail "set after the wider prefix: $(not_masqueraded)"
  in_ns "$C1" ping -c1 -W2 192.168.88.2 >/dev/null || fail "ping to the peer failed"
  seen=$(seen_sources "$PEER_NS")
  [ "$seen" = "10.99.0.2" ] || fail "after: the peer saw '$seen', not c1's own 10.99.0.2"
  # CHECK with the new config verifies that the set covers the new key
  run_plugin CHECK c2 "$C2" eth0 "$(check_conf "$conf" "$prev2")"; assert_status 0
}

@test "nonMasqueradeCIDRs: an entry that is not a CIDR is a config error (code 7) naming the key and the index" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf 1.1.0 '"ipMasq":true,"nonMasqueradeCIDRs":["10.244.0.0/16","10.1"]')"
  assert_cni_error 7
  assert_match "$(jq -r .msg <<<"$output")" 'invalid nonMasqueradeCIDRs\[1\] "10.1"'
  ! in_ns "$C1" ip link show eth0 2>/dev/null || fail "ADD created the interface before refusing the config"
  [ ! -e "$DATA_DIR/testnet/10.99.0.2" ] || fail "an address was reserved"
}

@test "CHECK reports a missing masquerade rule, a dormant table and a missing base chain; the next ADD puts the rule back" {
  new_container C1; new_container C2; new_container C3
  local conf; conf=$(masq_conf)
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local check; check=$(check_conf "$conf" "$output")
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_status 0

  in_host nft flush chain inet cniveth postrouting
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_cni_error 999
  assert_match "$(jq -r .msg <<<"$output")" 'IPv4 masquerade rule of network "testnet" is missing from chain inet cniveth postrouting'
  ! in_ns "$C1" ping -c1 -W1 192.168.77.2 >/dev/null || fail "reached the outside without the rule"
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
  assert_json "$(nft_json)" '[.nftables[] | select(.rule? and .rule.chain=="postrouting")] | length' 1
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_status 0
  in_ns "$C1" ping -c1 -W2 192.168.77.2 >/dev/null || fail "c1 not masqueraded after the rule came back"

  in_host nft add table inet cniveth '{ flags dormant; }'
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_cni_error 999
  assert_match "$(jq -r .msg <<<"$output")" 'table inet cniveth is dormant'
  in_host nft add table inet cniveth    # nft sends flags 0: active again
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_status 0

  in_host nft flush chain inet cniveth postrouting
  in_host nft delete chain inet cniveth postrouting
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_cni_error 999
  assert_match "$(jq -r .msg <<<"$output")" 'chain inet cniveth postrouting is missing'
  run_plugin ADD c3 "$C3" eth0 "$conf"; assert_status 0
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_status 0
  in_ns "$C1" ping -c1 -W2 192.168.77.2 >/dev/null || fail "c1 not masqueraded after the chain came back"
}

@test "CHECK reports a missing spoof-check rule (the next ADD puts it back) and a not-masqueraded destination missing from its set" {
  new_container C1; new_container C2
  local conf; conf=$(bridge_conf 1.1.0 '"ipMasq":true,"macspoofchk":true,"nonMasqueradeCIDRs":["192.168.88.0/24"]')
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local check; check=$(check_conf "$conf" "$output")
  in_host nft flush chain bridge cniveth prerouting
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_cni_error 999
  assert_match "$(jq -r .msg <<<"$output")" 'MAC spoof check rule is missing from chain bridge cniveth prerouting'
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_status 0

  local set; set=$(nft_json | jq -r '.nftables[] | select(.set? and (.set.name | startswith("subnet4-"))) | .set.name')
  in_host nft delete element inet cniveth "$set" '{ 192.168.88.0/24 }'
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_cni_error 999
  assert_match "$(jq -r .msg <<<"$output")" '192.168.88.0/24 is missing from the not-masqueraded destinations'
}

@test "macspoofchk: the first and later ports are checked; a port without it on the same bridge is not" {
  new_container C1; new_container C2; new_container C3
  local conf; conf=$(bridge_conf 1.1.0 '"macspoofchk":true')
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0     # creates table, sets and rule
  local hv1; hv1=$(jq -r '.interfaces[1].name' <<<"$output")
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0     # only adds elements
  local hv2; hv2=$(jq -r '.interfaces[1].name' <<<"$output")
  run_plugin ADD c3 "$C3" eth0 "$(bridge_conf)"; assert_status 0
  assert_json "$(nft_json)" '[.nftables[] | select(.set? and .set.name=="spoofchk-checked") | .set.elem[]] | sort | join(",")' \
    "$(printf '%s\n' "$hv1" "$hv2" | sort | paste -sd,)"
  in_ns "$C2" ping -c1 -W2 10.99.0.1 >/dev/null || fail "c2 with its real MAC blocked"
  local c
  for c in "$C2" "$C3"; do
    in_ns "$c" ip link set eth0 address 02:00:00:00:be:ef
    in_ns "$c" ip neigh flush dev eth0
  done
  ! in_ns "$C2" ping -c1 -W1 10.99.0.1 >/dev/null || fail "spoofed MAC of the second checked port got through"
  in_ns "$C3" ping -c1 -W2 10.99.0.1 >/dev/null || fail "a port without macspoofchk was filtered"
}

@test "macspoofchk: the previous release's ruleset (a map lookup) is replaced by the next ADD; its ports stay checked" {
  new_container C1; new_container C2
  local conf; conf=$(bridge_conf 1.1.0 '"macspoofchk":true')
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local prev1=$output hv1 mac1
  hv1=$(jq -r '.interfaces[1].name' <<<"$output"); mac1=$(jq -r '.interfaces[2].mac' <<<"$output")
  # c1's state as the previous release wrote it (kernels before 6.5 refuse that rule: nothing to migrate there)
  in_host nft delete table bridge cniveth
  run in_host nft -f - <<EOF
table bridge cniveth {
  comment "managed by the cniveth CNI plugin"
  map spoofchk-ports { type ifname : ether_addr; elements = { "$hv1" : $mac1 } }
  set spoofchk-allowed { type ifname . ether_addr; elements = { "$hv1" . $mac1 } }
  chain prerouting { type filter hook prerouting priority dstnat; policy accept;
    iifname @spoofchk-ports iifname . ether saddr != @spoofchk-allowed drop comment "macspoofchk"; }
}
EOF
  [ "$status" -eq 0 ] || skip "this kernel refuses the previous release's rule ($output): nothing to migrate"
  run_plugin CHECK c1 "$C1" eth0 "$(check_conf "$conf" "$prev1")"; assert_status 0

  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
  local hv2; hv2=$(jq -r '.interfaces[1].name' <<<"$output")
  in_host nft list chain bridge cniveth prerouting | grep -q 'iifname @spoofchk-checked iifname . ether saddr != @spoofchk-allowed drop' \
    || fail "rule not replaced: $(in_host nft list chain bridge cniveth prerouting)"
  assert_json "$(nft_json)" '[.nftables[] | select(.rule? and .rule.chain=="prerouting")] | length' 1
  assert_json "$(nft_json)" '[.nftables[] | select(.set? and .set.name=="spoofchk-checked") | .set.elem[]] | sort | join(",")' \
    "$(printf '%s\n' "$hv1" "$hv2" | sort | paste -sd,)"
  run_plugin CHECK c1 "$C1" eth0 "$(check_conf "$conf" "$prev1")"; assert_status 0
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "c1 with its real MAC blocked"
  in_ns "$C1" ip link set eth0 address 02:00:00:00:be:ef
  in_ns "$C1" ip neigh flush dev eth0
  ! in_ns "$C1" ping -c1 -W1 10.99.0.1 >/dev/null || fail "c1's spoofed MAC got through after the migration"
}

@test "delegated IPAM: a DEL retried after an interrupted one leaves the NAT of the container that has the address since" {
  # A delegated IPAM cannot say who holds an address: the reference host-local under another name
  # (cniveth serves "host-local" itself), with a range of one address so that it is handed out again.
  local bin="$TEST_TMP/cni-bin"
  mkdir -p "$bin"
  ln -s "$REF_CNI_DIR/host-local" "$bin/ref-host-local"
  export CNI_PATH="$bin"
  local conf
  # (cniVersion 1.0.0: Debian's reference plugins stop there)
  conf=$(jq -c --arg d "$DATA_DIR" '.cniVersion = "1.0.0" | .ipam = {type: "ref-host-local", dataDir: $d,
    ranges: [[{subnet: "10.99.0.0/24", rangeStart: "10.99.0.2", rangeEnd: "10.99.0.2"}]]}' <<<"$(masq_conf)")
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local prev1=$output hv1; hv1=$(jq -r '.interfaces[1].name' <<<"$output")
  # c1's first DEL stopped after the delegate released the address (port down, element removed, address
  # free) and before the veth went
  in_host ip link set "$hv1" down
  local set; set=$(nft_json | jq -r '.nftables[] | select(.set? and (.set.name | startswith("saddr4-"))) | .set.name')
  in_host nft delete element inet cniveth "$set" '{ 10.99.0.2 }'
  in_host env CNI_COMMAND=DEL CNI_CONTAINERID=c1 CNI_NETNS= CNI_IFNAME=eth0 CNI_PATH="$bin" "$bin/ref-host-local" <<<"$conf"
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
  local prev2=$output
  assert_json "$output" '.ips[0].address' 10.99.0.2/24
  [ "$(masq_elements)" = "10.99.0.2" ] || fail "c2's element: $(masq_elements)"
  # the runtime retries c1's DEL with its cached result
  run_plugin DEL c1 "$C1" eth0 "$(check_conf "$conf" "$prev1")"; assert_status 0
  ! in_host ip link show "$hv1" 2>/dev/null || fail "c1's veth left"
  [ "$(masq_elements)" = "10.99.0.2" ] || fail "c1's repeated DEL removed c2's masquerade element"
  # the control: an untouched attachment's DEL (with its prevResult, as runtimes send it: a delegated
  # IPAM cannot name the addresses) does remove its element
  run_plugin DEL c2 "$C2" eth0 "$(check_conf "$conf" "$prev2")"; assert_status 0
  [ -z "$(masq_elements)" ] || fail "c2's DEL left $(masq_elements)"
}

@test "GC removes reservations, veths and firewall state of attachments that are not valid" {
  local conf; conf=$(bridge_conf 1.1.0 '"ipMasq":true,"macspoofchk":true,"nonMasqueradeCIDRs":["192.168.88.0/24"]')

  new_container C1; new_container C2
  run_plugin ADD keep "$C1" eth0 "$conf"; assert_status 0
  local keepveth; keepveth=$(jq -r '.interfaces[1].name' <<<"$output")
  run_plugin ADD gone "$C2" eth0 "$conf"; assert_status 0
  local goneveth; goneveth=$(jq -r '.interfaces[1].name' <<<"$output")
  local gc; gc=$(jq -c '. + {"cni.dev/valid-attachments":[{"containerID":"keep","ifname":"eth0"}]}' <<<"$conf")
  run_plugin GC "" "" "" "$gc"; assert_status 0
  in_host ip link show "$keepveth" >/dev/null || fail "valid veth removed"
  ! in_host ip link show "$goneveth" 2>/dev/null || fail "stale veth left"
  [ -e "$DATA_DIR/testnet/10.99.0.2" ] && [ ! -e "$DATA_DIR/testnet/10.99.0.3" ] || fail "store: $(ls "$DATA_DIR/testnet")"
  [ "$(masq_elements)" = "10.99.0.2" ] || fail "masq elements: $(masq_elements)"
  assert_json "$(nft_json)" '[.nftables[] | select(.map? and .map.name=="spoofchk-ports") | .map.elem[][0]] | join(",")' "$keepveth"
  assert_json "$(nft_json)" '[.nftables[] | select(.set? and .set.name=="spoofchk-checked") | .set.elem[]] | join(",")' "$keepveth"
  [ "$(not_masqueraded)" = "10.99.0.0/24,192.168.88.0/24" ] || fail "GC changed the network's not-masqueraded set: $(not_masqueraded)"
}

@test "a failed ADD leaves no firewall state" {
  new_container C1
  in_ns "$C1" ip link add eth0 type bridge
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf 1.1.0 '"ipMasq":true,"macspoofchk":true')"
  assert_cni_error 999
  [ -z "$(masq_elements)" ] || fail "elements left: $(masq_elements)"
}

@test "without macspoofchk a changed MAC still gets through (the spoof test can fail)" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  in_ns "$C1" ip link set eth0 address 02:00:00:00:be:ef
  in_ns "$C1" ip neigh flush dev eth0
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "changed MAC blocked without macspoofchk"
}

@test "CHECK verifies the masquerade element and the spoof check, and fails when they are removed" {
  new_container C1
  local conf; conf=$(bridge_conf 1.1.0 '"ipMasq":true,"macspoofchk":true')
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local prev=$output hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  local check; check=$(jq -c --argjson p "$prev" '. + {prevResult: $p}' <<<"$conf")
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_status 0

  local set; set=$(nft_json | jq -r '.nftables[] | select(.set? and (.set.name | startswith("saddr4-"))) | .set.name')
  in_host nft delete element inet cniveth "$set" '{ 10.99.0.2 }'
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_cni_error 999
  assert_match "$output" "masquerade for 10.99.0.2 is missing"

  in_host nft add element inet cniveth "$set" '{ 10.99.0.2 }'
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_status 0
  in_host nft delete element bridge cniveth spoofchk-ports "{ \"$hostveth\" }"
  run_plugin CHECK c1 "$C1" eth0 "$check"; assert_cni_error 999
  assert_match "$output" "has no MAC spoof check"
}

@test "one atomic nf_tables batch per ADD and per DEL (ipMasq and macspoofchk together)" {
  local conf; conf=$(bridge_conf 1.1.0 '"ipMasq":true,"macspoofchk":true')
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0      # creates table, chains, sets, rules
  PLUGIN_WRAPPER="/usr/bin/strace -f -e trace=sendto -o $TEST_TMP/add.trace" run_plugin ADD c2 "$C2" eth0 "$conf"
  assert_status 0
  PLUGIN_WRAPPER="/usr/bin/strace -f -e trace=sendto -o $TEST_TMP/del.trace" run_plugin DEL c2 "$C2" eth0 "$conf"
  assert_status 0
  local add del
  add=$(grep -c 'NFNL_MSG_BATCH_BEGIN' "$TEST_TMP/add.trace" || true)
  del=$(grep -c 'NFNL_MSG_BATCH_BEGIN' "$TEST_TMP/del.trace" || true)
  [ "$add" -eq 1 ] || fail "ADD sent $add nf_tables batches"
  [ "$del" -eq 1 ] || fail "DEL sent $del nf_tables batches"
}

@test "DEL with firewall state: port down, then the batch, then the veth, then the nf_tables socket closes" {
  # Closing an nf_tables socket whose batch deleted elements waits for an RCU grace period; so does a
  # veth deletion. Deleting the veth while the socket is still open overlaps the two waits, and the
  # port is down before its masquerade and spoof-check state goes (no unchecked traffic in between).
  local conf; conf=$(bridge_conf 1.1.0 '"ipMasq":true,"macspoofchk":true')
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  PLUGIN_WRAPPER="/usr/bin/strace -f -e trace=sendto,close -o $TEST_TMP/del.trace" run_plugin DEL c1 "$C1" eth0 "$conf"
  assert_status 0
  local down batch dellink nftclose
  down=$(grep -n 'RTM_NEWLINK' "$TEST_TMP/del.trace" | grep 'ifi_change=0x1' | head -1 | cut -d: -f1)
  batch=$(grep -n 'NFNL_MSG_BATCH_BEGIN' "$TEST_TMP/del.trace" | head -1 | cut -d: -f1)
  dellink=$(grep -n 'RTM_DELLINK' "$TEST_TMP/del.trace" | head -1 | cut -d: -f1)
  nftclose=$(grep -n 'close([0-9]*<NETLINK:\[NETFILTER' "$TEST_TMP/del.trace" | head -1 | cut -d: -f1)
  if [ -z "$nftclose" ]; then # strace without -yy names no socket: the close of the fd the batch went to
    local fd; fd=$(sed -n "${batch}p" "$TEST_TMP/del.trace" | sed -E 's/.*sendto\(([0-9]+).*/\1/')
    nftclose=$(awk -v n="$batch" -v fd="$fd" 'NR > n && $0 ~ "close\\(" fd "\\)" {print NR; exit}' "$TEST_TMP/del.trace")
  fi
  [ -n "$down" ] && [ -n "$batch" ] && [ -n "$dellink" ] && [ -n "$nftclose" ] \
    || fail "missing a step: down=$down batch=$batch dellink=$dellink close=$nftclose\n$(cat "$TEST_TMP/del.trace")"
  [ "$down" -lt "$batch" ] || fail "firewall state removed before the port went down"
  [ "$batch" -lt "$dellink" ] || fail "veth deleted before the firewall batch"
  [ "$dellink" -lt "$nftclose" ] || fail "nf_tables socket closed before the veth deletion"
  run in_host ip -j link show type veth; assert_status 0
  assert_json "$output" '[.[] | select(.ifname | startswith("veth"))] | length' 0
}
