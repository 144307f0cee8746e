#!/usr/bin/env bats
# Real runtimes drive cniveth: containerd 1.6 (`ctr run --cni`), podman 4.3 (CNI backend) and a chained
# conflist [cniveth, portmap, bandwidth, tuning, firewall] with the reference plugins, driven by podman.
# Each test asserts connectivity and, after the runtime's own stop/rm, that nothing is left: no veth, no
# IPAM reservation, no libcni cache entry, no iptables rule of the chained plugins.
# Everything runs in the private namespaces of run.sh plus a per-test fake host netns and private
# tmpfs mounts (see tests/clients/clients.bash); the machine's own network and runtimes are never touched.

# ipMasq variants: enable once the nftables backend has landed (`ipMasq: true` fails with "nftables
# support not implemented yet" until then): CLIENTS_IPMASQ=1 bash tests/integration/run.sh ...
CLIENTS_IPMASQ=${CLIENTS_IPMASQ:-1}

load helpers
load ../clients/clients

setup() {
  [[ "$BATS_TEST_DESCRIPTION" != *ipMasq* ]] || need_ipmasq
  client_setup
}
teardown() { client_teardown; }

need_ipmasq() {
  [ "$CLIENTS_IPMASQ" = 1 ] || skip "ipMasq variant: set CLIENTS_IPMASQ=1 once nftables support lands"
}

# ---- containerd -----------------------------------------------------------------------------------

# ctr_flow MASQ: the whole containerd scenario, with ipMasq false/true
ctr_flow() {
  local masq=$1
  NET=ctrnet
  cat > /etc/cni/net.d/10-ctrnet.conflist <<EOF
{"cniVersion":"1.0.0","name":"$NET","plugins":[
 {"type":"cniveth","bridge":"cni-ctr0","isGateway":true,"ipMasq":$masq,"hairpinMode":true,
  "logFile":"$LOG","logLevel":"debug",
  "ipam":{"type":"host-local","routes":[{"dst":"0.0.0.0/0"}],
          "ranges":[[{"subnet":"10.77.1.0/24","gateway":"10.77.1.1"}]]}}]}
EOF
  cp "$CNIVETH" /opt/cni/bin/cniveth   # ctr's plugin dir is fixed: /opt/cni/bin (then /usr/lib/cni)
  ln -sf cniveth /opt/cni/bin/host-local
  containerd_start
  ctr_run c1
  ctr_run c2

  local ip1 ip2
  ip1=$(ctr_ip c1); ip2=$(ctr_ip c2)
  assert_match "$ip1" '^10\.77\.1\.[0-9]+$'
  assert_match "$ip2" '^10\.77\.1\.[0-9]+$'
  [ "$ip1" != "$ip2" ] || fail "both containers got $ip1"
  # what the runtime cached is what the container has
  assert_json "$(cat /var/lib/cni/results/$NET-$CLIENT_NS-c1-eth0)" '.result.ips[0].address' "$ip1/24"
  ctr_exec c1 ping -c1 -W2 "$ip2" || fail "c1 cannot reach c2"
  ctr_exec c2 ping -c1 -W2 "$ip1" || fail "c2 cannot reach c1"
  ctr_exec c1 ping -c1 -W2 10.77.1.1 || fail "c1 cannot reach the gateway"
  [ "$(reservations $NET)" -eq 2 ]
  [ "$(host_veths)" -eq 2 ]
  log_has "ADD network=$NET container=$CLIENT_NS-c1 ifname=eth0 duration_ms=[0-9.]+ result=ok plugin=cniveth cniVersion=1.0.0 netns=\"/proc/[0-9]+/ns/net\" prevResult=false"
  if [ "$masq" = true ]; then
    outside_net
    ctr_exec c1 ping -c1 -W2 192.0.2.2 || fail "c1 cannot reach the outside network (masquerade)"
  fi

  ctr_stop c1
  ctr_stop c2
  # containerd's DEL: empty CNI_NETNS, the cached result as prevResult (captures/containerd-ctr-DEL.txt)
  log_has "DEL network=$NET container=$CLIENT_NS-c1 ifname=eth0 duration_ms=[0-9.]+ result=ok plugin=cniveth cniVersion=1.0.0 netns=\"\" prevResult=true"
  log_has "DEL network=$NET container=$CLIENT_NS-c2 ifname=eth0 .* result=ok plugin=cniveth"
  ! grep -q "result=error" "$LOG" || fail "errors logged: $(grep result=error "$LOG")"
  ! grep -qi "error" "$TEST_TMP/ctr-c1.out" || fail "ctr reported: $(cat "$TEST_TMP/ctr-c1.out")"
  assert_clean $NET
  if [ "$masq" = true ]; then
    ! in_host nft list ruleset | grep -qE "10\.77\.1\.[0-9]+[^/]|$CLIENT_NS-c[12]" ||
      fail "nftables state left: $(in_host nft list ruleset)"
  fi
}

