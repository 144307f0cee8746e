#!/usr/bin/env bats
# Black-box tests of the built-in host-local IPAM: the binary invoked as host-local, side by side
# with the reference plugin (/usr/lib/cni/host-local) on one data directory.
load helpers

OURS="$(dirname "$CNIVETH")/host-local"
REF="$REF_CNI_DIR/host-local"

setup() {
  basic_setup
  new_container CNS
  export PLUGIN="$OURS"
  unset CNIVETH_BOOT_ID_FILE
}
teardown() {
  mountpoint -q "$TEST_TMP/ro" 2>/dev/null && umount "$TEST_TMP/ro"
  basic_teardown
}

# ipam_conf [VERSION] [RANGES_JSON] [extra ipam fields]
ipam_conf() {
  local version=${1:-1.0.0} ranges=${2:-'[[{"subnet":"10.77.0.0/24"}]]'} extra=${3:-}
  cat <<JSON
{"cniVersion":"$version","name":"ipamnet","type":"host-local",
 "ipam":{"type":"host-local","dataDir":"$DATA_DIR","ranges":$ranges ${extra:+,$extra}}}
JSON
}
NET_DIR() { echo "$DATA_DIR/ipamnet"; }

ip_of() { jq -r '.ips[0].address' <<<"$1" | cut -d/ -f1; }

@test "standalone ADD returns the IPAM result and writes reference-format files; DEL releases" {
  conf=$(ipam_conf 1.0.0 '[[{"subnet":"10.77.0.0/24"}],[{"subnet":"2001:db8:77::/64"}]]' '"routes":[{"dst":"0.0.0.0/0"}]')
  run_plugin ADD c1 "$CNS" eth0 "$conf"
  assert_status 0
  assert_json "$output" '.ips[0].address' "10.77.0.2/24"
  assert_json "$output" '.ips[0].gateway' "10.77.0.1"
  assert_json "$output" '.ips[1].address' "2001:db8:77::2/64"
  assert_json "$output" '.ips[0].interface' "null"
  assert_json "$output" '.interfaces' "null"
  assert_json "$output" '.routes[0].dst' "0.0.0.0/0"
  [ "$(cat "$(NET_DIR)/10.77.0.2")" == $'c1\r\neth0' ] || fail "bad reservation content"
  [ "$(stat -c %a "$(NET_DIR)/10.77.0.2")" == 600 ] || fail "reservation not 0600"
  [ "$(stat -c %a "$(NET_DIR)")" == 755 ] || fail "network dir not 0755"
  [ "$(cat "$(NET_DIR)/last_reserved_ip.0")" == "10.77.0.2" ] || fail "last_reserved_ip.0"
  run_plugin CHECK c1 "$CNS" eth0 "$conf"
  assert_status 0
  run_plugin DEL c1 "" eth0 "$conf"
  assert_status 0
  [ ! -e "$(NET_DIR)/10.77.0.2" ] && [ ! -e "$(NET_DIR)/2001:db8:77::2" ] || fail "not released"
  run_plugin DEL c1 "" eth0 "$conf"
  assert_status 0
  run_plugin CHECK c1 "$CNS" eth0 "$conf"
  [ "$status" -ne 0 ] || fail "CHECK after DEL must fail"
}

@test "config errors are code 7 with the reference's texts" {
  run_plugin ADD c1 "$CNS" eth0 "$(ipam_conf 1.0.0 '[[{"subnet":"10.77.0.5/24"}]]')"
  assert_cni_error 7
  assert_match "$output" "host bits set"
  run_plugin ADD c1 "$CNS" eth0 "$(ipam_conf 0.2.0 '[[{"subnet":"10.77.0.0/24"}],[{"subnet":"10.78.0.0/24"}]]')"
  assert_cni_error 7
  assert_match "$output" "CNI version 0.2.0 does not support more than 1 address per family"
  CNI_ARGS="IP=10.99.0.5" run_plugin ADD c1 "$CNS" eth0 "$(ipam_conf)"
  assert_cni_error 7
  assert_match "$output" "failed to allocate all requested IPs: 10.99.0.5"
  run_plugin ADD c1 "$CNS" eth0 "$(ipam_conf | sed 's/"name":"ipamnet"/"name":"..\/etc"/')"
  assert_cni_error 7
}

