#!/usr/bin/env bats
# Every bridge option of the reference plugin, verified in the kernel (ip -j, bridge -j, /proc/sys)
# and, where it matters, with real traffic.
load helpers

setup() { kernel_kind_gate; basic_setup; }
teardown() { basic_teardown; }

# ---- configs ------------------------------------------------------------------------------------
# ipam_ranges 'RANGESET_JSON[,RANGESET_JSON...]' [extra ipam JSON] — host-local with those range sets.
ipam_ranges() {
  printf '{"type":"host-local","dataDir":"%s","ranges":[%s]%s}' "$DATA_DIR" "$1" "${2:+,$2}"
}
v4() { ipam_ranges "[{\"subnet\":\"${1:-10.99.0.0/24}\"}]" "${2:-}"; }
v6() { ipam_ranges "[{\"subnet\":\"${1:-fd00:99::/64}\"}]" "${2:-}"; }
dual() { ipam_ranges '[{"subnet":"10.99.0.0/24"}],[{"subnet":"fd00:99::/64"}]'; }

# oconf [extra top-level JSON] [ipam JSON] — a config for bridge cnitest0 (network $NET, default optnet);
# isGateway is true unless EXTRA sets it.
oconf() {
  local extra=${1:-} ipam=${2:-}
  [ -n "$ipam" ] || ipam=$(v4)
  [[ "$extra" == *'"isGateway"'* ]] || extra='"isGateway":true'${extra:+,$extra}
  printf '{"cniVersion":"%s","name":"%s","type":"cniveth","bridge":"cnitest0"%s,"ipam":%s}' \
    "${CNIVER:-1.1.0}" "${NET:-optnet}" "${extra:+,$extra}" "$ipam"
}

# add CID NETNS CONF — ADD that must succeed; sets $output (the result) and $HV (host veth name).
add() {
  run_plugin ADD "$1" "$2" eth0 "$3"
  assert_status 0
  HV=$(jq -r '.interfaces[1].name' <<<"$output")
}

with_prev() { jq -c --argjson p "$2" '. + {prevResult: $p}' <<<"$1"; }
host_veths() { in_host ip -j link show type veth | jq -r '.[].ifname' | sort | tr '\n' ' '; }
reservations() { ls "$DATA_DIR/${1:-optnet}" 2>/dev/null | grep -vE '^(lock|last_reserved_ip\..*)$' | tr '\n' ' ' || true; }
addrs() { jq -r --arg f "$2" '[.[0].addr_info[] | select(.family==$f and .scope=="global") | "\(.local)/\(.prefixlen)"] | join(" ")' <<<"$1"; }
sysctl_in() { in_ns "$1" cat "/proc/sys/$2"; }
# fast_dad NETNS: interfaces created later in NETNS start DAD at once (no random delay of up to 1 s)
fast_dad() { in_ns "$1" sysctl -qw net.ipv6.conf.default.router_solicitation_delay=0; }

# ---- mtu ----------------------------------------------------------------------------------------
@test "mtu: a bridge created by ADD and both veth ends get it" {
  new_container C1
  add c1 "$C1" "$(oconf '"mtu":1400')"
  assert_json "$(in_host ip -j link show cnitest0)" '.[0].mtu' 1400
  assert_json "$(in_host ip -j link show "$HV")" '.[0].mtu' 1400
  assert_json "$(in_ns "$C1" ip -j link show eth0)" '.[0].mtu' 1400
  [ "$(in_host cat /proc/sys/net/ipv6/conf/cnitest0/accept_ra)" = 0 ] || fail "accept_ra not 0 on the new bridge"
  in_ns "$C1" ping -c1 -W2 -s 1372 -M do 10.99.0.1 >/dev/null || fail "full-size packet does not pass"
}

@test "mtu: an existing bridge keeps its MTU, the veth ends get the configured one" {
  in_host ip link add cnitest0 type bridge
  in_host ip link set cnitest0 mtu 9000
  new_container C1
  add c1 "$C1" "$(oconf '"mtu":1400')"
  assert_json "$(in_host ip -j link show cnitest0)" '.[0].mtu' 9000
  assert_json "$(in_host ip -j link show "$HV")" '.[0].mtu' 1400
  assert_json "$(in_ns "$C1" ip -j link show eth0)" '.[0].mtu' 1400
}

