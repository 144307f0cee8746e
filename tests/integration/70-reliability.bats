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
  new_container C1
  # With firewall support built in, the kills also cover the masquerade and spoof-check elements.
  local fw_conf; fw_conf=$(bridge_conf 1.1.0 '"ipMasq":true,"macspoofchk":true')
  run_plugin ADD probe "$C1" eth0 "$fw_conf"
  if [ "$status" -eq 0 ]; then
    conf=$fw_conf; echo "# firewall support present: ipMasq and macspoofchk on" >&3
  else
    echo "# no firewall support in this build ($(jq -r .msg <<<"$output" 2>/dev/null)): ipMasq/macspoofchk off" >&3
  fi
  run_plugin DEL probe "$C1" eth0 "$conf"; assert_status 0
  local gc_conf; gc_conf=$(jq -c '. + {"cni.dev/valid-attachments": []}' <<<"$conf")
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
  local killed=0 completed=0 with_veth=0 with_resv=0 with_both=0 i runs=0
  kill_once() {   # kill_once DELAY_US : one killed (or completed) ADD, then the runtime's DEL
    local delay=$1 cid="k$runs"; runs=$((runs + 1))
    r=$(with_cni ADD "$cid" "$C1" eth0 sigrun "$delay" 9 0 "$conf")
    local resv; resv=$(reservations)
    local veth; veth=$(all_veths)
    if [[ $r == "signal 9"* ]]; then
      killed=$((killed + 1))
      [ -n "$veth" ] && with_veth=$((with_veth + 1))
      [ -n "$resv" ] && with_resv=$((with_resv + 1))
      [ -n "$veth" ] && [ -n "$resv" ] && with_both=$((with_both + 1))
    else
      [[ $r == "exit 0"* ]] || fail "ADD $cid not killed but failed: $r $(cat "$TEST_TMP/sigrun.out")"
      completed=$((completed + 1))
    fi
    echo "# delay ${delay}us: $r; veth=[${veth//$'\n'/ }] reservations=[${resv//$'\n'/ }]" >&3
    # what a runtime does after a failed/timed-out ADD: DEL the attachment
    run_plugin DEL "$cid" "$C1" eth0 "$conf"; assert_status 0
    [ -z "$(all_veths)" ] || fail "after DEL $cid (delay $delay): veths left: $(all_veths)"
    ! in_ns "$C1" ip link show eth0 >/dev/null 2>&1 || fail "after DEL $cid: eth0 left in the container"
    [ -z "$(reservations)" ] || fail "after DEL $cid (delay $delay): reservations left: $(reservations)"
    flock -n -x "$DATA_DIR/testnet/lock" true || fail "lock held after DEL $cid"
    ! nft_mentions 10.99.0. >/dev/null || fail "after DEL $cid: nftables still has: $(nft_mentions 10.99.0.)"
  }
  for ((i = 0; i < steps; i++)); do kill_once $((i * max / (steps - 1))); done
  # The kernel phase (veth created, not yet finished) is short: if no kill landed in it, walk the
  # last part of the ADD in 100 us steps until one does (bounded).
  local d=$((fastest * 6 / 10))
  while [ "$with_veth" -eq 0 ] && [ "$d" -le $((fastest * 2)) ]; do kill_once "$d"; d=$((d + 100)); done
  echo "# $killed killed ($with_veth with a veth, $with_resv with a reservation, $with_both with both), $completed completed" >&3
  [ "$killed" -ge $((steps / 4)) ] || fail "only $killed of $runs runs were killed: delays do not cover the ADD"
  [ "$with_resv" -ge 1 ] || fail "no kill landed after the reservation was made"
  [ "$with_veth" -ge 1 ] || fail "no kill landed after the veth was created"

  run_plugin GC "" "" "" "$gc_conf"; assert_status 0
  assert_store_clean testnet
  [ -z "$(our_veths)" ] || fail "veths left after GC"
  ! nft_mentions 10.99.0. >/dev/null || fail "nftables still mentions our subnet: $(nft_mentions 10.99.0.)"
  ! nft_mentions veth >/dev/null || fail "nftables still names a veth: $(nft_mentions veth)"
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

