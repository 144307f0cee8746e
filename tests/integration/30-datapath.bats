#!/usr/bin/env bats
# The datapath: veth + bridge + addresses, verified in the kernel with ip -j and real traffic.
load helpers

setup() { basic_setup; }
teardown() { basic_teardown; }

@test "ADD attaches a container: veth pair, bridge, address, routes, result" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf 1.1.0)"
  assert_status 0
  assert_json "$output" '.cniVersion' "1.1.0"
  assert_json "$output" '.interfaces | length' 3
  assert_json "$output" '.interfaces[0].name' cnitest0
  assert_json "$output" '.interfaces[2].name' eth0
  assert_json "$output" '.interfaces[2].sandbox' "$C1"
  assert_json "$output" '.ips[0].address' 10.99.0.2/24
  assert_json "$output" '.ips[0].gateway' 10.99.0.1
  assert_json "$output" '.ips[0].interface' 2
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  assert_match "$hostveth" '^veth[0-9a-f]{8}$'
  local cmac; cmac=$(jq -r '.interfaces[2].mac' <<<"$output")

  # host side: bridge up with the gateway, veth enslaved and up, owner alias set
  local br; br=$(in_host ip -j -d link show cnitest0)
  assert_json "$br" '.[0].linkinfo.info_kind' bridge
  assert_json "$(in_host ip -j addr show cnitest0)" '.[0].addr_info[] | select(.family=="inet") | .local' 10.99.0.1
  local hv; hv=$(in_host ip -j -d link show "$hostveth")
  assert_json "$hv" '.[0].master' cnitest0
  assert_json "$hv" '.[0].linkinfo.info_kind' veth
  assert_json "$hv" '.[0].operstate' UP
  assert_json "$hv" '.[0].ifalias' "cniveth testnet c1 eth0"
  # container side
  local cl; cl=$(in_ns "$C1" ip -j -d link show eth0)
  assert_json "$cl" '.[0].linkinfo.info_kind' veth
  assert_json "$cl" '.[0].address' "$cmac"
  assert_json "$(in_ns "$C1" ip -j addr show eth0)" '.[0].addr_info[] | select(.family=="inet") | .local' 10.99.0.2
  assert_json "$(in_ns "$C1" ip -j route show default)" '.[0].gateway' 10.99.0.1
  [ "$(in_ns "$C1" cat /proc/sys/net/ipv4/conf/eth0/arp_notify)" = 1 ] || fail "arp_notify not set"
  [ "$(in_host cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "ip_forward not enabled"
  # the port has no IPv6 of its own (the bridge keeps the gateway; container IPv6 is layer 2)
  [ "$(in_host cat /proc/sys/net/ipv6/conf/"$hostveth"/disable_ipv6)" = 1 ] || fail "IPv6 left on the host veth"
  assert_json "$(in_host ip -j addr show "$hostveth")" '[.[0].addr_info[] | select(.family=="inet6")] | length' 0
}

@test "a bridge with the kernel's 1,023 ports: ADD fails naming the limit and the way out, leaves nothing; STATUS is 50 until a port goes" {
  new_container C1; new_container C2
  local conf; conf=$(bridge_conf 1.1.0)
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  # 1,022 more ports (plain veth pairs in the host) fill the bridge
  local i
  for i in $(seq 1 1022); do echo "link add f$i master cnitest0 type veth peer name g$i"; done | in_host ip -batch -
  [ "$(in_host ip -j link show master cnitest0 | jq length)" = 1023 ] || fail "the bridge did not fill"
  # 2,044 new links queue as many carrier events for the kernel's linkwatch worker; on a slow (emulated)
  # CPU it takes seconds to get through them, and a port's carrier comes up only behind them. ADD waits
  # 2.5 s for its port, as the reference does: let the queue drain first (a probe pair comes up last).
  in_host ip link add probe0 type veth peer name probe1
  in_host ip link set probe1 up; in_host ip link set probe0 up
  for i in $(seq 1 300); do
    [ "$(in_host ip -j link show probe0 | jq -r '.[0].operstate')" = UP ] && break
    sleep 0.1
  done
  in_host ip link del probe0
  run_plugin STATUS "" "" "" "$conf"; assert_cni_error 50
  assert_match "$(jq -r .msg <<<"$output")" 'bridge "cnitest0" is full: it has 1023 ports'
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_cni_error 999
  assert_match "$(jq -r .msg <<<"$output")" 'bridge "cnitest0" is full: the kernel allows 1,023 ports per bridge'
  assert_match "$(jq -r .details <<<"$output")" 'another network with its own "bridge"'
  [ ! -e "$DATA_DIR/testnet/10.99.0.3" ] || fail "the failed ADD kept its reservation"
  ! in_ns "$C2" ip link show eth0 2>/dev/null || fail "the failed ADD left the container interface"
  in_host ip link del f1
  run_plugin STATUS "" "" "" "$conf"; assert_status 0
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
}