# ---- port flags ---------------------------------------------------------------------------------
@test "hairpinMode sets hairpin on the host port; off by default" {
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '"hairpinMode":true')"
  assert_json "$(in_host bridge -j -d link show dev "$HV")" '.[0].hairpin' true
  assert_json "$(in_host bridge -j -d link show dev "$HV")" '.[0].isolated' false
  add c2 "$C2" "$(oconf)"
  assert_json "$(in_host bridge -j -d link show dev "$HV")" '.[0].hairpin' false
}

@test "promiscMode sets promisc on the bridge; combined with hairpinMode it is the reference's error" {
  new_container C1
  add c1 "$C1" "$(oconf '"promiscMode":true')"
  in_host ip -j link show cnitest0 | jq -e '.[0].flags | index("PROMISC")' >/dev/null || fail "bridge not promisc"
  in_host ip link del cnitest0
  new_container C2
  run_plugin ADD c2 "$C2" eth0 "$(oconf '"promiscMode":true,"hairpinMode":true')"
  assert_cni_error 7
  assert_match "$(jq -r .msg <<<"$output")" "^cannot set hairpin mode and promiscuous mode at the same time"
  ! in_host ip link show cnitest0 2>/dev/null || fail "bridge created by a rejected ADD"
}

@test "CHECK compares the bridge's promiscuous flag with promiscMode, as the reference does" {
  new_container C1
  add c1 "$C1" "$(oconf '"promiscMode":true')"
  local conf; conf=$(with_prev "$(oconf '"promiscMode":true')" "$output")
  run_plugin CHECK c1 "$C1" eth0 "$conf"; assert_status 0
  in_host ip link set cnitest0 promisc off
  run_plugin CHECK c1 "$C1" eth0 "$conf"; assert_cni_error 999
  assert_match "$output" 'not promiscuous'
}

@test "portIsolation: isolated ports reach the gateway but not each other" {
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '"portIsolation":true')"
  assert_json "$(in_host bridge -j -d link show dev "$HV")" '.[0].isolated' true
  add c2 "$C2" "$(oconf '"portIsolation":true')"
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "c1 cannot reach the gateway"
  in_ns "$C2" ping -c1 -W2 10.99.0.1 >/dev/null || fail "c2 cannot reach the gateway"
  ! in_ns "$C1" ping -c1 -W1 10.99.0.3 >/dev/null 2>&1 || fail "isolated ports can talk"
}

# ---- gateway --------------------------------------------------------------------------------------
@test "isDefaultGateway: gateway on the bridge, default route via it, an IPAM default is not duplicated" {
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '"isDefaultGateway":true')"
  assert_json "$output" '[.routes[] | select(.dst=="0.0.0.0/0") | .gw] | join(",")' 10.99.0.1
  assert_json "$(in_host ip -j addr show cnitest0)" "$(printf '%s' '[.[0].addr_info[] | select(.family=="inet") | .local] | join(",")')" 10.99.0.1
  assert_json "$(in_ns "$C1" ip -j route show default)" '[.[].gateway] | join(",")' 10.99.0.1
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "no traffic to the gateway"

  add c2 "$C2" "$(oconf '"isDefaultGateway":true' "$(v4 10.99.0.0/24 '"routes":[{"dst":"0.0.0.0/0"}]')")"
  assert_json "$output" '[.routes[] | select(.dst=="0.0.0.0/0")] | length' 1
  assert_json "$(in_ns "$C2" ip -j route show default)" '[.[].gateway] | join(",")' 10.99.0.1
}

@test "isGateway off: no address on the bridge, no default route" {
  new_container C1
  add c1 "$C1" "$(oconf '"isGateway":false')"
  assert_json "$(in_host ip -j addr show cnitest0)" '[.[0].addr_info[] | select(.family=="inet")] | length' 0
  assert_json "$(in_ns "$C1" ip -j route show default)" 'length' 0
  assert_json "$output" '.ips[0].gateway' 10.99.0.1
}

