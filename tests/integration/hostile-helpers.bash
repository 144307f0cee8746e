# Helpers for 75-hostile.bats (loaded after helpers.bash and reliability-helpers.bash).
#
# HOSTILE_TARGET=reference runs the comparable tests against the reference plugins (/usr/lib/cni/bridge,
# which execs /usr/lib/cni/host-local); tests that only make sense for cniveth skip themselves there.
HOSTILE_TARGET=${HOSTILE_TARGET:-cniveth}
# The reference's ipMasq runs iptables: it needs a PATH (cniveth is run with an empty one).
REF_WRAPPER="/usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin"

on_reference() { [ "$HOSTILE_TARGET" = reference ]; }
cniveth_only() { if on_reference; then skip "cniveth only: $*"; fi; }

hostile_setup() {
  basic_setup
  unset CNIVETH_BOOT_ID_FILE
  NET=hostnet
  NET_DIR=$DATA_DIR/$NET
  BASE_WRAPPER=""
  if on_reference; then
    export PLUGIN="$REF_CNI_DIR/bridge"
    BASE_WRAPPER=$REF_WRAPPER
  fi
  export PLUGIN_WRAPPER=$BASE_WRAPPER
}

hostile_teardown() {
  # whatever a test mounted over the data directory (tmpfs, read-only bind)
  local i
  for i in 1 2 3; do mountpoint -q "$DATA_DIR" 2>/dev/null && umount "$DATA_DIR"; done
  basic_teardown
}

# wrapped CMD...: runs the plugin helper with extra words before the binary (after the target's own).
wrapped() { local w=$1; shift; PLUGIN_WRAPPER="$BASE_WRAPPER $w" "$@"; }

# ---- configs ------------------------------------------------------------------------------------
V4='[[{"subnet":"10.99.0.0/24"}]]'
DUAL='[[{"subnet":"10.99.0.0/24"}],[{"subnet":"fd99::/64"}]]'

# hconf [EXTRA_TOP_LEVEL] [RANGES] [EXTRA_IPAM] [VERSION]: the network "hostnet" on bridge cnihost0.
hconf() {
  local extra=${1:-} ranges=${2:-$V4} ipam_extra=${3:-} version=${4:-1.0.0}
  cat <<JSON
{"cniVersion":"$version","name":"$NET","type":"cniveth","bridge":"cnihost0","isGateway":true,
 ${extra:+$extra,}
 "ipam":{"type":"host-local","dataDir":"$DATA_DIR","routes":[{"dst":"0.0.0.0/0"}],"ranges":$ranges${ipam_extra:+,$ipam_extra}}}
JSON
}

# with_prev CONF RESULT: CONF with prevResult (for CHECK and DEL).
with_prev() { jq -c --argjson p "$2" '. + {prevResult: $p}' <<<"$1"; }