@test "two containers ping each other and the gateway" {
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  run_plugin ADD c2 "$C2" eth0 "$(bridge_conf)"; assert_status 0
  assert_json "$output" '.ips[0].address' 10.99.0.3/24
  in_ns "$C1" ping -c1 -W2 10.99.0.3 >/dev/null || fail "c1 cannot reach c2"
  in_ns "$C2" ping -c1 -W2 10.99.0.2 >/dev/null || fail "c2 cannot reach c1"
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "c1 cannot reach the gateway"
}

@test "DEL removes veth and reservation; DEL twice succeeds" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  [ -f "$DATA_DIR/testnet/10.99.0.2" ] || fail "no reservation file"
  run_plugin DEL c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  [ -z "$output" ] || fail "DEL printed: $output"
  ! in_host ip link show "$hostveth" 2>/dev/null || fail "host veth left behind"
  ! in_ns "$C1" ip link show eth0 2>/dev/null || fail "container interface left behind"
  [ ! -e "$DATA_DIR/testnet/10.99.0.2" ] || fail "reservation left behind"
  run_plugin DEL c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
}

@test "DEL with empty CNI_NETNS (containerd ctr) cleans up everything" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  run_plugin DEL c1 "" eth0 "$(bridge_conf)"; assert_status 0
  ! in_host ip link show "$hostveth" 2>/dev/null || fail "host veth left behind"
  [ ! -e "$DATA_DIR/testnet/10.99.0.2" ] || fail "reservation left behind"
}

@test "DEL after the netns is gone cleans up everything" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  local pid=${C1#/proc/}; pid=${pid%%/*}
  kill -9 "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
  run_plugin DEL c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  ! in_host ip link show "$hostveth" 2>/dev/null || fail "host veth left behind"
  [ ! -e "$DATA_DIR/testnet/10.99.0.2" ] || fail "reservation left behind"
}

@test "DEL with a netns path that is not a namespace still cleans the host side" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  touch "$TEST_TMP/notans"
  run_plugin DEL c1 "$TEST_TMP/notans" eth0 "$(bridge_conf)"; assert_status 0
  ! in_host ip link show "$hostveth" 2>/dev/null || fail "host veth left behind"
  [ ! -e "$DATA_DIR/testnet/10.99.0.2" ] || fail "reservation left behind"
}

@test "DEL for a container never added succeeds" {
  run_plugin DEL never "" eth0 "$(bridge_conf)"; assert_status 0
}

@test "CHECK passes after ADD, then fails when the address, a route or the veth is removed" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  local prev=$output
  local conf; conf=$(jq -c --argjson p "$prev" '. + {prevResult: $p}' <<<"$(bridge_conf)")
  run_plugin CHECK c1 "$C1" eth0 "$conf"; assert_status 0

  in_ns "$C1" ip route del default
  run_plugin CHECK c1 "$C1" eth0 "$conf"; assert_cni_error 999
  assert_match "$output" "route 0.0.0.0/0"

  in_ns "$C1" ip route add default via 10.99.0.1
  run_plugin CHECK c1 "$C1" eth0 "$conf"; assert_status 0
  in_ns "$C1" ip addr del 10.99.0.2/24 dev eth0
  run_plugin CHECK c1 "$C1" eth0 "$conf"; assert_cni_error 999
  assert_match "$output" "10.99.0.2/24"

  in_ns "$C1" ip link del eth0
  run_plugin CHECK c1 "$C1" eth0 "$conf"; assert_cni_error 999
  assert_match "$output" "eth0"
}