@test "requested IP from CNI_ARGS is honoured" {
  CNI_ARGS="IP=10.77.0.42/24" run_plugin ADD c1 "$CNS" eth0 "$(ipam_conf)"
  assert_status 0
  assert_json "$output" '.ips[0].address' "10.77.0.42/24"
}

@test "interop: reservations of the reference plugin are seen, skipped and released by us" {
  conf=$(ipam_conf)
  PLUGIN="$REF" run_plugin ADD ref1 "$CNS" eth0 "$conf"
  assert_status 0
  assert_json "$output" '.ips[0].address' "10.77.0.2/24"
  # Remove the reference's round-robin hint: we must still skip its address.
  rm -f "$(NET_DIR)/last_reserved_ip.0"
  run_plugin ADD ours1 "$CNS" eth0 "$conf"
  assert_status 0
  assert_json "$output" '.ips[0].address' "10.77.0.3/24"
  run_plugin CHECK ref1 "$CNS" eth0 "$conf"
  assert_status 0
  run_plugin DEL ref1 "" eth0 "$conf"
  assert_status 0
  [ ! -e "$(NET_DIR)/10.77.0.2" ] || fail "reference reservation not released by our DEL"
  [ -e "$(NET_DIR)/10.77.0.3" ] || fail "our reservation lost"
}

@test "interop: our reservations are seen, skipped and released by the reference plugin" {
  conf=$(ipam_conf)
  run_plugin ADD ours1 "$CNS" eth0 "$conf"
  assert_status 0
  assert_json "$output" '.ips[0].address' "10.77.0.2/24"
  PLUGIN="$REF" run_plugin CHECK ours1 "$CNS" eth0 "$conf"
  assert_status 0
  PLUGIN="$REF" run_plugin ADD ref1 "$CNS" eth0 "$conf"
  assert_status 0
  assert_json "$output" '.ips[0].address' "10.77.0.3/24"
  PLUGIN="$REF" run_plugin DEL ours1 "" eth0 "$conf"
  assert_status 0
  [ ! -e "$(NET_DIR)/10.77.0.2" ] || fail "reference DEL did not release our reservation"
  # And we notice the reference's writes: DEL of its container through us.
  run_plugin DEL ref1 "" eth0 "$conf"
  assert_status 0
  [ ! -e "$(NET_DIR)/10.77.0.3" ] || fail "our DEL missed the reference's reservation"
  # Round robin continues after the reference's last_reserved_ip.
  run_plugin ADD ours2 "$CNS" eth0 "$conf"
  assert_json "$output" '.ips[0].address' "10.77.0.4/24"
}

@test "64 concurrent ADDs get 64 distinct addresses" {
  conf=$(ipam_conf 1.0.0 '[[{"subnet":"10.77.0.0/16"}]]')
  mkdir -p "$TEST_TMP/out"
  # A subshell, so its bare wait covers just these 64 (the namespace holders are jobs of this shell).
  (
    for i in $(seq 1 64); do
      plugin ADD "ctr$i" "$CNS" eth0 <<<"$conf" >"$TEST_TMP/out/$i" 2>&1 &
    done
    wait
  )
  for i in $(seq 1 64); do jq -r '.ips[0].address' "$TEST_TMP/out/$i"; done | sort >"$TEST_TMP/addrs"
  [ "$(grep -c . "$TEST_TMP/addrs")" -eq 64 ] || fail "not 64 results: $(cat "$TEST_TMP"/out/*)"
  [ "$(sort -u "$TEST_TMP/addrs" | grep -c /)" -eq 64 ] || fail "duplicates: $(uniq -d "$TEST_TMP/addrs")"
  [ "$(ls "$(NET_DIR)" | grep -c '^10\.77\.')" -eq 64 ] || fail "not 64 files"
}

@test "exhaustion names the range; release makes the address reusable" {
  conf=$(ipam_conf 1.0.0 '[[{"subnet":"10.77.0.0/29"}]]')
  for i in 1 2 3 4 5; do
    run_plugin ADD "c$i" "$CNS" eth0 "$conf"
    assert_status 0
  done
  run_plugin ADD late "$CNS" eth0 "$conf"
  [ "$status" -ne 0 ] || fail "expected exhaustion"
  assert_match "$(jq -r .msg <<<"$output")" "no IP addresses available in range set: 10.77.0.1-10.77.0.6"
  run_plugin DEL c3 "" eth0 "$conf"
  assert_status 0
  run_plugin ADD late "$CNS" eth0 "$conf"
  assert_status 0
  assert_json "$output" '.ips[0].address' "10.77.0.4/29"
}