# ---- the store, seen from outside ---------------------------------------------------------------
# store_view CID...: sets HELD[CID] (its reservations, space-separated, sorted) and INDEX_PROBLEMS
# (claims of cniveth's owner index the IP files do not back), with one perl process (hostile-store.pl).
store_view() {
  declare -gA HELD=()
  INDEX_PROBLEMS=""
  local line
  while IFS= read -r line; do
    if [[ $line == "INDEX "* ]]; then INDEX_PROBLEMS+="${line#INDEX }; "
    elif [[ $line == "STALE "* ]]; then :   # an index the next call rebuilds anyway
    elif [[ $line == *" "* ]]; then HELD[${line%% *}]=${line#* }
    else HELD[$line]=""; fi
  done < <(perl "$TESTS_DIR/hostile-store.pl" "$NET_DIR" "$@")
}

# reservations_of CID: its reservations on one line (empty when none).
reservations_of() { store_view "$1"; echo "${HELD[$1]}"; }

# owner_of IP: "cid ifname" of a reservation file (empty when absent).
owner_of() { [ -f "$NET_DIR/$1" ] && tr '\r\n' '  ' <"$NET_DIR/$1" | xargs; }

# veth_names: every veth of the fake host, space-separated (one ip process, parsed by bash).
veth_names() {
  local line name names=()
  while IFS= read -r line; do
    name=${line#*: }; name=${name%%[@:]*}; names+=("$name")
  done < <(in_host ip -o link show type veth)
  echo "${names[*]}"
}

# ---- assertions ---------------------------------------------------------------------------------
VALID_CODES=" 1 2 3 4 5 6 7 11 50 51 "
# describe_error_problem: why $status/$output/$stderr is not exactly one CNI error object (empty if it is).
describe_error_problem() {
  if [ "$status" -eq 0 ]; then echo "exit 0"; return; fi
  if [ "$status" -ge 124 ]; then echo "exit $status (timeout or signal)"; return; fi
  local summary code msglen
  summary=$(jq -r -s 'if length != 1 then "values \(length)" else .[0] | "\(.code // "none") \((.msg // "") | length)" end' \
    <<<"$output" 2>/dev/null) || { echo "stdout is not JSON: ${output:0:200}"; return; }
  [[ $summary != values* ]] || { echo "${summary#values } JSON values on stdout"; return; }
  code=${summary% *}; msglen=${summary#* }
  [[ "$code" =~ ^[0-9]+$ ]] || { echo "no integer code: ${output:0:200}"; return; }
  [[ "$VALID_CODES" == *" $code "* || "$code" -ge 100 ]] || { echo "code $code is not a CNI error code"; return; }
  [ "$msglen" -gt 0 ] || { echo "empty msg"; return; }
  [[ "$output${stderr:-}" != *"   at "* && "$output${stderr:-}" != *"Unhandled exception"* ]] || { echo "stack trace"; return; }
}
assert_one_cni_error() {
  local why; why=$(describe_error_problem)
  [ -z "$why" ] || fail "expected one CNI error object: $why; stdout: ${output:0:300}; stderr: ${stderr:-}"
}

# Everything GC or a stray DEL could destroy: reservations (with owners), our host veths, per-attachment
# nftables elements, the bridge's addresses.
state_snapshot() {
  local f
  for f in $(reservations "$NET"); do echo "resv $f $(owner_of "$f")"; done
  in_host ip -j -d link show type veth | jq -r '.[] | "veth \(.ifname) \(.ifalias // "")"' | sort
  if command -v nft >/dev/null; then
    in_host nft -j list ruleset 2>/dev/null | jq -r '.nftables[] | (.set // .map // empty)
      | select(.name | startswith("saddr") or startswith("spoofchk")) | "nft \(.name) \((.elem // []) | tostring)"' | sort
  fi
  in_host ip -j addr show dev cnihost0 2>/dev/null | jq -r '.[].addr_info[] | "bridge-addr \(.local)/\(.prefixlen)"' | sort
}

# ---- fault injection (tests/faults) -------------------------------------------------------------
# faults_env KEY=VALUE...: the words that put the injector in front of the plugin (for PLUGIN_WRAPPER).
faults_env() { echo "/usr/bin/env LD_PRELOAD=$FAULTLIB FAULT_PATH=$DATA_DIR $*"; }

# faulty WORDS CMD...: like `wrapped`, with the plugin's dynamically linked build (CNIVETH_FAULTS, the same
# source as the shipped static binary, which LD_PRELOAD cannot reach).
faulty() { PLUGIN="$CNIVETH_FAULTS" wrapped "$@"; }

# fault_counts LOG: "kind count" per kind of call the log saw.
fault_counts() { cut -f1 "$1" | sort | uniq -c | awk '{print $2, $1}'; }

# sweep_points COUNT: which N to fail among COUNT calls. FAULT_SWEEP=full: all of them; otherwise the
# first, the middle and the last (every N when there are at most 4).
sweep_points() {
  local c=$1
  if [ "${FAULT_SWEEP:-quick}" = full ] || [ "$c" -le 4 ]; then seq 1 "$c"; return; fi
  printf '%s\n' 1 $(((c + 1) / 2)) "$c" | sort -nu
}