@test "containerd 1.6: two ctr run --cni containers get addresses, reach each other and the gateway; exit runs DEL (empty CNI_NETNS, prevResult) and leaves nothing" {
  ctr_flow false
}

@test "containerd 1.6 with ipMasq (the captures' config): masqueraded to the outside, no nftables element left" {
  need_ipmasq
  ctr_flow true
}

# ---- podman ---------------------------------------------------------------------------------------

pod_flow() {
  local masq=$1
  NET=podnet
  podman_setup
  cat > "$PODMAN_NETDIR/podnet.conflist" <<EOF
{"cniVersion":"1.0.0","name":"$NET","plugins":[
 {"type":"cniveth","bridge":"cni-pod0","isGateway":true,"ipMasq":$masq,"hairpinMode":true,
  "capabilities":{"ips":true},"logFile":"$LOG","logLevel":"debug",
  "ipam":{"type":"host-local","routes":[{"dst":"0.0.0.0/0"}],
          "ranges":[[{"subnet":"10.77.2.0/24","gateway":"10.77.2.1"}]]}}]}
EOF
  run pod info --format '{{.Host.NetworkBackend}}'
  assert_status 0
  [ "$output" = cni ] || fail "podman backend is $output"
  run pod network ls --format '{{.Name}} {{.Driver}}'
  assert_match "$output" "podnet cniveth"

  pod_run p1 $NET -- sleep 3600
  pod_run p2 $NET --ip 10.77.2.200 --mac-address 02:00:0a:4d:02:c8 -- sleep 3600
  local id1 id2 ip1
  id1=$(pod_id p1); id2=$(pod_id p2)
  ip1=$(pod_ip p1)
  assert_match "$ip1" '^10\.77\.2\.[0-9]+$'
  [ "$(pod_ip p2)" = 10.77.2.200 ] || fail "static --ip not applied: $(pod exec p2 ip addr)"
  run pod exec p2 cat /sys/class/net/eth0/address
  [ "$output" = 02:00:0a:4d:02:c8 ] || fail "static --mac-address not applied: $output"
  # podman passes the static IP/MAC in CNI_ARGS (captures/podman-ADD-static-ip-mac.txt); never logged
  log_has "ADD network=$NET container=$id2 ifname=eth0 .* result=ok plugin=cniveth .*args=IgnoreUnknown,K8S_POD_NAME,(IP,MAC|MAC,IP)$"
  ! grep -q "02:00:0a:4d:02:c8" "$LOG" || fail "CNI_ARGS value in the log"
  pod exec p1 ping -c1 -W2 10.77.2.200 || fail "p1 cannot reach p2"
  pod exec p2 ping -c1 -W2 "$ip1" || fail "p2 cannot reach p1"
  pod exec p1 ping -c1 -W2 10.77.2.1 || fail "p1 cannot reach the gateway"
  [ "$(reservations $NET)" -eq 2 ]
  if [ "$masq" = true ]; then
    outside_net
    pod exec p1 ping -c1 -W2 192.0.2.2 || fail "p1 cannot reach the outside network (masquerade)"
  fi

  # network reload = DEL then ADD (captures/podman-network-reload-DEL-then-ADD.txt): same IP and MAC
  local before
  before=$(grep -c "container=$id2" "$LOG")
  run pod network reload p2
  assert_status 0
  [ "$(grep -c "container=$id2" "$LOG")" -eq $((before + 2)) ] || fail "reload: $(grep "container=$id2" "$LOG")"
  tail -2 "$LOG" | head -1 | grep -q "DEL network=$NET container=$id2 .* result=ok" || fail "reload did not DEL first: $(tail -2 "$LOG")"
  tail -1 "$LOG" | grep -q "ADD network=$NET container=$id2 .* result=ok" || fail "reload did not ADD: $(tail -1 "$LOG")"
  [ "$(pod_ip p2)" = 10.77.2.200 ] || fail "reload lost the static IP"
  run pod exec p2 cat /sys/class/net/eth0/address
  [ "$output" = 02:00:0a:4d:02:c8 ] || fail "reload lost the static MAC: $output"
  pod exec p1 ping -c1 -W2 10.77.2.200 || fail "p1 cannot reach p2 after reload"
  [ "$(reservations $NET)" -eq 2 ]

  run pod stop -t 0 p1 p2
  assert_status 0
  log_has "DEL network=$NET container=$id1 ifname=eth0 .* result=ok plugin=cniveth"
  run pod rm p1 p2
  assert_status 0
  ! grep -q "result=error" "$LOG" || fail "errors logged: $(grep result=error "$LOG")"
  assert_clean $NET
  [ -z "$(ls /run/netns)" ] || fail "netns left: $(ls /run/netns)"
  if [ "$masq" = true ]; then
    ! in_host nft list ruleset | grep -qE "10\.77\.2\.[0-9]+[^/]|$id1|$id2" ||
      fail "nftables state left: $(in_host nft list ruleset)"
  fi
}