@test "GC releases every reservation not in cni.dev/valid-attachments" {
  conf=$(ipam_conf 1.1.0)
  for c in keep drop; do run_plugin ADD "$c" "$CNS" eth0 "$conf"; assert_status 0; done
  PLUGIN="$REF" run_plugin ADD refdrop "$CNS" eth0 "$(ipam_conf 1.0.0)"
  assert_status 0
  gc=$(jq -c '. + {"cni.dev/valid-attachments":[{"containerID":"keep","ifname":"eth0"}]}' <<<"$conf")
  run_plugin GC "" "" "" "$gc"
  assert_status 0
  ls "$(NET_DIR)" | grep '^10\.' >"$TEST_TMP/left"
  [ "$(cat "$TEST_TMP/left")" == "10.77.0.2" ] || fail "left: $(cat "$TEST_TMP/left")"
  # The older key works too; an empty list releases everything.
  gc=$(jq -c '. + {"cni.dev/attachments":[]}' <<<"$conf")
  run_plugin GC "" "" "" "$gc"
  assert_status 0
  [ -z "$(ls "$(NET_DIR)" | grep '^10\.')" ] || fail "GC with an empty list kept reservations"
}

@test "STATUS: 0 normally, 50 when a range set is full or the data directory is read-only" {
  conf=$(ipam_conf 1.1.0 '[[{"subnet":"10.77.0.0/30"}]]')
  run_plugin STATUS "" "" "" "$conf"
  assert_status 0
  run_plugin ADD c1 "$CNS" eth0 "$conf"
  assert_status 0
  run_plugin STATUS "" "" "" "$conf"
  assert_cni_error 50
  assert_match "$output" "10.77.0.1-10.77.0.2"

  mkdir -p "$TEST_TMP/ro"
  mount -t tmpfs -o ro tmpfs "$TEST_TMP/ro"
  DATA_DIR="$TEST_TMP/ro/ipam" run_plugin STATUS "" "" "" "$(DATA_DIR="$TEST_TMP/ro/ipam" ipam_conf 1.1.0)"
  assert_cni_error 50
  assert_match "$output" "not writable"
}

@test "reboot: reservations of an earlier boot are released on first use, those of this boot are kept whatever their mtime" {
  conf=$(ipam_conf)
  echo "boot-A" >"$TEST_TMP/boot_id"
  export CNIVETH_BOOT_ID_FILE="$TEST_TMP/boot_id"
  run_plugin ADD old1 "$CNS" eth0 "$conf"                      # 10.77.0.2, ours
  assert_status 0
  PLUGIN="$REF" run_plugin ADD refold "$CNS" eth0 "$conf"      # 10.77.0.3, the reference's
  assert_status 0
  # Same boot: nothing is released (and this call sees the reference's file during boot A).
  run_plugin ADD old2 "$CNS" eth0 "$conf"                      # 10.77.0.4
  assert_status 0
  [ -e "$(NET_DIR)/10.77.0.2" ] && [ -e "$(NET_DIR)/10.77.0.3" ] || fail "released without a reboot"
  # The reboot (a new boot id). The reference plugin runs first, and the clock was stepped forward since
  # its ADD: its reservation of this boot now looks older than the boot.
  echo "boot-B" >"$TEST_TMP/boot_id"
  PLUGIN="$REF" run_plugin ADD live1 "$CNS" eth0 "$conf"       # 10.77.0.5
  assert_status 0
  btime=$(awk '/^btime/ {print $2}' /proc/stat)
  touch -d "@$((btime - 3600))" "$(NET_DIR)/10.77.0.5"
  run_plugin ADD new1 "$CNS" eth0 "$conf"
  assert_status 0
  [ ! -e "$(NET_DIR)/10.77.0.2" ] || fail "our pre-boot reservation survived"
  [ ! -e "$(NET_DIR)/10.77.0.3" ] || fail "the reference's pre-boot reservation survived"
  [ ! -e "$(NET_DIR)/10.77.0.4" ] || fail "our second pre-boot reservation survived"
  [ -e "$(NET_DIR)/10.77.0.5" ] || fail "the reference's reservation of this boot was released"
  [ "$(cat "$(NET_DIR)/10.77.0.6")" = $'new1\r\neth0' ] || fail "new1 did not get 10.77.0.6: $output"
  assert_match "$output" "released 3 reservation\\(s\\) made before the current boot"   # one stderr line
  # the reference still sees and releases what is left, ours included
  PLUGIN="$REF" run_plugin DEL live1 "$CNS" eth0 "$conf"; assert_status 0
  PLUGIN="$REF" run_plugin DEL new1 "$CNS" eth0 "$conf"; assert_status 0
  [ -z "$(ls "$(NET_DIR)" | grep -E '^[0-9.]+$')" ] || fail "left: $(ls "$(NET_DIR)")"
}