@test "forceAddress: without it a different gateway is refused and ADD leaves nothing; with it the address is replaced" {
  new_container C1; new_container C2
  NET=neta add c1 "$C1" "$(NET=neta oconf '"isGateway":true')"
  local veths_before; veths_before=$(host_veths)

  NET=netb run_plugin ADD c2 "$C2" eth0 "$(NET=netb oconf '"isGateway":true' "$(v4 10.98.0.0/24)")"
  assert_cni_error 999
  assert_json "$output" '.msg' '"cnitest0" already has an IP address different from 10.98.0.1/24'
  [ "$(host_veths)" = "$veths_before" ] || fail "veth left behind: $(host_veths)"
  ! in_ns "$C2" ip link show eth0 2>/dev/null || fail "container interface left behind"
  [ -z "$(reservations netb)" ] || fail "reservation left behind: $(reservations netb)"
  assert_json "$(in_host ip -j addr show cnitest0)" "$(printf '%s' '[.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"] | join(",")')" 10.99.0.1/24

  NET=netb add c2 "$C2" "$(NET=netb oconf '"isGateway":true,"forceAddress":true' "$(v4 10.98.0.0/24)")"
  assert_json "$(in_host ip -j addr show cnitest0)" "$(printf '%s' '[.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"] | join(",")')" 10.98.0.1/24
  in_ns "$C2" ping -c1 -W2 10.98.0.1 >/dev/null || fail "no traffic to the new gateway"
}

@test "a refused gateway change removes only the address it added, never one already in use" {
  new_container C1; new_container C2
  NET=neta add c1 "$C1" "$(NET=neta oconf)"
  in_host ip addr add 10.97.0.1/24 dev cnitest0          # an address someone else put there
  # netb shares 10.99.0.0/24's gateway (already there) and brings 10.98.0.1, which conflicts with 10.97.0.1
  NET=netb run_plugin ADD c2 "$C2" eth0 "$(NET=netb oconf '' "$(ipam_ranges '[{"subnet":"10.99.0.0/24","rangeStart":"10.99.0.100"}],[{"subnet":"10.98.0.0/24"}]')")"
  assert_cni_error 999
  assert_match "$(jq -r .msg <<<"$output")" 'already has an IP address different from'
  [ "$(addrs "$(in_host ip -j addr show cnitest0)" inet)" = "10.99.0.1/24 10.97.0.1/24" ] ||
    fail "bridge addresses: $(addrs "$(in_host ip -j addr show cnitest0)" inet)"
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "the first network lost its gateway"
}

@test "IPv6 gateways of non-overlapping subnets coexist on the bridge without forceAddress" {
  new_container C1; new_container C2
  NET=neta add c1 "$C1" "$(NET=neta oconf '' "$(v6 fd00:99::/64)")"
  NET=netb add c2 "$C2" "$(NET=netb oconf '' "$(v6 fd00:98::/64)")"
  [ "$(addrs "$(in_host ip -j addr show cnitest0)" inet6 | tr ' ' '\n' | sort | tr '\n' ' ')" = "fd00:98::1/64 fd00:99::1/64 " ] ||
    fail "bridge addresses: $(addrs "$(in_host ip -j addr show cnitest0)" inet6)"
  in_ns "$C1" ping -6 -c1 -W2 fd00:99::1 >/dev/null || fail "first gateway unreachable"
  in_ns "$C2" ping -6 -c1 -W2 fd00:98::1 >/dev/null || fail "second gateway unreachable"
}

@test "two IPv4 range sets with isGateway: both gateways on the bridge, both reachable" {
  new_container C1; new_container C2
  local ipam; ipam=$(ipam_ranges '[{"subnet":"10.99.0.0/24"}],[{"subnet":"10.98.0.0/24"}]')
  add c1 "$C1" "$(oconf '"isGateway":true' "$ipam")"
  assert_json "$output" '[.ips[].address] | join(",")' 10.99.0.2/24,10.98.0.2/24
  assert_json "$output" '[.ips[].gateway] | join(",")' 10.99.0.1,10.98.0.1
  add c2 "$C2" "$(oconf '"isGateway":true' "$ipam")"
  local br; br=$(in_host ip -j addr show cnitest0)
  [ "$(addrs "$br" inet)" = "10.99.0.1/24 10.98.0.1/24" ] || fail "bridge addresses: $(addrs "$br" inet)"
  [ "$(addrs "$(in_ns "$C1" ip -j addr show eth0)" inet)" = "10.99.0.2/24 10.98.0.2/24" ] || fail "c1 addresses"
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "first gateway unreachable"
  in_ns "$C1" ping -c1 -W2 10.98.0.1 >/dev/null || fail "second gateway unreachable"
  in_ns "$C1" ping -c1 -W2 10.98.0.3 >/dev/null || fail "c2 unreachable on the second subnet"
}

