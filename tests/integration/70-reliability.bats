#!/usr/bin/env bats
# Reliability: the plugin killed in the middle of ADD, signals during DEL, parallel callers.
# Invariants after each scenario: no veth of ours, no reservation, no scratch file, the lock free,
# no firewall element, and the next ADD works.
load helpers
load reliability-helpers

setup() { basic_setup; }
teardown() { basic_teardown; }

# KILL_STEPS (default 40) runs, delays from 0 to 150% of a measured ADD (or KILL_MAX_US) in equal
# steps, so the SIGKILL lands before, during and after every step of an ADD (runtime start-up ~4 ms,
# reservation ~4-9 ms, veth and addresses ~9-11 ms on the development machine).
@test "SIGKILL at 40 points during ADD: DEL + GC leave nothing behind, next ADD works" {
  local steps=${KILL_STEPS:-40} max=${KILL_MAX_US:-}
  local conf; conf=$(bridge_conf)
  local gc_conf; gc_conf=$(jq -c '. + {"cni.dev/valid-attachments": []}' <<<"$conf")
  new_container C1
  # measure first: where does an ADD spend its time (reported, and used to check the kills spread)
  local fastest=999999999 w r
  for w in 1 2 3; do
    r=$(with_cni ADD warm "$C1" eth0 sigrun 30000000 9 0 "$conf")
    [[ $r == "exit 0"* ]] || fail "warm-up ADD failed: $r $(cat "$TEST_TMP/sigrun.out")"
    local us=${r##* }; [ "$us" -lt "$fastest" ] && fastest=$us
    run_plugin DEL warm "$C1" eth0 "$conf"; assert_status 0
  done
  [ -n "$max" ] || max=$((fastest * 15 / 10))
  echo "# fastest of 3 ADDs (the first creates the bridge): ${fastest} us; kill delays 0..${max} us in $steps steps" >&3
  local killed=0 completed=0 with_veth=0 with_resv=0 with_both=0 i
  for ((i = 0; i < steps; i++)); do
    local delay=$((i * max / (steps - 1)))
    r=$(with_cni ADD "k$i" "$C1" eth0 sigrun "$delay" 9 0 "$conf")
    local resv; resv=$(reservations)
    local veth; veth=$(all_veths)
    if [[ $r == "signal 9"* ]]; then
      killed=$((killed + 1))
      [ -n "$veth" ] && with_veth=$((with_veth + 1))
      [ -n "$resv" ] && with_resv=$((with_resv + 1))
      [ -n "$veth" ] && [ -n "$resv" ] && with_both=$((with_both + 1))
    else
      [[ $r == "exit 0"* ]] || fail "ADD k$i not killed but failed: $r $(cat "$TEST_TMP/sigrun.out")"
      completed=$((completed + 1))
    fi
    echo "# delay ${delay}us: $r; veth=[${veth//$'\n'/ }] reservations=[${resv//$'\n'/ }]" >&3
    # what a runtime does after a failed/timed-out ADD: DEL the attachment
    run_plugin DEL "k$i" "$C1" eth0 "$conf"; assert_status 0
    [ -z "$(all_veths)" ] || fail "after DEL k$i (delay $delay): veths left: $(all_veths)"
    ! in_ns "$C1" ip link show eth0 >/dev/null 2>&1 || fail "after DEL k$i: eth0 left in the container"
    [ -z "$(reservations)" ] || fail "after DEL k$i (delay $delay): reservations left: $(reservations)"
    flock -n -x "$DATA_DIR/testnet/lock" true || fail "lock held after DEL k$i"
  done
  echo "# $killed killed ($with_veth with a veth, $with_resv with a reservation, $with_both with both), $completed completed" >&3
  [ "$killed" -ge $((steps / 4)) ] || fail "only $killed of $steps runs were killed: delays do not cover the ADD"
  [ "$with_resv" -ge 1 ] || fail "no kill landed after the reservation was made"
  [ "$with_veth" -ge 1 ] || fail "no kill landed after the veth was created"

  run_plugin GC "" "" "" "$gc_conf"; assert_status 0
  assert_store_clean testnet
  [ -z "$(our_veths)" ] || fail "veths left after GC"
  if command -v nft >/dev/null; then
    ! nft_mentions 10.99.0. || fail "nftables still mentions our subnet: $(nft_mentions 10.99.0.)"
  fi
  # the next ADD works promptly (no lock left held) and gets the first address again after GC
  local t0=$SECONDS
  run_plugin ADD after "$C1" eth0 "$conf"; assert_status 0
  [ $((SECONDS - t0)) -le 3 ] || fail "ADD after the kills took $((SECONDS - t0)) s"
  in_ns "$C1" ping -c1 -W2 10.99.0.1 >/dev/null || fail "container cannot reach the gateway after the kills"
}

# DEL takes ~25-35 ms (the kernel's veth teardown); SIGTERM and SIGINT are sent every 300 us from a
# delay that walks across it. Once DEL's handlers are in place, the signals must not stop it.
@test "SIGTERM/SIGINT storms during DEL: DEL completes and cleans up" {
  local conf; conf=$(bridge_conf)
  new_container C1
  local i sig r early=0 finished=0
  for ((i = 0; i < ${DEL_SIGNAL_RUNS:-16}; i++)); do
    sig=$(( i % 2 ? 2 : 15 ))
    run_plugin ADD "d$i" "$C1" eth0 "$conf"; assert_status 0
    local delay=$(( i * 2500 ))
    r=$(with_cni DEL "d$i" "$C1" eth0 sigrun "$delay" "$sig" 300 "$conf")
    echo "# DEL d$i signal $sig from ${delay} us: $r" >&3
    if [[ $r == "exit 0"* ]]; then
      finished=$((finished + 1))
    else
      # Killed: only acceptable before DEL changed anything (the runtime's start-up, before Main).
      # A half-done teardown (veth gone but the reservation kept, or the reverse) is a failure.
      local v; v=$(all_veths); local rs; rs=$(reservations)
      [ -n "$v" ] && [ -n "$rs" ] || fail "DEL d$i killed half-way ($r): veths=[$v] reservations=[$rs]"
      early=$((early + 1))
      # the runtime retries DEL
      run_plugin DEL "d$i" "$C1" eth0 "$conf"; assert_status 0
    fi
    [ -z "$(all_veths)" ] || fail "DEL d$i ($r): veths left: $(all_veths)"
    [ -z "$(reservations)" ] || fail "DEL d$i ($r): reservations left: $(reservations)"
  done
  echo "# $finished DELs finished under signals, $early killed before start-up completed" >&3
  assert_store_clean testnet
}