@test "podman 4.3 (CNI backend): run --rootfs on a cniveth network, static --ip/--mac-address, network reload, stop/rm leave nothing" {
  pod_flow false
}

@test "podman 4.3 with ipMasq (podman's generated config): masqueraded to the outside, no nftables element left" {
  need_ipmasq
  pod_flow true
}

# ---- chaining -------------------------------------------------------------------------------------

# chain_flow MASQ: [cniveth, portmap, bandwidth, tuning, firewall] driven by podman (libcni threads
# each plugin's result into the next one's prevResult and runs DEL through the list in reverse).
chain_flow() {
  local masq=$1
  NET=chainnet
  podman_setup
  cat > "$PODMAN_NETDIR/chainnet.conflist" <<EOF
{"cniVersion":"1.0.0","name":"$NET","plugins":[
 {"type":"cniveth","bridge":"cni-chain0","isGateway":true,"ipMasq":$masq,"hairpinMode":true,
  "capabilities":{"ips":true},"logFile":"$LOG","logLevel":"debug",
  "ipam":{"type":"host-local","routes":[{"dst":"0.0.0.0/0"}],
          "ranges":[[{"subnet":"10.77.3.0/24","gateway":"10.77.3.1"}]]}},
 {"type":"portmap","capabilities":{"portMappings":true}},
 {"type":"bandwidth","ingressRate":80000000,"ingressBurst":1048576,"egressRate":80000000,"egressBurst":1048576},
 {"type":"tuning","sysctl":{"net.ipv4.conf.eth0.arp_ignore":"1","net.ipv4.conf.eth0.accept_local":"1"}},
 {"type":"firewall","backend":"iptables"}]}
EOF
  pod_run web $NET -p 18080:8080 -- httpd -f -p 8080 -h /www
  local id ip
  id=$(pod_id web)
  ip=$(pod_ip web)
  assert_match "$ip" '^10\.77\.3\.[0-9]+$'
  log_has "ADD network=$NET container=$id ifname=eth0 .* result=ok plugin=cniveth"

  # portmap: the DNAT from the host reaches httpd in the container
  run in_host curl -sS --max-time 5 "http://10.77.3.1:18080/index.html"
  assert_status 0
  [ "$output" = "hello from cniveth $$" ] || fail "portmap: got '$output'"
  in_host iptables -t nat -S | grep -q -- "--dport 18080" || fail "no portmap DNAT rule"
  # tuning: sysctls applied inside the container
  run pod exec web cat /proc/sys/net/ipv4/conf/eth0/arp_ignore
  [ "$output" = 1 ] || fail "tuning sysctl not applied: $output"
  run pod exec web cat /proc/sys/net/ipv4/conf/eth0/accept_local
  [ "$output" = 1 ] || fail "tuning sysctl not applied: $output"
  # bandwidth: tbf on our host veth (found through our prevResult) and the ifb for egress
  local hostveth
  hostveth=$(jq -r '.result.interfaces[] | select(.sandbox == null and (.name | startswith("veth"))) | .name' \
    /var/lib/cni/results/$NET-$id-eth0)
  [ -n "$hostveth" ] || fail "no host veth in the cached result"
  in_host tc qdisc show dev "$hostveth" | grep -q tbf || fail "bandwidth: no tbf on $hostveth: $(in_host tc qdisc show)"
  [ "$(in_host ip -o link show type ifb | wc -l)" -eq 1 ] || fail "bandwidth: no ifb device"
  # firewall: the container's address is allowed in CNI-FORWARD
  in_host iptables -S CNI-FORWARD | grep -q "$ip" || fail "firewall: no rule for $ip: $(in_host iptables -S)"
  if [ "$masq" = true ]; then
    outside_net
    pod exec web ping -c1 -W2 192.0.2.2 || fail "web cannot reach the outside network (masquerade)"
  fi

  run pod rm -f -t 0 web
  assert_status 0
  # DEL ran through the whole chain: every plugin's state is gone
  log_has "DEL network=$NET container=$id ifname=eth0 .* result=ok plugin=cniveth"
  ! grep -q "result=error" "$LOG" || fail "errors logged: $(grep result=error "$LOG")"
  assert_clean $NET
  ! in_host iptables-save | grep -qE -- "$ip[^0-9]|$id|dport 18080" || fail "iptables left: $(in_host iptables-save)"
  [ "$(in_host ip -o link show type ifb | wc -l)" -eq 0 ] || fail "bandwidth ifb left"
  run in_host curl -sS --max-time 2 "http://10.77.3.1:18080/"
  [ "$status" -ne 0 ] || fail "port 18080 still answers"
  if [ "$masq" = true ]; then
    ! in_host nft list ruleset | grep -qE "10\.77\.3\.[0-9]+[^/]|$id" ||
      fail "nftables state left: $(in_host nft list ruleset)"
  fi
}