# ---- routes --------------------------------------------------------------------------------------
@test "IPAM routes: with gw via it, without gw via the family gateway" {
  new_container C1
  add c1 "$C1" "$(oconf '"isGateway":true' "$(v4 10.99.0.0/24 '"routes":[{"dst":"10.50.0.0/16","gw":"10.99.0.254"},{"dst":"10.60.0.0/16"}]')")"
  assert_json "$(in_ns "$C1" ip -j route show 10.50.0.0/16)" '.[0].gateway' 10.99.0.254
  assert_json "$(in_ns "$C1" ip -j route show 10.60.0.0/16)" '.[0].gateway' 10.99.0.1
  assert_json "$output" '[.routes[] | "\(.dst) \(.gw)"] | join(",")' "10.50.0.0/16 10.99.0.254,10.60.0.0/16 null"
}

@test "IPAM routes without any gateway are link-scope routes" {
  new_container C1
  # (the reference static plugin installed here speaks up to 1.0.0)
  add c1 "$C1" "$(CNIVER=1.0.0 oconf '"isGateway":false' '{"type":"static","addresses":[{"address":"10.99.0.5/24"}],"routes":[{"dst":"10.60.0.0/16"}]}')"
  local r; r=$(in_ns "$C1" ip -j route show 10.60.0.0/16)
  assert_json "$r" '.[0].gateway' null
  assert_json "$r" '.[0].scope' link
  assert_json "$r" '.[0].dev' eth0
}

# ---- IPv6 ----------------------------------------------------------------------------------------
@test "dual-stack: both families configured, sysctls set, ping and ping6 between containers and gateway" {
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '"isGateway":true' "$(dual)")"
  assert_json "$output" '[.ips[].address] | join(",")' 10.99.0.2/24,fd00:99::2/64
  add c2 "$C2" "$(oconf '"isGateway":true' "$(dual)")"
  [ "$(sysctl_in "$C1" net/ipv6/conf/eth0/disable_ipv6)" = 0 ] || fail "ipv6 disabled on eth0"
  [ "$(sysctl_in "$C1" net/ipv6/conf/eth0/keep_addr_on_down)" = 1 ] || fail "keep_addr_on_down not set"
  [ "$(sysctl_in "$C1" net/ipv6/conf/eth0/accept_dad)" = 0 ] || fail "accept_dad not 0 without enabledad"
  [ "$(in_host cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1 ] || fail "ipv6 forwarding not enabled"
  [ "$(addrs "$(in_host ip -j addr show cnitest0)" inet6)" = "fd00:99::1/64" ] || fail "no v6 gateway on the bridge"
  in_ns "$C1" ping -6 -c1 -W2 fd00:99::3 >/dev/null || fail "c1 cannot ping6 c2"
  in_ns "$C2" ping -6 -c1 -W2 fd00:99::1 >/dev/null || fail "c2 cannot ping6 the gateway"
  in_ns "$C2" ping -c1 -W2 10.99.0.2 >/dev/null || fail "c2 cannot ping c1"
}

# Forwarding is read over netlink (RTM_GETNETCONF): a /proc/sys lookup costs a walk over one dentry per
# network namespace that looked up the same directory (5 ms per ADD with 3,000 namespaces, BENCHMARKS.md).
@test "isGateway with forwarding already on: ADD reads it over netlink and opens neither forwarding sysctl" {
  new_container C1; new_container C2
  local conf trace="$TEST_TMP/trace"
  conf=$(oconf '"isGateway":true' "$(dual)")
  local PLUGIN_WRAPPER="/usr/bin/strace -f -qq -e trace=open,openat,openat2 -o $trace"
  # control: in this fresh host namespace forwarding is off, so the first ADD turns it on through
  # /proc/sys (the only way to write it), and the trace shows those opens
  [ "$(in_host cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding | xargs)" = "0 0" ] ||
    fail "precondition: forwarding already on in a fresh namespace"
  add c1 "$C1" "$conf"
  grep -q '"/proc/sys/net/ipv4/ip_forward"' "$trace" || fail "the first ADD did not open ip_forward: $(grep /proc/sys "$trace")"
  grep -q '"/proc/sys/net/ipv6/conf/all/forwarding"' "$trace" || fail "the first ADD did not open conf/all/forwarding"
  [ "$(in_host cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding | xargs)" = "1 1" ] ||
    fail "forwarding not turned on"
  add c2 "$C2" "$conf"
  grep -q '/proc/sys/' "$trace" || fail "the trace of the second ADD saw no /proc/sys open at all (broken trace?)"
  ! grep -E '"/proc/sys/net/(ipv4/ip_forward|ipv6/conf/all/forwarding)"' "$trace" ||
    fail "the second ADD opened a forwarding sysctl although netlink reports it on"
  [ "$(in_host cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding | xargs)" = "1 1" ] ||
    fail "forwarding changed"
}