@test "a clock stepped backward: reservations of this boot dated in the future are kept, an earlier boot's are released all the same" {
  conf=$(ipam_conf)
  echo "boot-A" >"$TEST_TMP/boot_id"
  export CNIVETH_BOOT_ID_FILE="$TEST_TMP/boot_id"
  run_plugin ADD c1 "$CNS" eth0 "$conf"; assert_status 0      # 10.77.0.2
  PLUGIN="$REF" run_plugin ADD r1 "$CNS" eth0 "$conf"; assert_status 0   # 10.77.0.3, the reference's
  # the clock was a year ahead when they were written, and has been stepped back since
  touch -d "@$(( $(date +%s) + 365 * 86400 ))" "$(NET_DIR)/10.77.0.2" "$(NET_DIR)/10.77.0.3"
  rm "$(NET_DIR)/.cniveth/boot_id"                                    # the sweep runs again in this boot
  run_plugin ADD c2 "$CNS" eth0 "$conf"; assert_status 0      # 10.77.0.4
  [ -e "$(NET_DIR)/10.77.0.2" ] && [ -e "$(NET_DIR)/10.77.0.3" ] || fail "a reservation of this boot was released: $(ls "$(NET_DIR)")"
  # control: after a reboot, all three are released although their mtime is still ahead of any boot time
  echo "boot-B" >"$TEST_TMP/boot_id"
  run_plugin ADD c3 "$CNS" eth0 "$conf"; assert_status 0
  [ "$(ls "$(NET_DIR)" | grep -cE '^[0-9.]+$')" -eq 1 ] || fail "after the reboot: $(ls "$(NET_DIR)")"
  [ "$(cat "$(NET_DIR)/10.77.0.5")" = $'c3\r\neth0' ] || fail "c3 did not get 10.77.0.5"
}

@test "symlinked network directory is refused" {
  mkdir -p "$DATA_DIR" "$TEST_TMP/elsewhere"
  ln -s "$TEST_TMP/elsewhere" "$(NET_DIR)"
  run_plugin ADD c1 "$CNS" eth0 "$(ipam_conf)"
  [ "$status" -ne 0 ] || fail "accepted a symlinked network dir"
  assert_match "$output" "symlink"
  [ -z "$(ls "$TEST_TMP/elsewhere")" ] || fail "wrote through the symlink"
}

@test "the reference ptp plugin uses our binary as its host-local IPAM" {
  mkdir -p "$TEST_TMP/cnibin"
  ln -s "$OURS" "$TEST_TMP/cnibin/host-local"
  conf='{"cniVersion":"1.0.0","name":"ptpnet","type":"ptp",
         "ipam":{"type":"host-local","dataDir":"'"$DATA_DIR"'","ranges":[[{"subnet":"10.88.0.0/24"}]]}}'
  CNI_PATH="$TEST_TMP/cnibin" PLUGIN="$REF_CNI_DIR/ptp" run_plugin ADD ptp1 "$CNS" eth0 "$conf"
  assert_status 0
  assert_json "$output" '.ips[0].address' "10.88.0.2/24"
  [ "$(cat "$DATA_DIR/ptpnet/10.88.0.2")" == $'ptp1\r\neth0' ] || fail "not reserved in our store"
  [ -d "$DATA_DIR/ptpnet/.cniveth" ] || fail "the reference host-local ran, not ours"
  in_ns "$CNS" ip -4 addr show dev eth0 | grep -q "10.88.0.2/24" || fail "container has no 10.88.0.2"
  CNI_PATH="$TEST_TMP/cnibin" PLUGIN="$REF_CNI_DIR/ptp" run_plugin DEL ptp1 "$CNS" eth0 "$conf"
  assert_status 0
  [ ! -e "$DATA_DIR/ptpnet/10.88.0.2" ] || fail "not released"
}
