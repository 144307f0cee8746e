# Helpers for 60-clients.bats: real runtimes (containerd 1.6 + ctr, podman 4.3 with its CNI backend)
# driving cniveth. Loaded after tests/integration/helpers.bash.
#
# Isolation: run.sh already gives the suite private net + mount namespaces. On top of that every test
#  - runs the runtime inside its own fake "host" network namespace ($HOST_NS from basic_setup), so bridges,
#    veths, iptables/nftables state live and die with the test;
#  - mounts fresh tmpfs over /run, /opt, /etc/cni and /var/lib/cni (only inside our mount namespace):
#    shim sockets, runc state, /run/netns, ctr's fixed plugin dir /opt/cni/bin, libcni's cache and the
#    IPAM store are private and start empty;
#  - gives containerd and podman their own root/state/socket/storage under $TEST_TMP;
#  - puts the containers' cgroups under a parent named after the test ($CG) and removes it afterwards.
# Teardown stops whatever the test started (by PID or through the runtime's own CLI) even on failure.

CLIENT_NS=cnitest            # containerd namespace
ROOTFS_APPLETS=(sh sleep ip ping cat httpd ls echo mkdir)

# require_sandbox: never run the runtimes against the machine's own namespaces.
require_sandbox() {
  [ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
    fail "not in a private network namespace: run through tests/integration/run.sh"
  [ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
    fail "not in a private mount namespace: run through tests/integration/run.sh"
}

_client_mounts=()
_bg_pids=()
CONTAINERD_PID=""

client_setup() {
  require_sandbox
  command -v busybox >/dev/null || skip "busybox-static is not installed (make deps)"
  basic_setup
  local m
  for m in /run /opt /etc/cni /var/lib/cni; do
    mount -t tmpfs -o mode=0755 tmpfs "$m"
    _client_mounts+=("$m")
  done
  mkdir -p /run/netns /run/lock /opt/cni/bin /etc/cni/net.d
  CG="cniveth-test-$$-${BATS_TEST_NUMBER:-0}"
  CNI_BIN="$TEST_TMP/cni-bin"      # our binary as the runtime sees it
  mkdir -p "$CNI_BIN"
  cp "$CNIVETH" "$CNI_BIN/cniveth"
  ln -s cniveth "$CNI_BIN/host-local"
  LOG="$TEST_TMP/cniveth.log"
  ROOTFS="$TEST_TMP/rootfs"
  make_rootfs "$ROOTFS"
}

client_teardown() {
  [ -n "${TEST_TMP:-}" ] || return 0   # setup skipped before making anything
  set +e
  [ -n "${PODMAN_CONF:-}" ] && podman_cleanup
  [ -n "$CONTAINERD_PID" ] && containerd_cleanup
  local p
  for p in "${_bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  _bg_pids=()
  # anything still mounted under the test dir (podman's shm), then our tmpfs mounts
  if [ -n "${TEST_TMP:-}" ]; then
    grep -o " $TEST_TMP[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  fi
  for ((p = ${#_client_mounts[@]} - 1; p >= 0; p--)); do umount -R -l "${_client_mounts[p]}"; done
  _client_mounts=()
  remove_cgroups
  basic_teardown
  TEST_TMP=""
  return 0
}

# make_rootfs DIR: a minimal container root: busybox-static plus applet links.
make_rootfs() {
  local r=$1 a
  mkdir -p "$r"/{bin,proc,sys,dev,etc,tmp,www}
  cp "$(command -v busybox)" "$r/bin/busybox"
  for a in $(busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  echo "hello from cniveth $$" > "$r/www/index.html"
}

# the cgroups the runtimes made for this test's containers (cgroup v1 and v2 layouts)
remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/"$CG" /sys/fs/cgroup/*/"$CG"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}

# kill_own PATTERN: processes whose command line contains our private TEST_TMP path (shims, conmon)
kill_own() {
  local p
  for p in $(pgrep -f -- "$TEST_TMP" 2>/dev/null); do
    [ "$p" != "$$" ] && [ "$p" != "$BASHPID" ] && kill -9 "$p" 2>/dev/null
  done
  return 0
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s
wait_for() {
  local t=$1; shift
  local i
  for ((i = 0; i < t * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  "$@"
}

# ---- what is left on the host --------------------------------------------------------------------
# host ends of attachments (the tests' own uplinks are not counted)
host_veths() { in_host ip -o link show type veth | grep -cE '^[0-9]+: veth[0-9a-f]{8}@' || true; }
# reservation files of a network in the default store (file names that are addresses)
reservations() { ls "/var/lib/cni/networks/$1" 2>/dev/null | grep -cE '^[0-9a-f.:]+$' || true; }

assert_clean() {   # NETWORK
  local v r
  v=$(host_veths); r=$(reservations "$1")
  [ "$v" -eq 0 ] || fail "$v veth(s) left on the host: $(in_host ip -br link show type veth)"
  [ "$r" -eq 0 ] || fail "$r reservation(s) left: $(ls -la /var/lib/cni/networks/$1)"
  if [ -d /var/lib/cni/results ]; then
    [ -z "$(ls /var/lib/cni/results)" ] || fail "libcni result cache left: $(ls /var/lib/cni/results)"
  fi
}

# log_has REGEX: the cniveth log (logLevel debug) has a line matching REGEX
log_has() { grep -qE -- "$1" "$LOG" || fail "no log line /$1/ in: $(cat "$LOG" 2>/dev/null)"; }

# ---- an "outside" network behind the fake host (for ipMasq) -----------------------------------
# outside_net: a namespace 192.0.2.2/24 linked to the host (192.0.2.1) with no route back to the
# container subnets: a container reaches it only if its traffic is masqueraded.
outside_net() {
  local outside_pid
  new_ns outside_pid
  OUTSIDE_NS="/proc/$outside_pid/ns/net"
  # (created here, then moved: iproute2's "peer ... netns PID" form is refused by this kernel)
  in_host ip link add vout type veth peer name vout1
  in_host ip link set vout1 netns "$outside_pid"
  in_ns "$OUTSIDE_NS" ip link set vout1 name eth0
  in_host ip addr add 192.0.2.1/24 dev vout
  in_host ip link set vout up
  in_ns "$OUTSIDE_NS" ip addr add 192.0.2.2/24 dev eth0
  in_ns "$OUTSIDE_NS" ip link set eth0 up
}

# ---- containerd ------------------------------------------------------------------------------
containerd_start() {
  local d="$TEST_TMP/containerd"
  mkdir -p "$d"
  cat > "$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
# ctr's --cni is driven by ctr itself (go-cni, /etc/cni/net.d + /opt/cni/bin); no CRI plugin here
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/containerd.sock"
[debug]
  level = "info"
EOF
  export CONTAINERD_ADDRESS="$d/containerd.sock" CONTAINERD_NAMESPACE="$CLIENT_NS"
  in_host containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 3>&- &
  CONTAINERD_PID=$!
  wait_for 10 test -S "$CONTAINERD_ADDRESS" || fail "containerd did not start: $(tail -5 "$d/containerd.log")"
  wait_for 10 ctr version || fail "containerd does not answer"
}

# ctr_run NAME: `ctr run --rm --cni` in the background, as a user would (the ctr process stays until the
# task exits, then calls DEL with an empty CNI_NETNS and the cached prevResult, then removes the container).
ctr_run() {
  local name=$1
  in_host ctr run --rm --cni --null-io --cgroup "/$CG/$name" --env PATH=/bin --rootfs "$ROOTFS" \
    "$name" sleep 3600 >"$TEST_TMP/ctr-$name.out" 2>&1 3>&- &
  _bg_pids+=($!)
  eval "CTR_PID_$name=$!"
  local pid=$! i
  for ((i = 0; i < 200; i++)); do
    ctr_running "$name" && return 0
    kill -0 "$pid" 2>/dev/null || break   # ctr gave up (e.g. the ADD failed): no point waiting
    sleep 0.1
  done
  ctr_running "$name" || fail "ctr run $name: $(cat "$TEST_TMP/ctr-$name.out")"
}
ctr_running() {
  ctr task ls 2>/dev/null | grep -qE "^$1 +[0-9]+ +RUNNING" &&
    [ -e "/var/lib/cni/results/$NET-$CLIENT_NS-$1-eth0" ]
}

_exec_n=0
ctr_exec() {   # NAME CMD...
  local name=$1; shift
  _exec_n=$((_exec_n + 1))
  ctr task exec --exec-id "e$_exec_n" "$name" "$@"
}

# ctr_ip NAME: the container's IPv4 address on eth0, as the container sees it
ctr_ip() { ctr_exec "$1" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1; }

# ctr_stop NAME: kill the task; the waiting `ctr run --rm` does the CNI DEL and removes the container
ctr_stop() {
  local name=$1 pid
  eval "pid=\$CTR_PID_$name"
  ctr task kill -s KILL "$name"
  local i
  for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$pid" 2>/dev/null || fail "ctr run $name did not finish"
  ! ctr c ls -q | grep -qx "$name" || fail "container $name was not removed"
}

containerd_cleanup() {
  local t
  for t in $(ctr task ls -q 2>/dev/null); do ctr task kill -s KILL "$t" 2>/dev/null; done
  sleep 0.3
  for t in $(ctr task ls -q 2>/dev/null); do ctr task rm -f "$t" 2>/dev/null; done
  for t in $(ctr c ls -q 2>/dev/null); do ctr c rm "$t" 2>/dev/null; done
  kill "$CONTAINERD_PID" 2>/dev/null
  local i
  for ((i = 0; i < 50; i++)); do kill -0 "$CONTAINERD_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$CONTAINERD_PID" 2>/dev/null
  kill_own
  CONTAINERD_PID=""
}

# ---- podman ----------------------------------------------------------------------------------
# podman_setup: containers.conf in a private place (CONTAINERS_CONF), CNI backend, our plugin dir first,
# our own network config dir; storage/runroot/tmp under $TEST_TMP.
podman_setup() {
  local d="$TEST_TMP/podman"
  mkdir -p "$d/net.d"
  PODMAN_NETDIR="$d/net.d"
  PODMAN_CONF="$d/containers.conf"
  # this sandbox lacks CAP_SYS_RESOURCE: podman's default rlimits (raised to the hard limits) cannot be
  # set by runc, so ask for lower ones
  cat > "$PODMAN_CONF" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$CNI_BIN", "$REF_CNI_DIR"]
network_config_dir = "$PODMAN_NETDIR"
default_network = "podman"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
runtime = "runc"
tmp_dir = "$d/tmp"
static_dir = "$d/static"
volume_path = "$d/volumes"
EOF
  export CONTAINERS_CONF="$PODMAN_CONF"
}

pod() { in_host podman --root "$TEST_TMP/podman/storage" --runroot "$TEST_TMP/podman/runroot" --storage-driver vfs "$@"; }

# pod_run NAME NETWORK [podman run options...] -- CMD...
pod_run() {
  local name=$1 net=$2; shift 2
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  pod run -d --name "$name" --network "$net" --cgroup-parent "/$CG" "${opts[@]}" --rootfs "$ROOTFS" "$@" 3>&- ||
    fail "podman run $name failed"
}

pod_id() { pod inspect --format '{{.Id}}' "$1"; }
pod_ip() { pod exec "$1" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1; }

podman_cleanup() {
  pod rm -f -a -t 0 >/dev/null 2>&1
  kill_own
  PODMAN_CONF=""
}