@test "without enabledad the IPv6 address is usable at once (never tentative)" {
  new_container C1
  add c1 "$C1" "$(oconf '"isGateway":true' "$(v6)")"
  local a; a=$(in_ns "$C1" ip -j addr show eth0)
  [ "$(addrs "$a" inet6)" = "fd00:99::2/64" ] || fail "address missing: $a"
  assert_json "$a" '[.[0].addr_info[] | select(.scope=="global") | .tentative // false] | join(",")' false
  in_ns "$C1" ping -6 -c1 -W2 fd00:99::1 >/dev/null || fail "gateway unreachable"
}

@test "enabledad: accept_dad and enhanced_dad on, ADD returns once DAD is done" {
  new_container C1
  fast_dad "$C1"
  add c1 "$C1" "$(oconf '"isGateway":true,"enabledad":true' "$(v6)")"
  [ "$(sysctl_in "$C1" net/ipv6/conf/eth0/accept_dad)" = 1 ] || fail "accept_dad not 1"
  [ "$(sysctl_in "$C1" net/ipv6/conf/eth0/enhanced_dad)" = 1 ] || fail "enhanced_dad not 1"
  local a; a=$(in_ns "$C1" ip -j addr show eth0)
  [ "$(addrs "$a" inet6)" = "fd00:99::2/64" ] || fail "address missing: $a"
  assert_json "$a" '[.[0].addr_info[] | select(.scope=="global") | (.tentative // false), (.dadfailed // false)] | join(",")' false,false
}

@test "enabledad: a duplicate address fails the ADD (DADFAILED) and leaves nothing" {
  in_host ip link add cnitest0 type bridge
  in_host ip link set cnitest0 up
  in_host ip addr add fd00:99::2/64 dev cnitest0 nodad
  new_container C1
  fast_dad "$C1"
  run_plugin ADD c1 "$C1" eth0 "$(oconf '"isGateway":false,"enabledad":true' "$(v6)")"
  assert_cni_error 999
  assert_match "$(jq -r .msg <<<"$output")" "duplicate address detection failed for fd00:99::2/64"
  [ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
  [ -z "$(reservations)" ] || fail "reservation left behind: $(reservations)"
}

# ---- container interface -----------------------------------------------------------------------
@test "disableContainerInterface: with IPAM the reference's error; L2-only leaves the link down" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(oconf '"disableContainerInterface":true')"
  assert_cni_error 7
  assert_json "$output" '.msg' "cannot use IPAM when DisableContainerInterface flag is set"
  ! in_host ip link show cnitest0 2>/dev/null || fail "bridge created by a rejected ADD"

  add c1 "$C1" "$(oconf '"disableContainerInterface":true' '{}')"
  assert_json "$output" '.ips // [] | length' 0
  assert_json "$(in_ns "$C1" ip -j link show eth0)" '.[0].flags | index("UP")' null
  assert_json "$(in_host ip -j link show "$HV")" '.[0].master' cnitest0
}

@test "L2-only (ipam {}): no IPs, link up, containers talk over hand-made addresses, CHECK passes" {
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '' '{}')"
  local prev=$output
  assert_json "$output" '.ips // [] | length' 0
  assert_json "$output" '.interfaces | length' 3
  assert_json "$(in_ns "$C1" ip -j link show eth0)" '.[0].flags | index("UP") != null' true
  add c2 "$C2" "$(oconf '' '{}')"
  assert_json "$(in_host ip -j addr show cnitest0)" '[.[0].addr_info[] | select(.family=="inet")] | length' 0
  in_ns "$C1" ip addr add 192.168.77.1/24 dev eth0
  in_ns "$C2" ip addr add 192.168.77.2/24 dev eth0
  in_ns "$C1" ping -c1 -W2 192.168.77.2 >/dev/null || fail "L2 containers cannot talk"
  run_plugin CHECK c1 "$C1" eth0 "$(with_prev "$(oconf '' '{}')" "$prev")"
  assert_status 0
  run_plugin DEL c1 "$C1" eth0 "$(oconf '' '{}')"; assert_status 0
  ! in_ns "$C1" ip link show eth0 2>/dev/null || fail "container interface left behind"
}