@test "64 parallel ADDs on one network: 64 distinct addresses, no error, one bridge" {
  local conf; conf=$(bridge_conf)
  local n=${PARALLEL_ADDS:-64} i ns=()
  for ((i = 0; i < n; i++)); do new_container "C$i"; local v="C$i"; ns+=("${!v}"); done
  for ((i = 0; i < n; i++)); do bg_plugin ADD "p$i" "${ns[$i]}" eth0 "$conf" "$TEST_TMP/add$i"; done
  wait
  local files=(); for ((i = 0; i < n; i++)); do files+=("$TEST_TMP/add$i"); done
  assert_bg_ok "${files[@]}"
  local ips; ips=$(for f in "${files[@]}"; do jq -r '.ips[0].address' "$f"; done)
  [ "$(sort -u <<<"$ips" | wc -l)" -eq "$n" ] || fail "expected $n distinct addresses: $(sort <<<"$ips" | uniq -d)"
  kernel_addresses "${ns[@]}" | assert_unique "address in the kernel"
  [ "$(kernel_addresses "${ns[@]}" | wc -l)" -eq "$n" ] || fail "not every container has its address"
  [ "$(reservations | wc -l)" -eq "$n" ] || fail "expected $n reservation files, got $(reservations | wc -l)"
  # every reservation names a different owner
  (cd "$DATA_DIR/testnet" && for f in $(reservations); do tr -d '\r' <"$f" | tr '\n' ' '; echo; done) | assert_unique "owner in the store"
  [ "$(in_host ip -j -d link show type bridge | jq length)" -eq 1 ] || fail "more than one bridge"
  [ "$(in_host ip -j addr show cnitest0 | jq '[.[0].addr_info[] | select(.family=="inet")] | length')" -eq 1 ] \
    || fail "gateway address added more than once: $(in_host ip -j addr show cnitest0)"
  [ "$(our_veths | wc -l)" -eq "$n" ] || fail "expected $n host veths"
  in_ns "${ns[0]}" ping -c1 -W2 "$(jq -r '.ips[0].address' "${files[$((n - 1))]}" | cut -d/ -f1)" >/dev/null \
    || fail "first container cannot reach the last"

  for ((i = 0; i < n; i++)); do bg_plugin DEL "p$i" "${ns[$i]}" eth0 "$conf" "$TEST_TMP/del$i"; done
  wait
  files=(); for ((i = 0; i < n; i++)); do files+=("$TEST_TMP/del$i"); done
  assert_bg_ok "${files[@]}"
  [ -z "$(all_veths)" ] || fail "veths left after parallel DEL"
  assert_store_clean testnet
}

@test "8 networks at once, 8 parallel ADDs each: no error, no duplicate, one bridge per network" {
  local nets=${PARALLEL_NETS:-8} per=${PARALLEL_PER_NET:-8} k i ns=() files=()
  for ((i = 0; i < nets * per; i++)); do new_container "C$i"; local v="C$i"; ns+=("${!v}"); done
  for ((k = 0; k < nets; k++)); do
    local conf; conf=$(net_conf "net$k" "cnib$k" "10.100.$k.0/24")
    for ((i = 0; i < per; i++)); do
      local j=$((k * per + i))
      bg_plugin ADD "n${k}c$i" "${ns[$j]}" eth0 "$conf" "$TEST_TMP/add$j"; files+=("$TEST_TMP/add$j")
    done
  done
  wait
  assert_bg_ok "${files[@]}"
  kernel_addresses "${ns[@]}" | assert_unique "address in the kernel"
  [ "$(kernel_addresses "${ns[@]}" | wc -l)" -eq $((nets * per)) ] || fail "not every container has its address"
  [ "$(in_host ip -j -d link show type bridge | jq length)" -eq "$nets" ] || fail "expected $nets bridges"
  for ((k = 0; k < nets; k++)); do
    [ "$(reservations "net$k" | wc -l)" -eq "$per" ] || fail "net$k: expected $per reservations"
    [ "$(in_host ip -j link show master "cnib$k" | jq length)" -eq "$per" ] || fail "cnib$k: expected $per ports"
    local got; got=$(for ((i = 0; i < per; i++)); do jq -r '.ips[0].address' "$TEST_TMP/add$((k * per + i))"; done)
    grep -qv "^10\.100\.$k\." <<<"$got" && fail "net$k handed out a foreign address: $got"
  done
  files=()
  for ((k = 0; k < nets; k++)); do
    local conf; conf=$(net_conf "net$k" "cnib$k" "10.100.$k.0/24")
    for ((i = 0; i < per; i++)); do
      local j=$((k * per + i))
      bg_plugin DEL "n${k}c$i" "${ns[$j]}" eth0 "$conf" "$TEST_TMP/del$j"; files+=("$TEST_TMP/del$j")
    done
  done
  wait
  assert_bg_ok "${files[@]}"
  [ -z "$(all_veths)" ] || fail "veths left after parallel DEL"
  for ((k = 0; k < nets; k++)); do assert_store_clean "net$k"; done
}

