#!/usr/bin/env bats
# The kubelet's path: a CRI client (tests/cri/cri.py, runtime.v1 over gRPC, as kubelet speaks it) drives
# containerd 1.6's CRI plugin, which runs a conflist [cniveth (ipMasq), reference portmap] through libcni.
# Nothing execs the plugin directly here. Every test starts its own containerd in a sandbox of its own
# (network, mount and pid namespaces, tmpfs over /run, /var/lib/cni, /etc/cni; tests/cri/containerd.bash)
# and checks the node's kernel state (ip -j, nft -j, iptables) and real traffic.
#
# CRI_PLUGIN=/path/to/binary runs the suite against another binary installed as "cniveth" (to see a check
# fail, e.g. against a plugin that does not clean up).

load helpers
load ../cri/containerd

NET=k8s-pods
NODE_IP=172.30.0.10              # the node's own address (on lo in the sandbox: this kernel has no dummy)
SUBNET_PREFIX=10.85.0            # the pod range used below: 10.85.0.0/24, gateway .1
POD_IP_RE='^10\.85\.0\.[0-9]+$'

setup_file() {
  # the pause image and the client's stubs are made once for the file
  export CRI_CACHE_DIR="$BATS_FILE_TMPDIR/cri-cache"
  cri_prepare "$BATS_FILE_TMPDIR/prepare"
}

setup() {
  [ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
    fail "not in a private network namespace: run through tests/integration/run.sh"
  TEST_TMP=$(mktemp -d /tmp/cniveth-cri.XXXXXX)
  CRI_WORK="$TEST_TMP/cri"
  LOG="$TEST_TMP/cniveth.log"
  cri_prepare "$CRI_WORK" "${CRI_PLUGIN:-$CNIVETH}"
}

teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${CRI_WORK:-}" ]; then
    echo "# containerd errors and warnings (tail):"
    grep -v 'level=info' "$CRI_WORK/containerd.log" 2>/dev/null | tail -n 15 | cut -c1-400 | sed 's/^/#   /'
    echo "# cniveth log (tail):"; tail -n 15 "$LOG" 2>/dev/null | sed 's/^/#   /'
  fi
  cri_stop
  [ -n "${TEST_TMP:-}" ] && rm -rf "$TEST_TMP"
  return 0
}