# ---- result ----------------------------------------------------------------------------------------
@test "dns: the config's dns replaces the IPAM dns; otherwise the IPAM resolvConf dns is reported" {
  printf 'nameserver 9.9.9.9\nsearch ipam.test\n' >"$TEST_TMP/resolv.conf"
  local ipam; ipam=$(v4 10.99.0.0/24 "\"resolvConf\":\"$TEST_TMP/resolv.conf\"")
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '"dns":{"nameservers":["1.1.1.1"],"search":["conf.test"]}' "$ipam")"
  assert_json "$output" '.dns.nameservers | join(",")' 1.1.1.1
  assert_json "$output" '.dns.search | join(",")' conf.test
  add c2 "$C2" "$(oconf '' "$ipam")"
  assert_json "$output" '.dns.nameservers | join(",")' 9.9.9.9
  assert_json "$output" '.dns.search | join(",")' ipam.test
}

@test "container MAC: CNI_ARGS MAC < args.cni.mac < runtimeConfig.mac" {
  new_container C1; new_container C2; new_container C3
  CNI_ARGS="IgnoreUnknown=1;MAC=02:00:00:00:aa:01" add c1 "$C1" "$(oconf)"
  assert_json "$output" '.interfaces[2].mac' 02:00:00:00:aa:01
  assert_json "$(in_ns "$C1" ip -j link show eth0)" '.[0].address' 02:00:00:00:aa:01

  CNI_ARGS="MAC=02:00:00:00:aa:01" add c2 "$C2" "$(oconf '"args":{"cni":{"mac":"02:00:00:00:aa:02"}}')"
  assert_json "$(in_ns "$C2" ip -j link show eth0)" '.[0].address' 02:00:00:00:aa:02

  CNI_ARGS="MAC=02:00:00:00:aa:01" add c3 "$C3" \
    "$(oconf '"args":{"cni":{"mac":"02:00:00:00:aa:02"}},"runtimeConfig":{"mac":"02:00:00:00:aa:03"}')"
  assert_json "$output" '.interfaces[2].mac' 02:00:00:00:aa:03
  assert_json "$(in_ns "$C3" ip -j link show eth0)" '.[0].address' 02:00:00:00:aa:03
  in_ns "$C3" ping -c1 -W2 10.99.0.2 >/dev/null || fail "no traffic with a set MAC"
}

@test "the bridge MAC does not change as ports come and go" {
  in_host ip link add cnitest0 type bridge   # a bridge whose MAC the kernel would let follow its ports
  new_container C1; new_container C2
  # a port with a MAC lower than any random one
  CNI_ARGS="MAC=02:00:00:00:00:01" add c1 "$C1" "$(oconf)"
  local mac; mac=$(jq -r '.interfaces[0].mac' <<<"$output")
  assert_json "$(in_host ip -j link show cnitest0)" '.[0].address' "$mac"
  add c2 "$C2" "$(oconf)"
  assert_json "$output" '.interfaces[0].mac' "$mac"
  run_plugin DEL c1 "$C1" eth0 "$(oconf)"; assert_status 0
  assert_json "$(in_host ip -j link show cnitest0)" '.[0].address' "$mac"
  run_plugin DEL c2 "$C2" eth0 "$(oconf)"; assert_status 0
  assert_json "$(in_host ip -j link show cnitest0)" '.[0].address' "$mac"
}

# ---- VLAN ---------------------------------------------------------------------------------------------
# Kernels built without CONFIG_BRIDGE_VLAN_FILTERING get a clear error; kernels with it (every distribution
# kernel) get the reference's VLANs. Each test names its kind of kernel; kernel_kind_gate (setup) skips it
# on the other kind.

