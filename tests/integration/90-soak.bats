#!/usr/bin/env bats
# Soak (make soak only; run.sh leaves files named *soak* out of the default run): SOAK_CYCLES
# ADD/DEL cycles (default 5000) on one network. The plugin is short-lived, so what could grow is
# what it leaves behind: store files, links, addresses and routes, nftables elements, sysctl entries,
# neighbour entries. Each is sampled every SOAK_SAMPLE cycles and must not grow; time per cycle is
# reported per block so a slowdown (e.g. an index that grows) shows.
load helpers
load reliability-helpers

setup() { basic_setup; }
teardown() { basic_teardown; }

# One line of counters for the fake host and the store.
soak_sample() {
  local store; store=$(find "$DATA_DIR" -mindepth 1 | wc -l)
  local links; links=$(in_host ip -o link | wc -l)
  local addrs; addrs=$(in_host ip -o addr | wc -l)
  local routes; routes=$(in_host sh -c "ip -o route show table all; ip -o -6 route show table all" | wc -l)
  local neigh; neigh=$(in_host ip -o neigh | wc -l)
  local sysctl; sysctl=$(in_host sh -c 'ls /proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf' | wc -l)
  local nft=0; command -v nft >/dev/null && nft=$(in_host nft list ruleset 2>/dev/null | wc -l)
  local cont; cont=$(in_ns "$C1" ip -o link | wc -l)
  echo "store=$store links=$links addrs=$addrs routes=$routes neigh=$neigh sysctl=$sysctl nft=$nft container_links=$cont"
}

@test "soak: ${SOAK_CYCLES:-5000} ADD/DEL cycles, nothing grows" {
  [ -n "${SOAK:-}" ] || skip "run through make soak"
  local cycles=${SOAK_CYCLES:-5000} sample=${SOAK_SAMPLE:-500} i
  # with the firewall on, so nftables elements are added and removed every cycle too
  local conf; conf=$(bridge_conf 1.1.0 '"ipMasq":true,"macspoofchk":true')
  new_container C1
  # a few cycles first, so the bridge, its addresses and the store exist before the baseline; then
  # wait out the bridge's IPv6 DAD (its link-local address and local route appear ~1 s after it is up)
  for i in 1 2 3; do
    plugin ADD warm "$C1" eth0 <<<"$conf" >/dev/null || fail "warm-up ADD failed"
    plugin DEL warm "$C1" eth0 <<<"$conf" >/dev/null || fail "warm-up DEL failed"
  done
  sleep 2
  local baseline; baseline=$(soak_sample)
  echo "# baseline: $baseline" >&3
  local times="$TEST_TMP/times" t0 t1 t2
  : >"$times"
  for ((i = 1; i <= cycles; i++)); do
    t0=$(date +%s%N)
    plugin ADD "s$i" "$C1" eth0 <<<"$conf" >"$TEST_TMP/add.out" 2>&1 || fail "cycle $i: ADD failed: $(cat "$TEST_TMP/add.out")"
    t1=$(date +%s%N)
    plugin DEL "s$i" "$C1" eth0 <<<"$conf" >"$TEST_TMP/del.out" 2>&1 || fail "cycle $i: DEL failed: $(cat "$TEST_TMP/del.out")"
    t2=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000 )) $(( (t2 - t1) / 1000 ))" >>"$times"
    if (( i % sample == 0 )); then
      local now; now=$(soak_sample)
      local add50 add99 del50
      add50=$(tail -n "$sample" "$times" | cut -d' ' -f1 | percentile 50)
      add99=$(tail -n "$sample" "$times" | cut -d' ' -f1 | percentile 99)
      del50=$(tail -n "$sample" "$times" | cut -d' ' -f2 | percentile 50)
      echo "# cycle $i: ADD p50 $((add50 / 1000)) ms p99 $((add99 / 1000)) ms, DEL p50 $((del50 / 1000)) ms; $now" >&3
      [ "$now" = "$baseline" ] || fail "cycle $i: something grew: baseline [$baseline] now [$now]"
    fi
  done
  # the first and the last block: the time per cycle must not creep up (index, store or kernel growth)
  local first last
  first=$(head -n "$sample" "$times" | awk '{print $1 + $2}' | percentile 50)
  last=$(tail -n "$sample" "$times" | awk '{print $1 + $2}' | percentile 50)
  echo "# cycle time p50: first block $((first / 1000)) ms, last block $((last / 1000)) ms" >&3
  [ "$last" -le $((first * 2 + 20000)) ] || fail "cycles slowed down from $first us to $last us"
  assert_store_clean testnet
}