@test "chained conflist [cniveth, portmap, bandwidth, tuning, firewall] under podman: DNAT reaches the container, sysctl applied, DEL runs the whole chain" {
  chain_flow false
}

@test "chained conflist with ipMasq (podman's default shape): masquerade plus portmap, nothing left" {
  need_ipmasq
  chain_flow true
}

# ---- conf/ examples -------------------------------------------------------------------------------

# flannel_delegate FILE: the network config the flannel CNI plugin hands to its delegate, built the way
# flannel does it (name, cniVersion, ipam host-local with the node's subnet and the cluster route; ipMasq
# false because flanneld masquerades; mtu from subnet.env) for a node whose subnet.env says
# FLANNEL_NETWORK=10.244.0.0/16 FLANNEL_SUBNET=10.244.3.1/24 FLANNEL_MTU=1450 FLANNEL_IPMASQ=true.
flannel_delegate() {
  jq -c '.plugins[0].delegate + {name: .name, cniVersion: .cniVersion}
         | if has("ipMasq") then . else . + {ipMasq: false} end
         | if has("mtu") then . else . + {mtu: 1450} end
         | . + {ipam: {type: "host-local", subnet: "10.244.3.0/24", routes: [{dst: "10.244.0.0/16"}]}}' "$1"
}

@test "conf/: every example parses; each one that needs no nftables ADDs, passes CHECK and DELs without leftovers" {
  local f n=0 added=0
  for f in "$BATS_TEST_DIRNAME"/../../conf/*.conflist; do
    n=$((n + 1))
    jq -e '.name and .cniVersion and (.plugins | length > 0)' "$f" >/dev/null || fail "$f: not a conflist"
    local conf net
    net=$(jq -r .name "$f")
    if [ "$(jq -r '.plugins[0].type' "$f")" = flannel ]; then
      conf=$(flannel_delegate "$f")
    else
      conf=$(jq -c '.plugins[0] + {name: .name, cniVersion: .cniVersion}' "$f")
    fi
    [ "$(jq -r .type <<<"$conf")" = cniveth ] || fail "$f: first plugin is not cniveth"
    if [ "$(jq -r '.ipMasq // false' <<<"$conf")" = true ] && [ "$CLIENTS_IPMASQ" != 1 ]; then
      echo "# $(basename "$f"): parsed; ADD needs nftables (CLIENTS_IPMASQ=1)" >&3
      continue
    fi
    local c want
    # each example on its own fake host: several of them (rightly) claim the same bridge name
    new_ns HOST_PID
    HOST_NS="/proc/$HOST_PID/ns/net"
    new_container c
    run_plugin ADD "conf-$n" "$c" eth0 "$conf"
    [ "$status" -eq 0 ] || fail "$(basename "$f"): ADD failed: $output"
    want=$(jq '.ipam | if .ranges then (.ranges | length) elif .subnet then 1 else 0 end' <<<"$conf")
    [ "$(jq '.ips // [] | length' <<<"$output")" -eq "$want" ] || fail "$(basename "$f"): expected $want address(es): $output"
    [ "$(in_ns "$c" ip -o addr show dev eth0 scope global | wc -l)" -eq "$want" ] ||
      fail "$(basename "$f"): container has $(in_ns "$c" ip -o addr show dev eth0)"
    if [ "$(jq -r .cniVersion <<<"$conf")" != 0.3.1 ]; then
      run_plugin CHECK "conf-$n" "$c" eth0 "$(jq -c --argjson p "$output" '. + {prevResult: $p}' <<<"$conf")"
      [ "$status" -eq 0 ] || fail "$(basename "$f"): CHECK failed: $output"
    fi
    run_plugin DEL "conf-$n" "$c" eth0 "$conf"
    [ "$status" -eq 0 ] || fail "$(basename "$f"): DEL failed: $output"
    [ "$(reservations "$net")" -eq 0 ] || fail "$(basename "$f"): reservation left"
    [ "$(in_host ip -o link show type veth | wc -l)" -eq 0 ] || fail "$(basename "$f"): veth left"
    added=$((added + 1))
  done
  [ "$n" -ge 8 ] || fail "only $n examples in conf/"
  [ "$added" -ge 4 ] || fail "only $added examples could be added"
}

# ---- packaging ------------------------------------------------------------------------------------

@test "make install / install-conf honour PREFIX and DESTDIR; the installed binary runs with no .NET and only libc" {
  local repo d
  repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  d="$TEST_TMP/dest"
  # -o: never rebuild here (run.sh already requires a fresh out/cniveth)
  run make -s -C "$repo" -o build -o out/cniveth install DESTDIR="$d"
  assert_status 0
  [ -x "$d/opt/cni/bin/cniveth" ] || fail "no $d/opt/cni/bin/cniveth: $(find "$d")"
  [ "$(readlink "$d/opt/cni/bin/host-local")" = cniveth ] || fail "host-local is not a link to cniveth"
  cmp "$repo/out/cniveth" "$d/opt/cni/bin/cniveth"
  run make -s -C "$repo" -o build -o out/cniveth install DESTDIR="$d" PREFIX=/usr/local
  [ -x "$d/usr/local/bin/cniveth" ] && [ -L "$d/usr/local/bin/host-local" ] || fail "PREFIX ignored: $(find "$d")"

  run make -s -C "$repo" install-conf DESTDIR="$d" CONF=conf/30-podman.conflist
  assert_status 0
  cmp "$repo/conf/30-podman.conflist" "$d/etc/cni/net.d/30-podman.conflist"
  [ "$(stat -c %a "$d/etc/cni/net.d/30-podman.conflist")" = 644 ]
  run make -s -C "$repo" install-conf DESTDIR="$d" CONF=40-k8s-node.conflist
  assert_status 0
  [ -f "$d/etc/cni/net.d/40-k8s-node.conflist" ]
  run make -s -C "$repo" install-conf DESTDIR="$d" CONF=no-such.conflist
  [ "$status" -ne 0 ]

  # no shared library at all (a static executable: 00-smoke checks what it opens at run time)
  local libs
  libs=$(readelf -dW "$d/opt/cni/bin/cniveth" | grep -E 'NEEDED|INTERP' || true)
  [ -z "$libs" ] || fail "the installed binary needs shared libraries: $libs"
  # runs with a clean environment and with every .NET installation hidden
  local hide=""
  for p in /usr/share/dotnet /usr/lib/dotnet /root/.dotnet /opt/dotnet; do [ -d "$p" ] && hide+="mount -t tmpfs tmpfs $p; "; done
  run unshare --mount --propagation private -- sh -c "$hide cd '$d/opt/cni/bin' && \
    env -i PATH=/usr/bin:/bin DOTNET_ROOT= ./cniveth 2>&1 && \
    echo '{\"cniVersion\":\"1.0.0\"}' | env -i CNI_COMMAND=VERSION ./host-local; \
    command -v dotnet || echo no-dotnet"
  assert_status 0
  assert_match "$output" "CNI plugin cniveth \(bridge\) v"
  assert_match "$output" '"supportedVersions"'
  assert_match "$output" "no-dotnet"
}