# port_vlans DEV: the bridge port's VLANs as "1(PVID,untagged) 10 20-30": runs of VIDs with the same flags
# are ranges; flags in parentheses.
port_vlans() {
  in_host bridge -j vlan show dev "$1" | jq -r '
    [.[]? | select(.ifname == $dev) | .vlans[]?
     | {v: .vlan, e: (.vlanEnd // .vlan),
        f: ((.flags // []) | map(if . == "Egress Untagged" then "untagged" else . end) | join(","))}]
    | reduce .[] as $x ([]; if length > 0 and .[-1].e + 1 == $x.v and .[-1].f == $x.f then .[-1].e = $x.e else . + [$x] end)
    | map((if .v == .e then "\(.v)" else "\(.v)-\(.e)" end) + (if .f == "" then "" else "(\(.f))" end))
    | join(" ")' --arg dev "$1"
}
assert_port_vlans() { local got; got=$(port_vlans "$1"); [ "$got" = "$2" ] || fail "VLANs of port $1: expected '$2', got '$got'"; }
vlan_filtering_of() { in_host ip -j -d link show "$1" | jq -r '.[0].linkinfo.info_data.vlan_filtering'; }

assert_vlan_refused() {
  assert_cni_error 2
  assert_match "$(jq -r .msg <<<"$output")" "bridge VLAN filtering is not available in this kernel"
  [ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
  [ -z "$(reservations)" ] || fail "reservation left behind: $(reservations)"
}

@test "vlan (kernel without bridge VLAN filtering): clear error, nothing left behind" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(oconf '"isGateway":false,"vlan":100')"
  assert_vlan_refused
  assert_match "$(jq -r .msg <<<"$output")" '"vlan": 100'
  ! in_host ip link show cnitest0 2>/dev/null || fail "bridge left behind"
  ! in_ns "$C1" ip link show eth0 2>/dev/null || fail "container interface left behind"
}

@test "vlanTrunk (kernel without bridge VLAN filtering): clear error, nothing left behind" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(oconf '"vlanTrunk":[{"id":10},{"minID":20,"maxID":30}]')"
  assert_vlan_refused
  assert_match "$(jq -r .msg <<<"$output")" '"vlanTrunk"'
  ! in_host ip link show cnitest0 2>/dev/null || fail "bridge left behind"
}

@test "vlan on an existing bridge (kernel without bridge VLAN filtering): clear error, the bridge stays, nothing else left" {
  in_host ip link add cnitest0 type bridge
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(oconf '"isGateway":false,"vlan":100,"preserveDefaultVlan":true')"
  assert_vlan_refused
  in_host ip link show cnitest0 >/dev/null || fail "someone else's bridge was removed"
  ! in_ns "$C1" ip link show eth0 2>/dev/null || fail "container interface left behind"
}

@test "vlan with isGateway (kernel without bridge VLAN filtering): refused before anything changes" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(oconf '"isDefaultGateway":true,"vlan":100')"
  assert_cni_error 2
  assert_match "$(jq -r .msg <<<"$output")" '"vlan": 100'
  ! in_host ip link show cnitest0 2>/dev/null || fail "bridge left behind"
  [ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
  [ -z "$(reservations)" ] || fail "reservation left behind: $(reservations)"
}

@test "vlan (kernel with bridge VLAN filtering): new bridge filters, the port is an access port (PVID, untagged) without VLAN 1" {
  new_container C1
  add c1 "$C1" "$(oconf '"isGateway":false,"vlan":100')"
  [ "$(vlan_filtering_of cnitest0)" = 1 ] || fail "vlan_filtering is $(vlan_filtering_of cnitest0) on the new bridge"
  assert_port_vlans "$HV" "100(PVID,untagged)"
  assert_json "$(in_ns "$C1" ip -j -d link show eth0)" '.[0].linkinfo.info_kind' veth   # untagged inside
}

@test "vlanTrunk (kernel with bridge VLAN filtering): ids and ranges tagged, native VLAN 1 or the access vlan" {
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '"isGateway":false,"vlanTrunk":[{"id":10},{"minID":20,"maxID":30},{"id":25}]')"
  assert_port_vlans "$HV" "1(PVID,untagged) 10 20-30"
  # with vlan: the access VLAN is the native one, and stays untagged even when the trunk lists it
  add c2 "$C2" "$(oconf '"isGateway":false,"vlan":100,"vlanTrunk":[{"minID":20,"maxID":30},{"id":100}]')"
  assert_port_vlans "$HV" "20-30 100(PVID,untagged)"
}

@test "preserveDefaultVlan (kernel with bridge VLAN filtering): the port keeps VLAN 1 beside its access VLAN" {
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '"isGateway":false,"vlan":100,"preserveDefaultVlan":true')"
  assert_port_vlans "$HV" "1(untagged) 100(PVID,untagged)"
  add c2 "$C2" "$(oconf '"isGateway":false,"vlan":100,"preserveDefaultVlan":false')"   # control
  assert_port_vlans "$HV" "100(PVID,untagged)"
}

@test "vlan (kernel with bridge VLAN filtering): containers talk within a VLAN, never across VLANs" {
  new_container C1; new_container C2; new_container C3
  add c1 "$C1" "$(oconf '"isGateway":false,"vlan":100')"      # 10.99.0.2
  add c2 "$C2" "$(oconf '"isGateway":false,"vlan":100')"      # 10.99.0.3
  add c3 "$C3" "$(oconf '"isGateway":false,"vlan":200')"      # 10.99.0.4, same subnet, other VLAN
  in_ns "$C1" ping -c1 -W2 10.99.0.3 >/dev/null || fail "no traffic within VLAN 100"
  ! in_ns "$C1" ping -c1 -W1 10.99.0.4 >/dev/null 2>&1 || fail "VLAN 100 reached VLAN 200"
  ! in_ns "$C3" ping -c1 -W1 10.99.0.3 >/dev/null 2>&1 || fail "VLAN 200 reached VLAN 100"
}

@test "vlanTrunk (kernel with bridge VLAN filtering): a trunk container's eth0.100 reaches an access container of VLAN 100, untagged frames do not" {
  new_container C1; new_container C2
  add c1 "$C1" "$(oconf '"isGateway":false,"vlanTrunk":[{"id":100}]' '{}')"   # L2 only: addresses by hand
  add c2 "$C2" "$(oconf '"isGateway":false,"vlan":100')"                      # 10.99.0.2 on VLAN 100
  in_ns "$C1" ip link add link eth0 name eth0.100 type vlan id 100
  in_ns "$C1" ip addr add 10.99.0.50/24 dev eth0.100
  in_ns "$C1" ip link set eth0.100 up
  in_ns "$C1" ping -c1 -W2 10.99.0.2 >/dev/null || fail "tagged VLAN 100 from the trunk did not reach the access port"
  # control: the same address untagged lands in the native VLAN 1
  in_ns "$C1" ip link del eth0.100
  in_ns "$C1" ip addr add 10.99.0.50/24 dev eth0
  ! in_ns "$C1" ping -c1 -W1 10.99.0.2 >/dev/null 2>&1 || fail "untagged frames reached VLAN 100"
}

@test "vlan (kernel with bridge VLAN filtering): CHECK passes, DEL removes the port and keeps the bridge filtering" {
  new_container C1
  local conf; conf=$(oconf '"isGateway":false,"vlan":100')
  add c1 "$C1" "$conf"
  run_plugin CHECK c1 "$C1" eth0 "$(with_prev "$conf" "$output")"; assert_status 0
  run_plugin DEL c1 "$C1" eth0 "$conf"; assert_status 0
  [ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
  [ -z "$(reservations)" ] || fail "reservation left behind: $(reservations)"
  [ "$(vlan_filtering_of cnitest0)" = 1 ] || fail "bridge lost vlan_filtering"
}

@test "vlanTrunk 2-4094 (kernel with bridge VLAN filtering): the whole range in one ADD, DEL removes it" {
  new_container C1
  local conf; conf=$(oconf '"isGateway":false,"vlanTrunk":[{"minID":2,"maxID":4094}]')
  add c1 "$C1" "$conf"
  assert_port_vlans "$HV" "1(PVID,untagged) 2-4094"
  run_plugin DEL c1 "$C1" eth0 "$conf"; assert_status 0
  [ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
  assert_json "$(in_host bridge -j vlan show)" '[.[] | select(.ifname | startswith("veth"))] | length' 0
}

@test "invalid VLAN settings are config errors with the reference's texts" {
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$(oconf '"vlan":4095')"
  assert_cni_error 7
  assert_json "$output" '.msg' "invalid VLAN ID 4095 (must be between 0 and 4094)"
  run_plugin ADD c1 "$C1" eth0 "$(oconf '"vlanTrunk":[{"minID":30,"maxID":20}]')"
  assert_cni_error 7
  assert_json "$output" '.msg' "minID is greater than maxID in trunk parameter"
  ! in_host ip link show cnitest0 2>/dev/null || fail "bridge created by a rejected ADD"
}

@test "preserveDefaultVlan alone changes nothing" {
  new_container C1
  add c1 "$C1" "$(oconf '"preserveDefaultVlan":true')"
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "no traffic"
}
