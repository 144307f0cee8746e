#!/usr/bin/env bats
load helpers

setup() { basic_setup; }
teardown() { basic_teardown; }

@test "binary runs without CNI_COMMAND and names itself on stderr" {
  run --separate-stderr "$CNIVETH"
  assert_status 0
  [ -z "$output" ] || fail "stdout must stay empty, got: $output"
  assert_match "$stderr" "cniveth"
}

# The plugin ships as one static executable: it must run on any distribution's glibc (or none), and
# glibc's NSS and dlopen, which would load the host's own shared objects into it, are never used.
@test "one static executable: no interpreter, and no call opens a shared object or an NSS file" {
  run readelf -lW "$CNIVETH"
  assert_status 0
  [[ "$output" == *"LOAD"* ]] || fail "readelf shows no program headers: $output"
  [[ "$output" != *"INTERP"* ]] || fail "the binary asks for a dynamic loader: $output"

  local C; new_container C
  local conf ipam trace="$TEST_TMP/trace"
  conf=$(bridge_conf 1.1.0)
  ipam='{"type":"static","addresses":[{"address":"10.99.0.77/24"}]}'
  # a delegated IPAM plugin (cniVersion 1.0.0: Debian's reference plugins stop there)
  local delegated; delegated=$(jq -c --argjson i "$ipam" '.ipam = $i | .name = "delegated" | .bridge = "cnitest1" | .cniVersion = "1.0.0"' <<<"$conf")
  : >"$trace"
  local PLUGIN_WRAPPER="/usr/bin/strace -f -qq -e trace=execve,open,openat,openat2 -o $trace.part"
  traced() { run_plugin "$@"; cat "$trace.part" >>"$trace"; }
  traced VERSION "" "" "" "$conf"; assert_status 0
  traced ADD c1 "$C" eth0 "$conf"; assert_status 0
  traced CHECK c1 "$C" eth0 "$(jq -c --argjson r "$output" '.prevResult = $r' <<<"$conf")"; assert_status 0
  traced STATUS "" "" "" "$conf"; assert_status 0
  traced GC "" "" "" "$(jq -c '.["cni.dev/valid-attachments"] = [{"containerID":"c1","ifname":"eth0"}]' <<<"$conf")"; assert_status 0
  traced DEL c1 "$C" eth0 "$conf"; assert_status 0
  traced ADD c2 "$C" eth1 "$delegated"; assert_status 0
  traced DEL c2 "$C" eth1 "$delegated"; assert_status 0
  traced ADD c3 /nonexistent eth0 "$conf"; assert_cni_error 3
  # control: the trace saw the calls' own files (the IPAM store) and the delegated IPAM plugin's exec
  grep -q "$DATA_DIR" "$trace" || fail "strace recorded nothing of the calls: $(head -5 "$trace")"
  grep -q "execve(\"$REF_CNI_DIR/static\"" "$trace" || fail "the delegated IPAM plugin was not run: $(grep execve "$trace")"
  # the plugin's own processes: every pid but those that exec'd something else (the delegate)
  local own
  own=$(awk '$2 ~ /^execve\(/ && $2 !~ /cniveth"/ { other[$1] = 1 } { line[NR] = $0; pid[NR] = $1 }
             END { for (i = 1; i <= NR; i++) if (!(pid[i] in other)) print line[i] }' "$trace" \
        | grep -E '\.so(\.[0-9]+)*"|"/etc/(nsswitch\.conf|passwd|group|hosts|resolv\.conf|ld\.so[^"]*)"|"/usr/(share|lib)/(terminfo|ssl)' || true)
  [ -z "$own" ] || fail "opened shared objects or NSS files: $own"
}

# The runtime's finalizer thread is never started (src/CniVeth/Native/no_finalizer_thread.c): a call is
# one thread, unless a delegated IPAM plugin needs Process.Start, whose own threads start normally.
@test "no call starts a thread of its own; the threads a delegated IPAM plugin needs still start" {
  local C; new_container C
  local conf trace="$TEST_TMP/trace"
  conf=$(bridge_conf 1.1.0)
  local PLUGIN_WRAPPER="/usr/bin/strace -f -qq -e trace=clone,clone3,vfork,fork,prctl -o $trace"
  run_plugin VERSION "" "" "" "$conf"; assert_status 0
  [ ! -s "$trace" ] || fail "VERSION started a thread or named one: $(cat "$trace")"
  run_plugin ADD c1 "$C" eth0 "$conf"; assert_status 0
  local prev=$output
  [ ! -s "$trace" ] || fail "ADD started a thread or named one: $(cat "$trace")"
  run_plugin CHECK c1 "$C" eth0 "$(jq -c --argjson r "$prev" '.prevResult = $r' <<<"$conf")"; assert_status 0
  [ ! -s "$trace" ] || fail "CHECK started a thread or named one: $(cat "$trace")"
  run_plugin DEL c1 "$C" eth0 "$conf"; assert_status 0
  [ ! -s "$trace" ] || fail "DEL started a thread or named one: $(cat "$trace")"
  # control: the trace sees threads, and only the runtime's first one is left out
  local delegated
  delegated=$(jq -c '.ipam = {"type":"static","addresses":[{"address":"10.99.0.77/24"}]} | .cniVersion = "1.0.0"' <<<"$conf")
  run_plugin ADD c2 "$C" eth1 "$delegated"; assert_status 0
  grep -q 'CLONE_THREAD' "$trace" || fail "a delegated IPAM plugin ran without the threads Process.Start starts: $(cat "$trace")"
  if grep -q '\.NET Finalizer' "$trace"; then fail "the finalizer thread started: $(grep -m3 'NET Finalizer' "$trace")"; fi
  run_plugin DEL c2 "$C" eth1 "$delegated"; assert_status 0
}