# Each round DELs half of the live attachments while ADDing as many new ones, all at once, on a
# small /27 so addresses are reused; after every round: no duplicate in the kernel or the store.
@test "parallel ADD/DEL churn for several rounds: no error, no duplicate, nothing left" {
  local conf; conf=$(bridge_conf 1.1.0 | jq -c '.ipam.ranges = [[{"subnet":"10.99.0.0/27"}]]')
  local width=${CHURN_WIDTH:-12} rounds=${CHURN_ROUNDS:-5} r i
  declare -A live=()   # cid -> netns
  local pool=()
  for ((i = 0; i < width * 2; i++)); do new_container "C$i"; local v="C$i"; pool+=("${!v}"); done
  local next=0 files=()
  for ((r = 0; r < rounds; r++)); do
    files=()
    local cid
    # DEL every other live attachment ...
    local n=0
    for cid in "${!live[@]}"; do
      n=$((n + 1)); [ $((n % 2)) -eq 0 ] && continue
      bg_plugin DEL "$cid" "${live[$cid]}" eth0 "$conf" "$TEST_TMP/r$r-del-$cid"; files+=("$TEST_TMP/r$r-del-$cid")
      unset "live[$cid]"
    done
    # ... while ADDing new ones into free namespaces
    local free=()
    for ns in "${pool[@]}"; do
      [ -n "$ns" ] || continue
      local used=0; for cid in "${!live[@]}"; do [ "${live[$cid]}" = "$ns" ] && used=1; done
      [ $used -eq 0 ] && ! in_ns "$ns" ip link show eth0 >/dev/null 2>&1 && free+=("$ns")
    done
    local added=0
    for ns in "${free[@]}"; do
      [ $added -ge $((width / 2 + (r == 0 ? width / 2 : 0))) ] && break
      cid="ch$next"; next=$((next + 1)); added=$((added + 1))
      bg_plugin ADD "$cid" "$ns" eth0 "$conf" "$TEST_TMP/r$r-add-$cid"; files+=("$TEST_TMP/r$r-add-$cid")
      live[$cid]=$ns
    done
    wait
    assert_bg_ok "${files[@]}"
    kernel_addresses "${live[@]}" | assert_unique "address in the kernel (round $r)"
    [ "$(kernel_addresses "${live[@]}" | wc -l)" -eq "${#live[@]}" ] || fail "round $r: a live container lacks its address"
    [ "$(reservations | wc -l)" -eq "${#live[@]}" ] || fail "round $r: ${#live[@]} live, $(reservations | wc -l) reservations"
    [ "$(our_veths | wc -l)" -eq "${#live[@]}" ] || fail "round $r: ${#live[@]} live, $(our_veths | wc -l) veths"
    echo "# round $r: ${#files[@]} calls, ${#live[@]} live" >&3
  done
  files=()
  for cid in "${!live[@]}"; do bg_plugin DEL "$cid" "${live[$cid]}" eth0 "$conf" "$TEST_TMP/end-$cid"; files+=("$TEST_TMP/end-$cid"); done
  wait
  assert_bg_ok "${files[@]}"
  [ -z "$(all_veths)" ] || fail "veths left after churn"
  assert_store_clean testnet
}
