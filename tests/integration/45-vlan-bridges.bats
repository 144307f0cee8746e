#!/usr/bin/env bats
# VLANs on bridges cniveth did not create, and the reference's VLAN gateway (<bridge>.<vlan>).
# Run on a kernel with bridge VLAN filtering (tests/vm: make vm-test VM_SUITES=45-vlan-bridges);
# on a kernel without it (this machine's own) they are skipped.
load helpers

setup() { kernel_kind_gate; basic_setup; }
teardown() { basic_teardown; }

vconf() {   # vconf [extra top-level JSON] [ipam JSON] — bridge cnitest0, network vlannet, 10.99.0.0/24
  local ipam=${2:-}
  [ -n "$ipam" ] || ipam=$(printf '{"type":"host-local","dataDir":"%s","ranges":[[{"subnet":"10.99.0.0/24"}]]}' "$DATA_DIR")
  printf '{"cniVersion":"1.1.0","name":"vlannet","type":"cniveth","bridge":"cnitest0"%s,"ipam":%s}' "${1:+,$1}" "$ipam"
}
add() { run_plugin ADD "$1" "$2" eth0 "$3"; assert_status 0; HV=$(jq -r '.interfaces[1].name' <<<"$output"); }
vlan_filtering_of() { in_host ip -j -d link show "$1" | jq -r '.[0].linkinfo.info_data.vlan_filtering'; }
port_vlans() {   # as in 40-options.bats: "1(PVID,untagged) 10 20-30"
  in_host bridge -j vlan show dev "$1" | jq -r --arg dev "$1" '
    [.[]? | select(.ifname == $dev) | .vlans[]?
     | {v: .vlan, e: (.vlanEnd // .vlan),
        f: ((.flags // []) | map(if . == "Egress Untagged" then "untagged" else . end) | join(","))}]
    | reduce .[] as $x ([]; if length > 0 and .[-1].e + 1 == $x.v and .[-1].f == $x.f then .[-1].e = $x.e else . + [$x] end)
    | map((if .v == .e then "\(.v)" else "\(.v)-\(.e)" end) + (if .f == "" then "" else "(\(.f))" end))
    | join(" ")'
}
assert_port_vlans() { local got; got=$(port_vlans "$1"); [ "$got" = "$2" ] || fail "VLANs of port $1: expected '$2', got '$got'"; }
v4addrs() { in_host ip -j addr show "$1" | jq -r '[.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"] | join(" ")'; }
reservations() { ls "$DATA_DIR/vlannet" 2>/dev/null | grep -vE '^(lock|last_reserved_ip\..*)$' | tr '\n' ' ' || true; }

# ---- an existing bridge whose vlan_filtering is off ------------------------------------------------
# Product decision (issue 15): with no ports yet, turning vlan_filtering on disturbs nobody, so cniveth
# does it; with ports, it would change their traffic, so the ADD fails (code 7) and changes nothing.

@test "vlan on an existing bridge with vlan_filtering off and no ports (kernel with bridge VLAN filtering): filtering is turned on and VLANs isolate" {
  in_host ip link add cnitest0 type bridge
  [ "$(vlan_filtering_of cnitest0)" = 0 ] || fail "test set-up: the bridge already filters"
  new_container C1; new_container C2; new_container C3
  add c1 "$C1" "$(vconf '"vlan":100')"        # 10.99.0.2
  [ "$(vlan_filtering_of cnitest0)" = 1 ] || fail "vlan_filtering still $(vlan_filtering_of cnitest0) on the existing bridge"
  assert_port_vlans "$HV" "100(PVID,untagged)"
  add c2 "$C2" "$(vconf '"vlan":100')"        # 10.99.0.3
  add c3 "$C3" "$(vconf '"vlan":200')"        # 10.99.0.4
  in_ns "$C1" ping -c1 -W2 10.99.0.3 >/dev/null || fail "no traffic within VLAN 100"
  ! in_ns "$C1" ping -c1 -W1 10.99.0.4 >/dev/null 2>&1 || fail "VLAN 100 reached VLAN 200: the bridge does not filter"
}

@test "vlan on an existing bridge with vlan_filtering off that has ports (kernel with bridge VLAN filtering): code 7 naming the bridge and the way out, nothing changed" {
  in_host ip link add cnitest0 type bridge
  in_host ip link add other0 type veth peer name other1       # someone else's port
  in_host ip link set other0 master cnitest0
  in_host ip link set cnitest0 up
  local vlans_before links_before
  vlans_before=$(port_vlans other0)
  links_before=$(in_host ip -j link show | jq -r '[.[].ifname] | sort | join(" ")')
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(vconf '"vlan":100')"
  assert_cni_error 7
  local msg; msg=$(jq -r .msg <<<"$output"); msg=${msg,,}
  assert_match "$msg" 'cnitest0'
  assert_match "$msg" 'vlan filtering is off|vlan_filtering is off|vlan_filtering.* 0'
  assert_match "$msg" 'port'
  assert_match "$msg" 'vlan_filtering 1|turn|enable'          # what to do: turn it on yourself ...
  assert_match "$msg" 'another bridge|other bridge|different bridge'   # ... or use another bridge
  [ "$(vlan_filtering_of cnitest0)" = 0 ] || fail "vlan_filtering was changed on a bridge with ports"
  [ "$(port_vlans other0)" = "$vlans_before" ] || fail "VLANs of the existing port changed: $(port_vlans other0)"
  [ "$(in_host ip -j link show | jq -r '[.[].ifname] | sort | join(" ")')" = "$links_before" ] || fail "host links changed"
  ! in_ns "$C1" ip link show eth0 2>/dev/null || fail "container interface left behind"
  [ -z "$(reservations)" ] || fail "reservation left behind: $(reservations)"
}

@test "vlan on an existing bridge that already filters (kernel with bridge VLAN filtering): used as it is, its ports untouched" {
  in_host ip link add cnitest0 type bridge vlan_filtering 1
  in_host ip link add other0 type veth peer name other1
  in_host ip link set other0 master cnitest0
  local vlans_before; vlans_before=$(port_vlans other0)
  new_container C1
  add c1 "$C1" "$(vconf '"vlan":100')"
  assert_port_vlans "$HV" "100(PVID,untagged)"
  [ "$(port_vlans other0)" = "$vlans_before" ] || fail "VLANs of the existing port changed"
}

# ---- vlan + isGateway: the reference's <bridge>.<vlan> gateway -----------------------------------------
# What the reference bridge plugin does (containernetworking/plugins, plugins/main/bridge, ensureVlanInterface):
# with "vlan": N and isGateway, it looks up "<bridge>.<N>" in the host and, when missing, creates it as one end
# of a VETH PAIR in the host namespace (not an 8021q interface): MTU = the bridge's MTU, the other end a
# random vethXXXXXXXX port of the bridge set up like a container's port: default VLAN removed unless
# preserveDefaultVlan, then VLAN N as PVID + untagged (no bridge "self" VLAN is changed). "<bridge>.<N>" is
# set up and gets the gateway address(es) (gw/prefix, forceAddress rules as on the bridge); the bridge gets
# none. The result lists it as interfaces[3] ({name, mac}, no sandbox). Later ADDs reuse it; DEL never
# removes it. IP forwarding is enabled as for any gateway.

@test "vlan with isDefaultGateway (kernel with bridge VLAN filtering): the gateway address is on <bridge>.<vlan>, the container pings it, another VLAN cannot" {
  new_container C1; new_container C2
  add c1 "$C1" "$(vconf '"vlan":100,"isDefaultGateway":true')"
  assert_json "$output" '.interfaces | length' 4
  assert_json "$output" '.interfaces[3].name' cnitest0.100
  assert_json "$output" '.interfaces[3].sandbox // "none"' none
  assert_json "$output" '.interfaces[3].mac' "$(in_host ip -j link show cnitest0.100 | jq -r '.[0].address')"
  [ "$(v4addrs cnitest0.100)" = "10.99.0.1/24" ] || fail "gateway address on cnitest0.100: '$(v4addrs cnitest0.100)'"
  [ -z "$(v4addrs cnitest0)" ] || fail "the bridge got an address: $(v4addrs cnitest0)"
  assert_json "$(in_ns "$C1" ip -j route show default)" '.[0].gateway' 10.99.0.1
  [ "$(in_host cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "forwarding not enabled"
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "container on VLAN 100 cannot reach its gateway"
  # control: same subnet, other VLAN, no way to the gateway
  add c2 "$C2" "$(vconf '"vlan":200')"
  ! in_ns "$C2" ping -c1 -W1 10.99.0.1 >/dev/null 2>&1 || fail "VLAN 200 reached VLAN 100's gateway"
}

@test "vlan with isGateway (kernel with bridge VLAN filtering): <bridge>.<vlan> is a veth whose peer is an access port of the VLAN, with the bridge's MTU" {
  new_container C1
  add c1 "$C1" "$(vconf '"vlan":100,"isGateway":true,"mtu":1400')"
  local gw; gw=$(in_host ip -j -d link show cnitest0.100) || fail "no cnitest0.100"
  assert_json "$gw" '.[0].linkinfo.info_kind' veth
  assert_json "$gw" '.[0].mtu' "$(in_host ip -j link show cnitest0 | jq -r '.[0].mtu')"
  assert_json "$gw" '.[0].flags | index("UP") != null' true
  assert_json "$gw" '.[0].master // "none"' none
  local peer; peer=$(jq -r '.[0].link' <<<"$gw")
  assert_json "$(in_host ip -j link show "$peer")" '.[0].master' cnitest0
  assert_port_vlans "$peer" "100(PVID,untagged)"
  assert_port_vlans cnitest0 "1(PVID,untagged)"          # the bridge's own VLANs are not touched
}

@test "vlan with isGateway (kernel with bridge VLAN filtering): a second container reuses <bridge>.<vlan>; DEL never removes it" {
  new_container C1; new_container C2
  local conf; conf=$(vconf '"vlan":100,"isGateway":true')
  add c1 "$C1" "$conf"
  local mac1; mac1=$(jq -r '.interfaces[3].mac' <<<"$output")
  add c2 "$C2" "$conf"
  assert_json "$output" '.interfaces[3].name' cnitest0.100
  assert_json "$output" '.interfaces[3].mac' "$mac1"
  assert_json "$(in_host ip -j link show)" '[.[] | select(.ifname | startswith("cnitest0."))] | length' 1
  [ "$(v4addrs cnitest0.100)" = "10.99.0.1/24" ] || fail "gateway address: '$(v4addrs cnitest0.100)'"
  in_ns "$C2" ping -c1 -W2 10.99.0.1 >/dev/null || fail "second container cannot reach the gateway"
  in_ns "$C2" ping -c1 -W2 10.99.0.2 >/dev/null || fail "second container cannot reach the first"
  run_plugin DEL c1 "$C1" eth0 "$conf"; assert_status 0
  run_plugin DEL c2 "$C2" eth0 "$conf"; assert_status 0
  [ "$(v4addrs cnitest0.100)" = "10.99.0.1/24" ] || fail "gateway interface or address removed by DEL"
}