# pods_conflist [SUBNET [RANGE_START RANGE_END]]: cniveth (ipMasq, hairpin) + the reference portmap
pods_conflist() {
  local subnet=${1:-$SUBNET_PREFIX.0/24} range=""
  [ -z "${2:-}" ] || range=",\"rangeStart\":\"$2\",\"rangeEnd\":\"$3\""
  cat <<EOF
{"cniVersion":"1.0.0","name":"$NET","plugins":[
 {"type":"cniveth","bridge":"cni0","isGateway":true,"ipMasq":true,"hairpinMode":true,
  "logFile":"$LOG","logLevel":"debug",
  "ipam":{"type":"host-local","routes":[{"dst":"0.0.0.0/0"}],
          "ranges":[[{"subnet":"$subnet"$range}]]}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
EOF
}

# install_conflist JSON: atomically (containerd watches conf_dir and would read a half-written file)
install_conflist() {
  printf '%s\n' "$1" > "$CRI_WORK/net.d/.10-pods.tmp"
  mv "$CRI_WORK/net.d/.10-pods.tmp" "$CRI_WORK/net.d/10-pods.conflist"
}

# start_node [CONFLIST]: containerd in a fresh sandbox; the node gets the address $NODE_IP
start_node() {
  [ -z "${1:-}" ] || install_conflist "$1"
  cri_start "$CRI_WORK"
  cri_in ip addr add "$NODE_IP/32" dev lo
}

wait_for() {   # SECONDS CMD...: polls CMD every 0.1 s
  local t=$1 i; shift
  for ((i = 0; i < t * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  "$@"
}

# log_has REGEX: cniveth's log (logLevel debug) has a matching line
log_has() { grep -qE -- "$1" "$LOG" || fail "no log line /$1/ in: $(cat "$LOG" 2>/dev/null)"; }

network_ready() { cri status | grep -q '^NetworkReady true'; }

# ---- pods ---------------------------------------------------------------------------------------
pod_netns() { cri inspectp --netns "$1"; }
in_pod() { local ns; ns=$(pod_netns "$1") || return 1; shift; cri_in nsenter --net="$ns" "$@"; }
# the pod's IPv4 address on eth0, as its kernel has it
kernel_ip() {
  in_pod "$1" ip -j -4 addr show dev eth0 | jq -r '[.[].addr_info[] | select(.family == "inet")][0].local'
}

# ---- what the node holds -------------------------------------------------------------------------
count_veths() { cri_in ip -j link show type veth | jq length; }
count_reservations() { { cri_in ls "/var/lib/cni/networks/$NET" 2>/dev/null || true; } | grep -cE '^[0-9.]+$' || true; }
# elements of cniveth's ipMasq source-address set
count_nft_elements() {
  cri_in nft -j list ruleset | jq '[.nftables[] | select(.set? and (.set.name | startswith("saddr")))
                                   | .set.elem // [] | .[]] | length'
}
# libcni's result cache entries of the pod network (containerd's own loopback network has its own)
count_cache() { { cri_in ls /var/lib/cni/results 2>/dev/null || true; } | grep -c "^$NET-" || true; }
count_cache_all() { { cri_in ls /var/lib/cni/results 2>/dev/null || true; } | grep -c . || true; }
# pod network namespaces containerd holds (bind mounts under its state dir)
count_netns() { cri_in grep -c "io.containerd.grpc.v1.cri/netns/cni-" /proc/self/mountinfo || true; }
count_hostport_rules() { cri_in iptables -t nat -S | grep -c -- '^-A CNI-HOSTPORT-DNAT' || true; }

# assert_node_holds N: exactly N pods' worth of veths, reservations, nftables elements, cache entries
# and network namespaces
assert_node_holds() {
  local n=$1 v r e c s
  v=$(count_veths); r=$(count_reservations); e=$(count_nft_elements); c=$(count_cache); s=$(count_netns)
  [ "$v" -eq "$n" ] || fail "expected $n veth(s), found $v: $(cri_in ip -br link show type veth)"
  [ "$r" -eq "$n" ] || fail "expected $n reservation(s), found $r: $(cri_in ls -la /var/lib/cni/networks/$NET)"
  [ "$e" -eq "$n" ] || fail "expected $n ipMasq set element(s), found $e: $(cri_in nft list table inet cniveth)"
  [ "$c" -eq "$n" ] || fail "expected $n libcni cache entr(y/ies), found $c: $(cri_in ls /var/lib/cni/results)"
  [ "$s" -eq "$n" ] || fail "expected $n pod netns, found $s: $(cri_in ls /run/cri/state/io.containerd.grpc.v1.cri/netns)"
}

# ---- tests -----------------------------------------------------------------------------------------

@test "CRI Status: NetworkReady is false while conf_dir is empty and true once the cniveth conflist is there" {
  start_node
  run cri status
  assert_status 0
  assert_match "$output" "RuntimeReady true"
  assert_match "$output" "NetworkReady false"      # the control: the condition does reflect the config
  install_conflist "$(pods_conflist)"
  wait_for 10 network_ready || fail "NetworkReady never became true: $(cri status)"
  run cri version
  assert_match "$output" "^containerd 1\.6\.[0-9]+.* v1$"
}

@test "CRI RunPodSandbox: two pods get distinct addresses from the range, PodSandboxStatus reports what the pods' netns hold, and they reach each other and the gateway" {
  start_node "$(pods_conflist)"
  local a b ip_a ip_b
  a=$(cri runp pod-a); b=$(cri runp pod-b)
  ip_a=$(cri inspectp "$a"); ip_b=$(cri inspectp "$b")
  assert_match "$ip_a" "$POD_IP_RE"
  assert_match "$ip_b" "$POD_IP_RE"
  [ "$ip_a" != "$ip_b" ] || fail "both pods got $ip_a"
  [ "$(kernel_ip "$a")" = "$ip_a" ] || fail "PodSandboxStatus says $ip_a, pod-a's netns has $(kernel_ip "$a")"
  [ "$(kernel_ip "$b")" = "$ip_b" ] || fail "PodSandboxStatus says $ip_b, pod-b's netns has $(kernel_ip "$b")"
  # the result containerd cached is what the pod got
  assert_json "$(cri_in cat "/var/lib/cni/results/$NET-$a-eth0")" '.result.ips[0].address' "$ip_a/24"
  in_pod "$a" ping -c1 -W2 "$ip_b" || fail "pod-a cannot reach pod-b"
  in_pod "$b" ping -c1 -W2 "$ip_a" || fail "pod-b cannot reach pod-a"
  in_pod "$a" ping -c1 -W2 "$SUBNET_PREFIX.1" || fail "pod-a cannot reach the gateway"
  assert_node_holds 2
  # the bridge holds exactly the two pods' host ends
  [ "$(cri_in ip -j link show master cni0 | jq length)" -eq 2 ]
}

@test "CRI hostPort through the chained reference portmap: served from the node, from the other pod and back to the pod itself (hairpin); gone after StopPodSandbox" {
  start_node "$(pods_conflist)"
  local web client
  web=$(cri runp web --port 8080:80 --annotation example.com/owner=cri-suite)
  client=$(cri runp client)
  mkdir -p "$TEST_TMP/www"
  echo "served by $web" > "$TEST_TMP/www/index.html"
  # busybox httpd daemonizes inside the sandbox (dies with it); fd 3 closed for bats
  in_pod "$web" busybox httpd -p 80 -h "$TEST_TMP/www" 3>&-
  wait_for 5 in_pod "$web" curl -sf --max-time 2 "http://127.0.0.1:80/index.html" || fail "httpd did not start"

  run cri_in curl -sS --max-time 5 "http://$NODE_IP:8080/index.html"
  assert_status 0
  [ "$output" = "served by $web" ] || fail "from the node: '$output'"
  run in_pod "$client" curl -sS --max-time 5 "http://$NODE_IP:8080/index.html"
  assert_status 0
  [ "$output" = "served by $web" ] || fail "from the other pod: '$output'"
  run in_pod "$web" curl -sS --max-time 5 "http://$NODE_IP:8080/index.html"
  assert_status 0
  [ "$output" = "served by $web" ] || fail "hairpin (the pod through its own hostPort): '$output'"
  [ "$(count_hostport_rules)" -eq 1 ] || fail "portmap DNAT rules: $(cri_in iptables -t nat -S)"

  # the control: without the mapping nothing answers on the node's port
  cri stopp "$web"
  [ "$(count_hostport_rules)" -eq 0 ] || fail "portmap rules left after StopPodSandbox: $(cri_in iptables -t nat -S)"
  run cri_in curl -sS --max-time 3 "http://$NODE_IP:8080/index.html"
  [ "$status" -ne 0 ] || fail "hostPort still answers after StopPodSandbox: $output"
}

@test "CRI RunPodSandbox on a full range fails, and containerd's cleanup leaves no veth, reservation, nftables element, libcni cache entry or netns of the failed pod" {
  # two addresses only: .2 and .3
  start_node "$(pods_conflist "$SUBNET_PREFIX.0/29" "$SUBNET_PREFIX.2" "$SUBNET_PREFIX.3")"
  cri runp pod-a
  cri runp pod-b
  assert_node_holds 2
  run cri runp pod-c
  [ "$status" -ne 0 ] || fail "RunPodSandbox succeeded on a full range: $output"
  assert_match "$output" "no IP addresses available"
  log_has "ADD network=$NET .* result=error"
  assert_node_holds 2
  run cri listp
  [ "${#lines[@]}" -eq 2 ] || fail "sandboxes listed: $output"
  [ "$(count_cache_all)" -eq 4 ] || fail "cache entries (2 pods x pod network + loopback): $(cri_in ls /var/lib/cni/results)"
}

@test "CRI StopPodSandbox twice, then RemovePodSandbox: every DEL succeeds and nothing is left (veth, reservation, nftables element, portmap rule, libcni cache entry, netns)" {
  start_node "$(pods_conflist)"
  local p
  p=$(cri runp web --port 8080:80)
  assert_node_holds 1
  [ "$(count_hostport_rules)" -eq 1 ]
  cri stopp "$p"
  assert_node_holds 0
  run cri stopp "$p"          # the repeated stop: containerd DELs again with an empty CNI_NETNS
  assert_status 0
  [ "$(cri inspectp --state "$p")" = SANDBOX_NOTREADY ]
  run cri rmp "$p"
  assert_status 0
  [ -z "$(cri listp -q)" ] || fail "sandbox still listed: $(cri listp)"
  assert_node_holds 0
  [ "$(count_hostport_rules)" -eq 0 ] || fail "portmap rules left: $(cri_in iptables -t nat -S)"
  [ "$(count_cache_all)" -eq 0 ] || fail "libcni cache left: $(cri_in ls /var/lib/cni/results)"
  [ "$(grep -cE "DEL network=$NET container=$p .*result=ok" "$LOG")" -eq 3 ] ||
    fail "expected 3 successful DELs (stop, stop, remove): $(grep "container=$p" "$LOG")"
  ! grep -q "result=error" "$LOG" || fail "errors logged: $(grep result=error "$LOG")"
}

@test "CRI: 20 RunPodSandbox calls at once get 20 distinct addresses, all in the kernel; 20 StopPodSandbox and RemovePodSandbox calls at once leave nothing" {
  start_node "$(pods_conflist)"
  local n=20 names=() i
  for ((i = 1; i <= n; i++)); do names+=("pod-$i"); done
  # one client, 20 concurrent RunPodSandbox calls on one connection (what a kubelet does)
  local started ids
  started=$(cri runp "${names[@]}") || fail "RunPodSandbox failed: $started"
  ids=($(cut -d' ' -f2 <<<"$started"))
  [ "${#ids[@]}" -eq "$n" ] || fail "started: $started"
  local reported
  reported=$(cri inspectp "${ids[@]}")
  [ "$(wc -l <<<"$reported")" -eq "$n" ] || fail "PodSandboxStatus: $reported"
  [ "$(cut -d' ' -f2 <<<"$reported" | sort -u | wc -l)" -eq "$n" ] || fail "duplicate addresses: $reported"
  # every pod's netns holds the address PodSandboxStatus reports
  local netns id ip ns
  netns=$(cri inspectp --netns "${ids[@]}")
  while read -r id ip; do
    assert_match "$ip" "$POD_IP_RE"
    ns=$(awk -v id="$id" '$1 == id {print $2}' <<<"$netns")
    [ "$(cri_in nsenter --net="$ns" ip -j -4 addr show dev eth0 | jq -r '.[0].addr_info[0].local')" = "$ip" ] ||
      fail "pod $id: PodSandboxStatus says $ip, its netns has $(cri_in nsenter --net="$ns" ip -br addr)"
  done <<<"$reported"
  assert_node_holds "$n"
  [ "$(cri_in ip -j link show master cni0 | jq length)" -eq "$n" ]

  cri stopp "${ids[@]}" || fail "StopPodSandbox failed"
  cri rmp "${ids[@]}" || fail "RemovePodSandbox failed"
  [ -z "$(cri listp -q)" ] || fail "sandboxes left: $(cri listp)"
  assert_node_holds 0
  ! grep -q "result=error" "$LOG" || fail "errors logged: $(grep result=error "$LOG")"
}
