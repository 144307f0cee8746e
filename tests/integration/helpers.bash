# Shared helpers for the black-box suites (bats). Modelled on netavark's test/helpers.bash:
bats_require_minimum_version 1.5.0

# every test gets a fresh fake "host" network namespace and its own data directory; containers
# are namespaces held open by a sleeping process; the plugin runs inside the fake host through
# nsenter, exactly as a runtime execs it (environment + stdin).

CNIVETH=${CNIVETH:?run through tests/integration/run.sh}
REF_CNI_DIR=${REF_CNI_DIR:-/usr/lib/cni}

# ---- namespaces -------------------------------------------------------------------------------
_ns_pids=()

# new_ns VAR: starts a process in a new network namespace and stores its pid in VAR;
# /proc/PID/ns/net is the netns. (fd 3 is closed: bats waits for it otherwise.)
new_ns() {
  local __nn_var=$1
  unshare --net --fork --kill-child sleep infinity >/dev/null 2>&1 3>&- &
  local __nn_pid=$!
  disown "$__nn_pid" 2>/dev/null || true   # no "Killed" job notices at teardown
  # wait for the child to exist in its own namespace
  local __nn_child=""
  for _ in $(seq 1 200); do
    __nn_child=$(pgrep -P "$__nn_pid" sleep || true)
    [ -n "$__nn_child" ] && break
    sleep 0.01
  done
  [ -n "$__nn_child" ] || { echo "could not start namespace holder" >&2; return 1; }
  _ns_pids+=("$__nn_pid")
  nsenter --net="/proc/$__nn_child/ns/net" ip link set lo up
  printf -v "$__nn_var" '%s' "$__nn_child"
}

basic_setup() {
  TEST_TMP=$(mktemp -d /tmp/cniveth-test.XXXXXX)
  DATA_DIR="$TEST_TMP/ipam"
  new_ns HOST_PID
  HOST_NS="/proc/$HOST_PID/ns/net"
  export CNI_PATH="$REF_CNI_DIR"
}

basic_teardown() {
  local p
  for p in "${_ns_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  _ns_pids=()
  if [ -n "${TEST_TMP:-}" ]; then rm -rf "$TEST_TMP"; fi   # (unset when setup skipped the test)
}

# new_container VAR: a container namespace; stores its netns path in VAR.
new_container() {
  local __pid
  new_ns __pid
  printf -v "$1" '%s' "/proc/$__pid/ns/net"
}

in_host() { nsenter --net="$HOST_NS" "$@"; }
in_ns() { local ns=$1; shift; nsenter --net="$ns" "$@"; }

# ---- what this kernel can do (probed once per bats run, cached in BATS_RUN_TMPDIR) --------------
# has_bridge_vlan_filtering: succeeds when the kernel has bridge VLAN filtering
# (CONFIG_BRIDGE_VLAN_FILTERING): a bridge with vlan_filtering 1 can be made in a throwaway netns.
has_bridge_vlan_filtering() {
  local cache=${BATS_RUN_TMPDIR:?needs bats}/kernel-bridge-vlan-filtering
  if [ ! -s "$cache" ]; then
    if unshare --net ip link add probe0 type bridge vlan_filtering 1 2>/dev/null; then echo yes; else echo no; fi >"$cache"
  fi
  [ "$(cat "$cache")" = yes ]
}
needs_vlan_filtering() { has_bridge_vlan_filtering || skip "needs kernel with bridge VLAN filtering"; }
needs_no_vlan_filtering() { ! has_bridge_vlan_filtering || skip "needs kernel without bridge VLAN filtering"; }
# kernel_kind_gate (first thing in setup): a test whose name says "(kernel with bridge VLAN filtering)"
# or "(kernel without bridge VLAN filtering)" runs only on that kind of kernel and is skipped, visibly
# and before any set-up, on the other.
kernel_kind_gate() {
  case $BATS_TEST_DESCRIPTION in
    *"(kernel with bridge VLAN filtering)"*) needs_vlan_filtering ;;
    *"(kernel without bridge VLAN filtering)"*) needs_no_vlan_filtering ;;
  esac
}

# ---- running the plugin -----------------------------------------------------------------------
# plugin VERB CONTAINERID NETNS IFNAME < config ; extra env via CNI_ARGS=..., PLUGIN=path, etc.
# The plugin runs with an empty PATH: it may never rely on ip, nft, iptables or sysctl binaries.
# PLUGIN_WRAPPER (absolute paths, unquoted) runs it under a tool, e.g. strace.
# Sets $output/$status when wrapped in bats `run`.
plugin() {
  local verb=$1 cid=${2:-} netns=${3:-} ifname=${4:-}
  env CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_NETNS="$netns" CNI_IFNAME="$ifname" \
      CNI_PATH="${CNI_PATH:-$REF_CNI_DIR}" CNI_ARGS="${CNI_ARGS:-}" \
      timeout --kill-after=5 30 nsenter --net="$HOST_NS" /usr/bin/env PATH=/nonexistent ${PLUGIN_WRAPPER:-} "${PLUGIN:-$CNIVETH}"
}

# run_plugin VERB CID NETNS IFNAME CONFIG_JSON — runs, sets $output/$status (bats run semantics).
run_plugin() {
  local conf=$5
  run plugin "$1" "$2" "$3" "$4" <<<"$conf"
}

# ---- assertions ---------------------------------------------------------------------------------
fail() { echo "FAIL: $*" >&2; return 1; }

assert_status() {
  [ "$status" -eq "$1" ] || fail "expected exit $1, got $status; output: $output"
}

# assert_json JSON JQ_EXPR EXPECTED  — compares jq -r output to EXPECTED exactly.
assert_json() {
  local got
  got=$(jq -r "$2" <<<"$1") || fail "not JSON or bad query $2: $1"
  [ "$got" == "$3" ] || fail "jq '$2': expected '$3', got '$got' in: $1"
}

# assert_match STRING REGEX
assert_match() { [[ "$1" =~ $2 ]] || fail "'$1' does not match /$2/"; }

# The error object every failure must print on stdout.
assert_cni_error() {
  local code=$1
  [ "$status" -ne 0 ] || fail "expected failure, got exit 0; output: $output"
  assert_json "$output" '.code' "$code"
  local msg; msg=$(jq -r '.msg' <<<"$output")
  [ -n "$msg" ] && [ "$msg" != null ] || fail "error without msg: $output"
  [[ "$output" != *"   at "* ]] || fail "stack trace in output: $output"
}

# ---- configs ------------------------------------------------------------------------------------
# bridge_conf [VERSION] [extra top-level JSON fields] — a bridge config on a fresh /24.
bridge_conf() {
  local version=${1:-1.1.0} extra=${2:-}
  cat <<JSON
{"cniVersion":"$version","name":"testnet","type":"cniveth","bridge":"cnitest0","isGateway":true,
 ${extra:+$extra,}
 "ipam":{"type":"host-local","dataDir":"$DATA_DIR","routes":[{"dst":"0.0.0.0/0"}],
         "ranges":[[{"subnet":"10.99.0.0/24"}]]}}
JSON
}