@test "CHECK without prevResult is an error" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  run_plugin CHECK c1 "$C1" eth0 "$(bridge_conf)"
  assert_cni_error 7
  assert_match "$output" "prevResult"
}

@test "ADD when the container interface already exists fails and leaves it alone" {
  new_container C1
  in_ns "$C1" ip link add eth0 type bridge
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"
  assert_cni_error 999
  assert_match "$output" "already exists"
  assert_json "$(in_ns "$C1" ip -j -d link show eth0)" ".[0].linkinfo.info_kind" bridge
  [ -z "$(ls "$DATA_DIR/testnet" | grep -E '^10\.' || true)" ] || fail "reservation left behind: $(ls "$DATA_DIR/testnet")"
  [ -z "$(in_host ip -j link show type veth | jq -r '.[].ifname')" ] || fail "veth left behind"
}

@test "a same-named link that is not a bridge is refused" {
  in_host ip link add cnitest0 type veth peer name cnitest0p
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"
  assert_cni_error 7
  assert_match "$output" "already exists but is not a bridge"
  [ -z "$(ls "$DATA_DIR/testnet" 2>/dev/null | grep -E '^10\.' || true)" ] || fail "reservation left behind"
}

@test "ADD with a netns that does not exist fails without leaving anything" {
  run_plugin ADD c1 /proc/999999/ns/net eth0 "$(bridge_conf)"
  [ "$status" -ne 0 ] || fail "expected failure"
  assert_json "$output" '.code' 3
  [ -z "$(ls "$DATA_DIR/testnet" 2>/dev/null | grep -E '^10\.' || true)" ] || fail "reservation left behind"
}

@test "a leftover veth of the same attachment (killed ADD) is replaced" {
  new_container C1; new_container OLD
  run_plugin ADD c1 "$OLD" eth0 "$(bridge_conf)"; assert_status 0
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  # the runtime lost track of the attachment and retries in a new namespace
  rm -f "$DATA_DIR"/testnet/10.99.0.2
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"; assert_status 0
  assert_json "$output" '.interfaces[1].name' "$hostveth"
  in_ns "$C1" ip link show eth0 >/dev/null || fail "new container interface missing"
}

@test "results come in every spec version's shape" {
  local v
  for v in 0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
    new_container C
    run_plugin ADD "c-$v" "$C" eth0 "$(bridge_conf "$v")"
    assert_status 0
    assert_json "$output" '.cniVersion' "$v"
    case $v in
      0.1.0|0.2.0) assert_json "$output" '.ip4.ip' "$(jq -r '.ip4.ip' <<<"$output")"
                   assert_match "$(jq -r '.ip4.ip' <<<"$output")" '^10\.99\.0\.[0-9]+/24$'
                   assert_json "$output" '.ip4.gateway' 10.99.0.1 ;;
      0.3.0|0.3.1|0.4.0) assert_json "$output" '.ips[0].version' 4
                   assert_json "$output" '.interfaces | length' 3 ;;
      *) assert_json "$output" '.ips[0].version' null
         assert_json "$output" '.ips[0].interface' 2 ;;
    esac
  done
}

@test "a host name clash with another owner is an error naming both, and leaves the other alone" {
  new_container OLD; new_container C1
  run_plugin ADD c1 "$OLD" eth0 "$(bridge_conf)"; assert_status 0
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  # pretend the interface belongs to someone else, and that the runtime lost this attachment
  in_host ip link set "$hostveth" alias "cniveth othernet other-ctr eth9"
  rm -f "$DATA_DIR"/testnet/10.99.0.2 "$DATA_DIR"/testnet/.cniveth/owners/*
  run_plugin ADD c1 "$C1" eth0 "$(bridge_conf)"
  assert_cni_error 999
  assert_match "$output" "container \\\\\"c1\\\\\""
  assert_match "$output" "other-ctr"
  in_host ip link show "$hostveth" >/dev/null || fail "the other owner's interface was removed"
  ! in_ns "$C1" ip link show eth0 2>/dev/null || fail "container interface left behind"
}
