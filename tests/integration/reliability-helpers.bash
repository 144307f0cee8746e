# Helpers for the reliability, bad-input and soak suites (70-, 80-, 90-*.bats); loaded after helpers.bash.

# sigrun DELAY_US SIGNAL INTERVAL_US CONFIG -- runs the plugin (CNI_* from the environment, the config
# on stdin) in the fake host and sends SIGNAL after DELAY_US microseconds, then again every INTERVAL_US
# (0 = once) until it exits. Prints "exit N" or "signal N" on fd 3-free stdout; the plugin's own
# stdout/stderr go to $TEST_TMP/sigrun.out / .err.
sigrun() {
  local delay=$1 sig=$2 interval=$3 conf=$4
  printf '%s' "$conf" >"$TEST_TMP/sigrun.conf"
  nsenter --net="$HOST_NS" python3 - "$delay" "$sig" "$interval" "$CNIVETH" "$TEST_TMP" <<'PY'
import os, signal, subprocess, sys, time
delay, sig, interval, binary, tmp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
with open(tmp + "/sigrun.conf", "rb") as stdin, open(tmp + "/sigrun.out", "wb") as out, open(tmp + "/sigrun.err", "wb") as err:
    p = subprocess.Popen([binary], stdin=stdin, stdout=out, stderr=err)
    start = time.perf_counter_ns()
    deadline = start + delay * 1000
    while time.perf_counter_ns() < deadline:   # busy wait: sleep() is too coarse below 1 ms
        if p.poll() is not None: break
    sent = 0
    while p.poll() is None:
        try:
            p.send_signal(sig); sent += 1
        except ProcessLookupError:
            break
        if interval == 0: break
        t = time.perf_counter_ns() + interval * 1000
        while time.perf_counter_ns() < t and p.poll() is None: pass
    rc = p.wait(timeout=60)
    elapsed = (time.perf_counter_ns() - start) // 1000
print(("signal %d" % -rc) if rc < 0 else ("exit %d" % rc), "sent", sent, "us", elapsed)
PY
}

# Run with CNI_* for one attachment: with_cni VERB CID NETNS IFNAME cmd...
with_cni() {
  local verb=$1 cid=$2 netns=$3 ifname=$4; shift 4
  CNI_COMMAND=$verb CNI_CONTAINERID=$cid CNI_NETNS=$netns CNI_IFNAME=$ifname CNI_PATH="${CNI_PATH:-$REF_CNI_DIR}" \
    CNI_ARGS="${CNI_ARGS:-}" "$@"
}

# Our host veths (the ones carrying the owner alias) in the fake host, one name a line.
our_veths() {
  in_host ip -j -d link show type veth | jq -r '.[] | select((.ifalias // "") | startswith("cniveth ")) | .ifname'
}
all_veths() { in_host ip -j link show type veth | jq -r '.[].ifname'; }

# Reservation files (named like an IP) of a network's store.
reservations() { local dir=$DATA_DIR/${1:-testnet}; [ -d "$dir" ] && ls "$dir" | grep -E '^[0-9a-f.:]+$' || true; }

# Asserts the store holds no reservation, no scratch file, and that the lock is free.
assert_store_clean() {
  local dir=$DATA_DIR/${1:-testnet}
  [ -d "$dir" ] || return 0
  local left; left=$(reservations "${1:-testnet}")
  [ -z "$left" ] || fail "reservations left in $dir: $left"
  [ ! -e "$dir/.cniveth/tmp" ] || fail "stale scratch file $dir/.cniveth/tmp"
  [ -z "$(ls "$dir/.cniveth/owners" 2>/dev/null)" ] || fail "owner index entries left: $(ls "$dir/.cniveth/owners")"
  flock -n -x "$dir/lock" true || fail "store lock $dir/lock is still held"
}

# Firewall elements that mention an address (only when nft is there and the ruleset is readable).
# nft_mentions TEXT: lines of per-attachment nftables state (container address set elements, spoof-check
# map/set elements) that contain TEXT. A network's subnet set and its rule stay by design and are not counted.
nft_mentions() {
  command -v nft >/dev/null || return 1
  in_host nft -j list ruleset 2>/dev/null | jq -r '
    .nftables[] | (.set // .map // empty)
    | select(.name | startswith("saddr") or startswith("spoofchk"))
    | (.elem // [])[] | tostring' | grep -F -- "$1"
}

# A simple integer percentile of numbers on stdin: percentile P
percentile() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if(i<1)i=1; print a[i]}'; }

# net_conf NAME BRIDGE SUBNET — a bridge config of its own network.
net_conf() {
  cat <<JSON
{"cniVersion":"1.1.0","name":"$1","type":"cniveth","bridge":"$2","isGateway":true,
 "ipam":{"type":"host-local","dataDir":"$DATA_DIR","routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"$3"}]]}}
JSON
}

# bg_plugin VERB CID NETNS IFNAME CONF OUTFILE — one plugin call in the background; the exit code is
# appended to OUTFILE.rc. Collect with `wait`.
bg_plugin() {
  local out=$6
  ( plugin "$1" "$2" "$3" "$4" <<<"$5" >"$out" 2>"$out.err"; echo $? >"$out.rc" ) 3>&- &
}

# assert_bg_ok FILE... — every background call exited 0 with no stderr.
assert_bg_ok() {
  local f
  for f in "$@"; do
    [ "$(cat "$f.rc")" = 0 ] || fail "$(basename "$f") failed (exit $(cat "$f.rc")): $(cat "$f") $(cat "$f.err")"
  done
}

# Addresses configured in the given container namespaces (one a line, global scope, both families).
kernel_addresses() {
  local ns
  for ns in "$@"; do in_ns "$ns" ip -j addr show dev eth0 2>/dev/null | jq -r '.[].addr_info[] | select(.scope=="global") | .local'; done
}

# assert_unique WHAT — no line of stdin appears twice.
assert_unique() {
  local dups; dups=$(sort | uniq -d)
  [ -z "$dups" ] || fail "duplicate $1: $dups"
}

# Reservation files of every network in the data dir, as network/ip lines.
all_reservations() {
  (cd "$DATA_DIR" 2>/dev/null && ls -d */* 2>/dev/null | grep -E '/[0-9a-f.:]+$') || true
}
