#!/usr/bin/env bats
# Hostile nodes (issue 13): never one address for two containers, never a live container's state lost.
# The binary is attacked as an unlucky node would attack it: clock steps, stray and damaged store
# entries, a full disk or failing syscalls (tests/faults injects them), hostile config values, closed
# stdout, tight memory limits. Each test states one property.
#
# HOSTILE_TARGET=reference runs the comparable tests against the reference bridge + host-local.
# Fault sweeps: by default each kind of store call an ADD/DEL makes is failed at its first, middle and
# last occurrence, with the errno a full or failing disk gives it (ENOSPC for calls that need space, EIO
# for the others). FAULT_SWEEP=full fails every single call, once with ENOSPC and once with EIO.
load helpers
load reliability-helpers
load hostile-helpers

setup_file() {
  FAULTLIB=$(bash "$TESTS_DIR/../faults/build.sh" "$BATS_FILE_TMPDIR/libfaultinject.so")
  export FAULTLIB
  # the injector needs the dynamically linked build of the plugin (make faults-build)
  [ -x "${CNIVETH_FAULTS:-}" ] || { echo "no CNIVETH_FAULTS binary (${CNIVETH_FAULTS:-unset}): make faults-build" >&2; return 1; }
  cmp -s "$CNIVETH_FAULTS" "$CNIVETH" && { echo "CNIVETH_FAULTS is the static binary itself" >&2; return 1; }
  readelf -lW "$CNIVETH_FAULTS" | grep -q INTERP || { echo "$CNIVETH_FAULTS is not dynamically linked" >&2; return 1; }
}
setup() { hostile_setup; }
teardown() { hostile_teardown; }

# ================================================================================================
# Store faults: every store operation is all-or-nothing under ENOSPC/EIO at any syscall.
# ================================================================================================

# check_after_faulty_add RUN CID: the invariants after an ADD that ran under a fault (appends to `problems`).
check_after_faulty_add() {
  local run=$1 cid=$2 why held
  store_view "$cid"; held=${HELD[$cid]}
  if [ "$status" -eq 0 ]; then
    # the plugin tolerated the fault: then its result must be exactly what the store holds
    local want; want=$(jq -r '[.ips[].address | split("/")[0]] | sort | join(" ")' <<<"$output")
    [ "$held" = "$want" ] || problems+=("$run: ADD succeeded with [$want] but the store holds [$held]")
  else
    why=$(describe_error_problem)
    [ -z "$why" ] || problems+=("$run: not one CNI error: $why")
    [ -z "$held" ] || problems+=("$run: failed ADD left reservation(s) $held")
    local veths; veths=$(veth_names)
    [ "$veths" = "$BYSTANDER_VETH" ] || problems+=("$run: failed ADD left veth(s): [$veths], expected only the bystander's")
  fi
  [ -z "$INDEX_PROBLEMS" ] || problems+=("$run: after ADD: $INDEX_PROBLEMS")
}

# runtime_del RUN CID CONF: the runtime's DEL (no fault) must exit 0 and release everything of CID
# and nothing of the bystander.
runtime_del() {
  local run=$1 cid=$2 conf=$3
  run_plugin DEL "$cid" "$C1" eth0 "$conf"
  [ "$status" -eq 0 ] || problems+=("$run: the runtime's DEL failed: ${output:0:200}")
  store_view "$cid" bystander
  [ -z "${HELD[$cid]}" ] || problems+=("$run: DEL left ${HELD[$cid]}")
  [ -z "$INDEX_PROBLEMS" ] || problems+=("$run: after DEL: $INDEX_PROBLEMS")
  [ "${HELD[bystander]}" = "$BYSTANDER_IPS" ] || problems+=("$run: the bystander's reservations changed: ${HELD[bystander]}")
  scrub "$cid"
}

# scrub CID: removes what a failed check left of CID (reservations, veths other than the bystander's,
# the container's eth0), and drops cniveth's index stamp so it is rebuilt: the next run starts clean and
# one violation is reported once instead of cascading into every later run.
scrub() {
  local cid=$1 ip v
  store_view "$cid"
  for ip in ${HELD[$cid]}; do rm -f "$NET_DIR/$ip"; done
  [ -z "${HELD[$cid]}" ] || rm -f "$NET_DIR/.cniveth/stamp"
  for v in $(veth_names); do [ "$v" = "$BYSTANDER_VETH" ] || in_host ip link del "$v" 2>/dev/null || true; done
  in_ns "$C1" ip link del eth0 2>/dev/null || true
}

# next_add_works RUN CID CONF: a fresh ADD (and its DEL) succeed after the fault.
next_add_works() {
  run_plugin ADD "$2" "$C1" eth0 "$3"
  [ "$status" -eq 0 ] || problems+=("$1: the next ADD failed: ${output:0:200}")
  run_plugin DEL "$2" "$C1" eth0 "$3"
  [ "$status" -eq 0 ] && [ -z "$(reservations_of "$2")" ] || problems+=("$1: clean-up DEL after the next ADD failed")
}

# sweep_setup RANGES: a bystander attachment that must survive everything, and a warm bridge/store.
sweep_setup() {
  SWEEP_CONF=$(hconf "" "$1")
  new_container C1
  new_container CB
  run_plugin ADD bystander "$CB" eth0 "$SWEEP_CONF"; assert_status 0
  BYSTANDER_IPS=$(reservations_of bystander)
  BYSTANDER_VETH=$(veth_names)
  problems=()
}

# count_calls VERB LOG [KINDS]: one VERB (ADD, or an ADD and then a counted DEL) with the injector only
# counting (FAULT_NTH=0): LOG gets every store call, the calls of KINDS numbered.
count_calls() {
  local verb=$1 log=$2 kinds=${3:-all} counting
  rm -f "$log"
  counting=$(faults_env FAULT_LOG="$log" FAULT_CALL="$kinds" FAULT_NTH=0)
  if [ "$verb" = ADD ]; then
    faulty "$counting" run_plugin ADD c1 "$C1" eth0 "$SWEEP_CONF"; assert_status 0
    run_plugin DEL c1 "$C1" eth0 "$SWEEP_CONF"; assert_status 0
  else
    run_plugin ADD c1 "$C1" eth0 "$SWEEP_CONF"; assert_status 0
    faulty "$counting" run_plugin DEL c1 "$C1" eth0 "$SWEEP_CONF"; assert_status 0
  fi
  # control: an injector that sees no call (a binary LD_PRELOAD cannot reach) would make every sweep vacuous
  [ -s "$log" ] || fail "the injector saw no store call of the $verb"
  echo "# store calls of one $verb: $(fault_counts "$log" | xargs)" >&3
}

# sweep_plan LOG REPEAT [KINDS]: the "kind:N" runs. One kind at a time, or with REPEAT 0 (failing
# from the N-th call on) KINDS as one group whose numbered calls N walks over.
sweep_plan() {
  local log=$1 repeat=$2 kinds=${3:-} k
  if [ "$repeat" = 0 ]; then
    sweep_points "$(cut -f4 "$log" | sort -n | tail -1)" | sed "s/^/$kinds:/"
  else
    for k in $(fault_counts "$log" | cut -d' ' -f1); do sweep_points "$(grep -c "^$k	" "$log")" | sed "s/^/$k:/"; done
  fi
}

# errno_for ERRNO KIND: ERRNO, or with "auto" what a full disk or a failing disk gives that call:
# ENOSPC where space is needed (creating, writing, linking, renaming, timestamps), EIO elsewhere.
errno_for() {
  [ "$1" = auto ] || { echo "$1"; return; }
  case $2 in open*|creat*|write*|linkat*|renameat*|mkdirat*|futimens*) echo ENOSPC ;; *) echo EIO ;; esac
}

# add_fault_sweep ERRNO REPEAT [KINDS]: fail the N-th store call of each kind an ADD makes (REPEAT
# consecutive calls, 0 = every call from the N-th on), then check the invariants and recover.
add_fault_sweep() {
  local errno=$1 repeat=$2 kinds=${3:-} log=$TEST_TMP/count.log flog=$TEST_TMP/fault.log entry kind n runs=0 injected=0
  count_calls ADD "$log" "${kinds:-all}"
  for entry in $(sweep_plan "$log" "$repeat" "$kinds"); do
    kind=${entry%:*}; n=${entry##*:}
    local e; e=$(errno_for "$errno" "$kind")
    local what="ADD $kind#$n $e"; [ "$repeat" = 0 ] && what="$what and every later one"
    rm -f "$flog"; runs=$((runs + 1))
    faulty "$(faults_env FAULT_LOG="$flog" FAULT_CALL="$kind" FAULT_NTH="$n" FAULT_ERRNO="$e" FAULT_REPEAT="$repeat")" \
      run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$SWEEP_CONF"
    if grep -q INJECTED "$flog" 2>/dev/null; then injected=$((injected + 1))
    elif [ "$status" -ne 0 ]; then problems+=("$what: ADD failed before the fault was due (the store is broken): ${output:0:200}"); fi
    check_after_faulty_add "$what" c1
    runtime_del "$what" c1 "$SWEEP_CONF"
    [ "${FAULT_SWEEP:-quick}" != full ] || next_add_works "$what" c1 "$SWEEP_CONF"
  done
  next_add_works "after the ADD sweep" c1 "$SWEEP_CONF"
  echo "# errno $errno: $runs faulty ADDs ($injected with the fault injected), ${#problems[@]} problems so far" >&3
  [ "$injected" -ge $((runs * 9 / 10)) ] || fail "the injector hit only $injected of $runs runs"
}

report_problems() {
  [ "${#problems[@]}" -eq 0 ] && return 0
  printf '%s\n' "${problems[@]}" | head -40 >&2
  fail "${#problems[@]} invariant violations (first 40 above)"
}

@test "ADD with a store syscall failing (single-stack, each call in turn): one CNI error, no reservation or index claim left, DEL cleans, next ADD works" {
  cniveth_only "LD_PRELOAD does not reach the Go reference's raw syscalls"
  sweep_setup "$V4"
  if [ "${FAULT_SWEEP:-quick}" = full ]; then add_fault_sweep ENOSPC 1; add_fault_sweep EIO 1; else add_fault_sweep auto 1; fi
  report_problems
}

@test "ADD with a store syscall failing (dual-stack, each call in turn): one CNI error, no reservation or index claim left, DEL cleans, next ADD works" {
  cniveth_only "LD_PRELOAD does not reach the Go reference's raw syscalls"
  sweep_setup "$DUAL"
  if [ "${FAULT_SWEEP:-quick}" = full ]; then add_fault_sweep ENOSPC 1; add_fault_sweep EIO 1; else add_fault_sweep auto 1; fi
  report_problems
}

@test "ADD on a disk that stays full from any store syscall on (dual-stack): one CNI error, no reservation or index claim left, DEL cleans" {
  cniveth_only "LD_PRELOAD does not reach the Go reference's raw syscalls"
  sweep_setup "$DUAL"
  # the calls that need space: creating a file or directory, writing, linking, renaming
  add_fault_sweep ENOSPC 0 creat,write,linkat,renameat,mkdirat
  report_problems
}

@test "DEL with a store syscall failing (each call in turn): exit 0 only when everything is released, a retried DEL cleans, other containers keep their addresses" {
  cniveth_only "LD_PRELOAD does not reach the Go reference's raw syscalls"
  sweep_setup "$DUAL"
  local log=$TEST_TMP/count.log flog=$TEST_TMP/fault.log errno entry kind n runs=0 injected=0
  count_calls DEL "$log"
  local errnos=auto; [ "${FAULT_SWEEP:-quick}" != full ] || errnos="ENOSPC EIO"
  for errno in $errnos; do
    for entry in $(sweep_plan "$log" 1); do
      kind=${entry%:*}; n=${entry##*:}
      local e; e=$(errno_for "$errno" "$kind")
      local what="DEL $kind#$n $e"
      rm -f "$flog"; runs=$((runs + 1))
      run_plugin ADD c1 "$C1" eth0 "$SWEEP_CONF"
      [ "$status" -eq 0 ] || { problems+=("$what: the ADD before the DEL failed: ${output:0:200}"); continue; }
      local had; had=$(reservations_of c1)
      faulty "$(faults_env FAULT_LOG="$flog" FAULT_CALL="$kind" FAULT_NTH="$n" FAULT_ERRNO="$e")" \
        run --separate-stderr plugin DEL c1 "$C1" eth0 <<<"$SWEEP_CONF"
      grep -q INJECTED "$flog" 2>/dev/null && injected=$((injected + 1))
      if [ "$status" -eq 0 ]; then
        store_view c1
        [ -z "${HELD[c1]}" ] || problems+=("$what: DEL exited 0 but ${HELD[c1]} of [$had] stay reserved")
        [ "$(veth_names)" = "$BYSTANDER_VETH" ] || problems+=("$what: DEL exited 0 but the veths are [$(veth_names)]")
      else
        local why; why=$(describe_error_problem); [ -z "$why" ] || problems+=("$what: not one CNI error: $why")
      fi
      store_view; [ -z "$INDEX_PROBLEMS" ] || problems+=("$what: after the faulty DEL: $INDEX_PROBLEMS")
      runtime_del "$what (retried)" c1 "$SWEEP_CONF"
    done
  done
  next_add_works "after the DEL sweep" c1 "$SWEEP_CONF"
  echo "# $runs faulty DELs ($injected with the fault injected), ${#problems[@]} problems" >&3
  [ "$injected" -ge $((runs * 9 / 10)) ] || fail "the injector hit only $injected of $runs runs"
  report_problems
}

@test "GC with a store syscall failing (each call in turn): the valid attachment keeps its addresses, exit 0 only when the stale one is released, a retried GC completes" {
  cniveth_only "LD_PRELOAD does not reach the Go reference's raw syscalls"
  SWEEP_CONF=$(hconf "" "$DUAL" "" 1.1.0)
  local gc_conf; gc_conf=$(jq -c '. + {"cni.dev/valid-attachments": [{"containerID":"keep","ifname":"eth0"}]}' <<<"$SWEEP_CONF")
  new_container C1; new_container CK
  problems=()
  run_plugin ADD keep "$CK" eth0 "$SWEEP_CONF"; assert_status 0
  local kept; kept=$(reservations_of keep)
  local log=$TEST_TMP/count.log flog=$TEST_TMP/fault.log entry kind n runs=0 injected=0
  # count: one GC that collects c1 (its reservations; the veth goes with it)
  run_plugin ADD c1 "$C1" eth0 "$SWEEP_CONF"; assert_status 0
  rm -f "$log"
  faulty "$(faults_env FAULT_LOG="$log" FAULT_CALL=all FAULT_NTH=0)" run_plugin GC "" "" "" "$gc_conf"; assert_status 0
  [ -s "$log" ] || fail "the injector saw no store call of the GC"
  echo "# store calls of one GC: $(fault_counts "$log" | xargs)" >&3
  for entry in $(sweep_plan "$log" 1); do
    kind=${entry%:*}; n=${entry##*:}
    local e what; e=$(errno_for auto "$kind")
    what="GC $kind#$n $e"
    rm -f "$flog"; runs=$((runs + 1))
    run_plugin ADD c1 "$C1" eth0 "$SWEEP_CONF"
    [ "$status" -eq 0 ] || { problems+=("$what: the ADD before the GC failed: ${output:0:200}"); continue; }
    faulty "$(faults_env FAULT_LOG="$flog" FAULT_CALL="$kind" FAULT_NTH="$n" FAULT_ERRNO="$e")" \
      run --separate-stderr plugin GC "" "" "" <<<"$gc_conf"
    grep -q INJECTED "$flog" 2>/dev/null && injected=$((injected + 1))
    store_view keep c1
    [ "${HELD[keep]}" = "$kept" ] || problems+=("$what: the valid attachment now holds [${HELD[keep]}], had [$kept]")
    if [ "$status" -eq 0 ]; then
      [ -z "${HELD[c1]}" ] || problems+=("$what: GC exited 0 but the stale ${HELD[c1]} stay reserved")
    else
      local why; why=$(describe_error_problem); [ -z "$why" ] || problems+=("$what: not one CNI error: $why")
    fi
    [ -z "$INDEX_PROBLEMS" ] || problems+=("$what: after the faulty GC: $INDEX_PROBLEMS")
    run_plugin GC "" "" "" "$gc_conf"
    [ "$status" -eq 0 ] || problems+=("$what: the retried GC failed: ${output:0:200}")
    store_view keep c1
    [ -z "${HELD[c1]}" ] || problems+=("$what: the retried GC left ${HELD[c1]}")
    [ "${HELD[keep]}" = "$kept" ] || problems+=("$what: after the retried GC the valid attachment holds [${HELD[keep]}]")
  done
  echo "# $runs faulty GCs ($injected with the fault injected), ${#problems[@]} problems" >&3
  [ "$injected" -ge $((runs * 9 / 10)) ] || fail "the injector hit only $injected of $runs runs"
  report_problems
}

# fill_inodes: creates empty files in the data directory until the filesystem has no inode left.
fill_inodes() {
  local i=0
  while { : >"$DATA_DIR/.fill-$i"; } 2>/dev/null; do i=$((i + 1)); [ "$i" -lt 100000 ] || break; done
}
# fill_pages: one file that takes every free page of the filesystem.
fill_pages() { dd if=/dev/zero of="$DATA_DIR/.fill" bs=4096 2>/dev/null || true; }

@test "a nearly full dataDir filesystem (k inodes or k pages left, dual-stack): a failed ADD leaves no reservation, DEL exits 0 only when it released everything" {
  local conf; conf=$(hconf "" "$DUAL")
  mkdir -p "$DATA_DIR"
  new_container C1
  new_container CB
  problems=()
  local limit k
  for limit in inodes pages; do
    mountpoint -q "$DATA_DIR" && umount "$DATA_DIR"
    if [ "$limit" = inodes ]; then mount -t tmpfs -o size=8m,nr_inodes=400 tmpfs "$DATA_DIR"
    else mount -t tmpfs -o size=1m tmpfs "$DATA_DIR"; fi
    run_plugin ADD bystander "$CB" eth0 "$conf"; assert_status 0
    BYSTANDER_IPS=$(reservations_of bystander); BYSTANDER_VETH=$(veth_names)
    for k in 0 1 2 3 4 5 6; do
      local what="$k $limit left"
      if [ "$limit" = inodes ]; then fill_inodes; rm -f $(seq -f "$DATA_DIR/.fill-%g" 0 $((k - 1)) | head -n "$k")
      else fill_pages; [ "$k" -eq 0 ] || truncate -s "-$((k * 4096))" "$DATA_DIR/.fill"; fi
      run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$conf"
      local added=$status
      check_after_faulty_add "ADD with $what" c1
      # the runtime's DEL while the disk is still full: exit 0 only if nothing of c1 is left
      run --separate-stderr plugin DEL c1 "$C1" eth0 <<<"$conf"
      store_view c1
      if [ "$status" -eq 0 ] && [ -n "${HELD[c1]}" ]; then
        problems+=("DEL with $what exited 0 but ${HELD[c1]} stay reserved (ADD exit $added)")
      fi
      rm -f "$DATA_DIR"/.fill*
      runtime_del "$what, after space was freed" c1 "$conf"
    done
    next_add_works "after the $limit sweep" c1 "$conf"
    run_plugin DEL bystander "$CB" eth0 "$conf"; assert_status 0
  done
  report_problems
}

# ================================================================================================
# Finding 1: a clock step must never hand a live container's address to another one.
# ================================================================================================

@test "no address is handed out twice after the wall clock stepped forward, whoever wrote the store (reference; cniveth with .cniveth lost or its boot record empty)" {
  # one address in the range: a second container can only get it if the first one's reservation is dropped
  local conf; conf=$(hconf "" '[[{"subnet":"10.99.0.0/24","rangeStart":"10.99.0.2","rangeEnd":"10.99.0.2"}]]')
  local btime; btime=$(awk '/^btime/ {print $2}' /proc/stat)
  local histories="reference" history
  on_reference || histories="reference cniveth-without-.cniveth cniveth-with-empty-boot_id"
  problems=()
  for history in $histories; do   # who wrote the store before the clock step
    rm -rf "$DATA_DIR"
    new_container C1; new_container C2
    # c1 is attached (and stays alive) by the plugin the history names
    if [ "$history" = reference ]; then
      PLUGIN=$REF_CNI_DIR/bridge PLUGIN_WRAPPER=$REF_WRAPPER run_plugin ADD c1 "$C1" eth0 "$conf"
    else
      run_plugin ADD c1 "$C1" eth0 "$conf"
    fi
    assert_status 0
    assert_json "$output" '.ips[0].address' 10.99.0.2/24
    case $history in
      cniveth-without-.cniveth) rm -rf "$NET_DIR/.cniveth" ;;
      cniveth-with-empty-boot_id) : >"$NET_DIR/.cniveth/boot_id" ;;
    esac
    # The clock is stepped forward after c1's ADD (VM restore, NTP step): btime, which the kernel derives
    # from the wall clock, moves past the reservation's mtime. Simulated by dating the file before btime.
    touch -d "@$((btime - 3600))" "$NET_DIR/10.99.0.2"
    run --separate-stderr plugin ADD c2 "$C2" eth0 <<<"$conf"
    if [ "$status" -eq 0 ]; then
      problems+=("store by $history: the second container got $(jq -r '.ips[0].address' <<<"$output") while c1 still uses 10.99.0.2")
    fi
    [ "$(owner_of 10.99.0.2)" = "c1 eth0" ] || problems+=("store by $history: 10.99.0.2 is now held by '$(owner_of 10.99.0.2)', not the live c1")
    in_ns "$C1" ip -4 -o addr show dev eth0 | grep -q 10.99.0.2/24 || problems+=("store by $history: c1 lost its address")
    run_plugin DEL c2 "$C2" eth0 "$conf"
    if [ "$history" = reference ]; then
      PLUGIN=$REF_CNI_DIR/bridge PLUGIN_WRAPPER=$REF_WRAPPER run_plugin DEL c1 "$C1" eth0 "$conf"
    else
      run_plugin DEL c1 "$C1" eth0 "$conf"
    fi
  done
  report_problems
}

@test "control for the clock-step test: after a real reboot (the boot id cniveth recorded changed) the earlier boot's reservations are released" {
  cniveth_only "boot sweep of cniveth's own store"
  local conf; conf=$(hconf "" '[[{"subnet":"10.99.0.0/24","rangeStart":"10.99.0.2","rangeEnd":"10.99.0.2"}]]')
  local btime; btime=$(awk '/^btime/ {print $2}' /proc/stat)
  export CNIVETH_BOOT_ID_FILE=$TEST_TMP/boot_id
  echo "11111111-2222-3333-4444-555555555555" >"$CNIVETH_BOOT_ID_FILE"
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_cni_error 999   # the one address is taken
  touch -d "@$((btime - 3600))" "$NET_DIR/10.99.0.2"
  echo "66666666-7777-8888-9999-000000000000" >"$CNIVETH_BOOT_ID_FILE"   # the reboot
  run --separate-stderr plugin ADD c2 "$C2" eth0 <<<"$conf"; assert_status 0
  assert_json "$output" '.ips[0].address' 10.99.0.2/24
}

# ================================================================================================
# Finding 2: GC releases only what it can prove invalid.
# ================================================================================================

# gc_setup: c1 with two interfaces and c2 with one, with masquerade and spoof checks (cniVersion 1.1.0).
gc_setup() {
  cniveth_only "the reference plugins predate GC (CNI 1.1.0)"
  GC_CONF=$(hconf '"ipMasq":true,"macspoofchk":true' "$V4" "" 1.1.0)
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$GC_CONF"; assert_status 0
  run_plugin ADD c1 "$C1" net1 "$GC_CONF"; assert_status 0
  run_plugin ADD c2 "$C2" eth0 "$GC_CONF"; assert_status 0
  GC_BEFORE=$(state_snapshot)
  [ "$(grep -c '^resv ' <<<"$GC_BEFORE")" -eq 3 ] && [ "$(grep -c '^veth ' <<<"$GC_BEFORE")" -eq 3 ] \
    || fail "setup: expected 3 reservations and 3 veths: $GC_BEFORE"
  problems=()
}

# gc_must_refuse LABEL JQ_FILTER CODES: GC with the config changed by JQ_FILTER fails with one of CODES,
# names the key, and changes nothing.
gc_must_refuse() {
  local label=$1 filter=$2 codes=$3
  run --separate-stderr plugin GC "" "" "" <<<"$(jq -c "$filter" <<<"$GC_CONF")"
  local code; code=$(jq -r '.code // empty' <<<"$output" 2>/dev/null)
  if [ "$status" -eq 0 ]; then problems+=("$label: GC exited 0")
  elif [[ " $codes " != *" $code "* ]]; then problems+=("$label: code '$code', expected one of $codes: ${output:0:200}")
  elif [[ "$(jq -r .msg <<<"$output")" != *cni.dev/valid-attachments* ]]; then problems+=("$label: msg does not name cni.dev/valid-attachments: $(jq -r .msg <<<"$output")")
  fi
  local after; after=$(state_snapshot)
  if [ "$after" != "$GC_BEFORE" ]; then
    problems+=("$label: GC changed the node: $(diff <(echo "$GC_BEFORE") <(echo "$after") | grep '^[<>]' | head -4 | xargs)")
    gc_restore   # so the next variant is judged on its own
  fi
}

# gc_restore: the three attachments of gc_setup again, as they were.
gc_restore() {
  run_plugin DEL c1 "$C1" eth0 "$GC_CONF"; run_plugin DEL c1 "$C1" net1 "$GC_CONF"; run_plugin DEL c2 "$C2" eth0 "$GC_CONF"
  rm -rf "$DATA_DIR"
  run_plugin ADD c1 "$C1" eth0 "$GC_CONF"; assert_status 0
  run_plugin ADD c1 "$C1" net1 "$GC_CONF"; assert_status 0
  run_plugin ADD c2 "$C2" eth0 "$GC_CONF"; assert_status 0
  GC_BEFORE=$(state_snapshot)
}

@test "GC without a valid-attachments list (absent, null, misspelled key) is code 7 naming cni.dev/valid-attachments and changes nothing" {
  gc_setup
  gc_must_refuse "absent" 'del(.["cni.dev/valid-attachments"])' 7
  gc_must_refuse "null" '. + {"cni.dev/valid-attachments": null}' 7
  gc_must_refuse "misspelled cni.dev/valid-attachment" '. + {"cni.dev/valid-attachment": [{"containerID":"c1","ifname":"eth0"}]}' 7
  gc_must_refuse "misspelled cni.dev/validAttachments" '. + {"cni.dev/validAttachments": []}' 7
  report_problems
}

@test "GC with a malformed valid-attachments list (wrong type, an entry without containerID) is refused naming the key and changes nothing" {
  gc_setup
  # a wrong JSON type may also be reported as a decoding failure (6)
  gc_must_refuse "a string" '. + {"cni.dev/valid-attachments": "c1"}' "6 7"
  gc_must_refuse "an object" '. + {"cni.dev/valid-attachments": {"containerID":"c1"}}' "6 7"
  gc_must_refuse "an entry that is a number" '. + {"cni.dev/valid-attachments": [5]}' "6 7"
  gc_must_refuse "an entry without containerID" '. + {"cni.dev/valid-attachments": [{"ifname":"eth0"}]}' 7
  report_problems
}

@test "GC keeps every interface of a container listed without ifname; attachments not listed still go (control)" {
  gc_setup
  run_plugin GC "" "" "" "$(jq -c '. + {"cni.dev/valid-attachments": [{"containerID":"c1"}]}' <<<"$GC_CONF")"
  local after; after=$(state_snapshot)
  local c1_before c1_after
  c1_before=$(grep -E '^(resv .* c1 |veth .* c1 )' <<<"$GC_BEFORE")
  c1_after=$(grep -E '^(resv .* c1 |veth .* c1 )' <<<"$after" || true)
  [ "$c1_after" = "$c1_before" ] || fail "GC removed state of c1 (listed without ifname): $(diff <(echo "$c1_before") <(echo "$c1_after") | grep '^[<>]' | xargs)"
  # the masquerade and spoof-check entries of both c1 interfaces stay
  local ip; for ip in $(grep '^resv .* c1 ' <<<"$GC_BEFORE" | cut -d' ' -f2); do
    grep -q "\"$ip\"" <<<"$(grep '^nft saddr4' <<<"$after")" || fail "c1's masquerade element $ip was removed"
  done
  # control: c2 is not listed, so it is collected
  [ -z "$(grep -E '^(resv|veth) .* c2 ' <<<"$after")" ] || fail "GC kept the unlisted c2: $(grep ' c2 ' <<<"$after")"
  assert_status 0
}

# ================================================================================================
# Finding 3: DEL removes only state the attachment still owns.
# ================================================================================================

# outside_setup: an "outside" network reached through the fake host with no route back to the
# container subnet: a container reaches 192.168.77.2 only when its traffic is masqueraded.
outside_setup() {
  new_ns OUT_PID
  OUT_NS="/proc/$OUT_PID/ns/net"
  in_host ip link add upl0 type veth peer name upl1
  in_host ip link set upl1 netns "$OUT_PID"
  in_host ip addr add 192.168.77.1/24 dev upl0
  in_host ip link set upl0 up
  in_ns "$OUT_NS" ip addr add 192.168.77.2/24 dev upl1
  in_ns "$OUT_NS" ip link set upl1 up
}

@test "a repeated DEL with a stale prevResult leaves the masquerade of the container that now holds the address (ADD c1, DEL c1, ADD c2, DEL c1)" {
  outside_setup
  # one address in the range, so c2 gets c1's old address
  local conf; conf=$(hconf '"ipMasq":true' '[[{"subnet":"10.99.0.0/24","rangeStart":"10.99.0.2","rangeEnd":"10.99.0.2"}]]')
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local prev1=$output
  run_plugin DEL c1 "$C1" eth0 "$(with_prev "$conf" "$prev1")"; assert_status 0
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
  local prev2=$output
  assert_json "$prev2" '.ips[0].address' 10.99.0.2/24
  in_ns "$C2" ping -c1 -W2 192.168.77.2 >/dev/null || fail "precondition: c2 cannot reach the outside through masquerade"
  # the runtime repeats c1's DEL (retry after a timeout, or a restarted runtime) with c1's cached result
  run_plugin DEL c1 "$C1" eth0 "$(with_prev "$conf" "$prev1")"; assert_status 0
  in_ns "$C2" ping -c1 -W2 192.168.77.2 >/dev/null || fail "c2's traffic is no longer masqueraded after c1's repeated DEL"
  run_plugin CHECK c2 "$C2" eth0 "$(with_prev "$conf" "$prev2")"
  [ "$status" -eq 0 ] || fail "CHECK c2 fails after c1's repeated DEL: $output"
  # control: c2's own DEL does remove it
  run_plugin DEL c2 "$C2" eth0 "$(with_prev "$conf" "$prev2")"; assert_status 0
  if ! on_reference; then
    ! nft_mentions 10.99.0.2 >/dev/null || fail "control: c2's DEL left its masquerade element"
  fi
}

# ================================================================================================
# Finding 5: foreign or damaged entries are skipped or repaired, never fatal.
# ================================================================================================

# make_entry KIND PATH: a foreign entry of KIND at PATH.
make_entry() {
  local kind=$1 path=$2
  case $kind in
    directory) mkdir -p "$path" ;;
    socket) /usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$path" ;;
    fifo) mkfifo "$path" ;;
    2MiB-file) head -c $((2 << 20)) /dev/urandom >"$path" ;;
    *) fail "make_entry: unknown kind $kind" ;;
  esac
}
entry_fingerprint() { stat -c '%F %s' "$1" 2>/dev/null; [ -f "$1" ] && md5sum <"$1"; true; }

# attach_detach_around LABEL: with c0 attached before the damage, a new container c1 attaches (not on
# AVOID) and detaches, then c0 detaches; each call exits 0 with at most one stderr line and releases its
# reservations. Appends to `problems`.
attach_detach_around() {
  local label=$1 avoid=${2:-} lines
  run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$CONF"
  lines=$(grep -c . <<<"${stderr:-}" || true)
  if [ "$status" -ne 0 ]; then problems+=("$label: ADD c1 failed: $(jq -r .msg <<<"$output" 2>/dev/null || echo "$output")")
  else
    [ -z "$avoid" ] || [[ "$(jq -r '.ips[].address' <<<"$output")" != "$avoid/"* ]] || problems+=("$label: ADD handed out $avoid, a foreign entry's name")
    [ "$lines" -le 1 ] || problems+=("$label: ADD wrote $lines stderr lines: $stderr")
  fi
  run --separate-stderr plugin DEL c1 "$C1" eth0 <<<"$CONF"
  [ "$status" -eq 0 ] || problems+=("$label: DEL c1 failed: $(jq -r .msg <<<"$output" 2>/dev/null || echo "$output")")
  [ -z "$(reservations_of c1)" ] || problems+=("$label: c1 still holds $(reservations_of c1)")
  run --separate-stderr plugin DEL c0 "$C0" eth0 <<<"$CONF"
  [ "$status" -eq 0 ] || problems+=("$label: DEL c0 failed: $(jq -r .msg <<<"$output" 2>/dev/null || echo "$output")")
  [ -z "$(reservations_of c0)" ] || problems+=("$label: c0 still holds $(reservations_of c0) after its DEL")
}

# fresh_store_with_c0: an empty store, then c0 attached (it gets 10.99.0.2; the next candidate is .3).
fresh_store_with_c0() {
  rm -rf "$DATA_DIR"
  in_ns "$C0" ip link del eth0 2>/dev/null || true
  in_ns "$C1" ip link del eth0 2>/dev/null || true
  run_plugin ADD c0 "$C0" eth0 "$CONF"; assert_status 0
  assert_json "$output" '.ips[0].address' 10.99.0.2/24
}

@test "foreign entries named like an IP (directory, socket, FIFO, 2 MiB file) are skipped: ADD and DEL work, the address is not handed out, the entry is left alone" {
  CONF=$(hconf)
  new_container C0; new_container C1
  problems=()
  local kind
  for kind in directory socket fifo 2MiB-file; do
    fresh_store_with_c0
    make_entry "$kind" "$NET_DIR/10.99.0.3"
    local before; before=$(entry_fingerprint "$NET_DIR/10.99.0.3")
    attach_detach_around "$kind named 10.99.0.3" 10.99.0.3
    [ "$(entry_fingerprint "$NET_DIR/10.99.0.3")" = "$before" ] || problems+=("$kind: the foreign entry was changed or removed")
  done
  report_problems
}

@test "a huge or non-file last_reserved_ip.0 (2 MiB file, directory, FIFO) does not wedge the network" {
  CONF=$(hconf)
  new_container C0; new_container C1
  problems=()
  local kind
  for kind in 2MiB-file directory fifo; do
    fresh_store_with_c0
    rm -f "$NET_DIR/last_reserved_ip.0"
    make_entry "$kind" "$NET_DIR/last_reserved_ip.0"
    attach_detach_around "last_reserved_ip.0 as a $kind" 10.99.0.2
  done
  report_problems
}

@test "damaged .cniveth state (a file for a directory, a bucket, the stamp or the scratch file turned into a directory, a 2 MiB bucket) is rebuilt: ADD and DEL work and release everything" {
  cniveth_only ".cniveth is cniveth's own state"
  CONF=$(hconf)
  new_container C0; new_container C1
  problems=()
  local damage bucket
  for damage in cniveth-is-a-file owners-is-a-file bucket-is-a-directory stamp-is-a-directory \
                tmp-is-a-directory boot_id-is-a-directory bucket-is-2MiB-of-garbage; do
    fresh_store_with_c0
    bucket=$(grep -l '^c0+eth0 ' "$NET_DIR"/.cniveth/owners/* | head -1)
    [ -n "$bucket" ] || fail "setup: no owner bucket names c0"
    case $damage in
      cniveth-is-a-file) rm -rf "$NET_DIR/.cniveth"; echo junk >"$NET_DIR/.cniveth" ;;
      owners-is-a-file) rm -rf "$NET_DIR/.cniveth/owners"; echo junk >"$NET_DIR/.cniveth/owners" ;;
      bucket-is-a-directory) rm -f "$bucket"; mkdir "$bucket" ;;
      stamp-is-a-directory) rm -f "$NET_DIR/.cniveth/stamp"; mkdir "$NET_DIR/.cniveth/stamp" ;;
      tmp-is-a-directory) mkdir "$NET_DIR/.cniveth/tmp" ;;
      boot_id-is-a-directory) rm -f "$NET_DIR/.cniveth/boot_id"; mkdir "$NET_DIR/.cniveth/boot_id" ;;
      bucket-is-2MiB-of-garbage) head -c $((2 << 20)) /dev/urandom >"$bucket" ;;
    esac
    attach_detach_around "$damage" 10.99.0.2
  done
  report_problems
}

@test "a lost or truncated owner bucket neither leaks the reservation nor gives a re-ADD a second address" {
  cniveth_only ".cniveth is cniveth's own state"
  CONF=$(hconf)
  new_container C0; new_container C1
  problems=()
  local damage bucket
  for damage in truncated removed; do
    for next in del re-add; do
      fresh_store_with_c0
      bucket=$(grep -l '^c0+eth0 ' "$NET_DIR"/.cniveth/owners/* | head -1)
      if [ "$damage" = truncated ]; then : >"$bucket"; else rm -f "$bucket"; fi
      if [ "$next" = re-add ]; then
        # the runtime retries c0's ADD (e.g. after a timeout): c0 must not end up with two addresses
        run --separate-stderr plugin ADD c0 "$C0" eth0 <<<"$CONF"
        local held; held=$(reservations_of c0)
        [ "$(wc -w <<<"$held")" -le 1 ] || problems+=("bucket $damage, re-ADD: c0 holds $held")
      fi
      run_plugin DEL c0 "$C0" eth0 "$CONF"
      [ "$status" -eq 0 ] || problems+=("bucket $damage, $next: DEL failed: $output")
      [ -z "$(reservations_of c0)" ] || problems+=("bucket $damage, $next: DEL left $(reservations_of c0) reserved")
    done
  done
  report_problems
}

# ================================================================================================
# Finding 6: bounded memory and time, one JSON error, whatever the input or the environment.
# ================================================================================================

# measured LIMIT_AS CMD...: runs the plugin under an address-space cap (a safety net for the machine) and
# /usr/bin/time; sets ELAPSED (s) and MAXRSS (kB), both empty when it was killed.
measured() {
  local as=$1; shift
  rm -f "$TEST_TMP/time"
  # killed after 8 s (then no time is recorded): the property is 5 s, and a hang must not cost 30 s
  wrapped "/usr/bin/timeout -k 1 8 /usr/bin/prlimit --as=$as /usr/bin/time -o $TEST_TMP/time -f %e_%M" "$@"
  local t; t=$(tail -1 "$TEST_TMP/time" 2>/dev/null)
  ELAPSED=${t%_*}; MAXRSS=${t#*_}
}

@test "resolvConf naming /dev/zero, a 100 MB file or a FIFO: one JSON error within 5 s and 100 MB RSS, nothing reserved" {
  new_container C1
  mkfifo "$TEST_TMP/fifo"
  yes 'nameserver 10.0.0.1' | head -c 100M >"$TEST_TMP/huge-resolv.conf" || true
  printf 'nameserver 10.0.0.53\n' >"$TEST_TMP/resolv.conf"
  problems=()
  # control: a normal resolv.conf works, and what a normal ADD costs
  measured $((2 << 30)) run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$(hconf "" "$V4" "\"resolvConf\":\"$TEST_TMP/resolv.conf\"")"
  assert_status 0
  # (the reference bridge reports only the config's dns, never the IPAM's)
  on_reference || assert_json "$output" '.dns.nameservers[0]' 10.0.0.53
  echo "# normal ADD: ${ELAPSED} s, ${MAXRSS} kB" >&3
  run_plugin DEL c1 "$C1" eth0 "$(hconf)"; assert_status 0
  local file
  for file in /dev/zero "$TEST_TMP/huge-resolv.conf" "$TEST_TMP/fifo"; do
    measured $((2 << 30)) run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$(hconf "" "$V4" "\"resolvConf\":\"$file\"")"
    echo "# resolvConf $file: exit $status, ${ELAPSED} s, ${MAXRSS} kB: $(jq -c '{code,msg}' <<<"$output" 2>/dev/null | cut -c1-150)" >&3
    local why; why=$(describe_error_problem)
    [ -z "$why" ] || problems+=("$file: $why (stderr: ${stderr:0:200})")
    [ "${MAXRSS:-999999}" -le 102400 ] || problems+=("$file: ${MAXRSS} kB RSS")
    awk -v e="${ELAPSED:-99}" 'BEGIN { exit !(e <= 5) }' || problems+=("$file: took ${ELAPSED} s")
    [ -z "$(reservations_of c1)" ] || problems+=("$file: c1 holds $(reservations_of c1)")
    run_plugin DEL c1 "$C1" eth0 "$(hconf)"
  done
  report_problems
}

closed_stdout() { plugin "$@" >&-; }
full_stdout() { plugin "$@" >/dev/full; }

@test "stdout closed or full: a non-zero exit, one stderr line, no stack trace, no abort; the runtime's DEL cleans up" {
  local conf; conf=$(hconf)
  new_container C1
  problems=()
  local how
  for how in closed_stdout full_stdout; do
    run --separate-stderr "$how" ADD c1 "$C1" eth0 <<<"$conf"
    local lines; lines=$(grep -c . <<<"${stderr:-}" || true)
    echo "# $how: exit $status, stderr ($lines lines): ${stderr:0:200}" >&3
    [ "$status" -ne 0 ] || problems+=("$how: exit 0 although the result could not be written")
    [ "$status" -lt 124 ] || problems+=("$how: exit $status (killed by a signal or timed out)")
    [ "$lines" -eq 1 ] || problems+=("$how: $lines stderr lines")
    [[ "${stderr:-}" != *"   at "* && "${stderr:-}" != *"Unhandled exception"* ]] || problems+=("$how: stack trace on stderr")
    run_plugin DEL c1 "$C1" eth0 "$conf"
    [ "$status" -eq 0 ] && [ -z "$(reservations_of c1)" ] || problems+=("$how: the DEL after it did not clean up: $output")
  done
  report_problems
}

@test "ADD, CHECK and DEL work under RLIMIT_AS of 512 MB and 1 GB" {
  local conf; conf=$(hconf)
  new_container C1
  problems=()
  local limit
  for limit in $((512 << 20)) $((1 << 30)); do
    wrapped "/usr/bin/prlimit --as=$limit" run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$conf"
    [ "$status" -eq 0 ] || { problems+=("RLIMIT_AS $limit: ADD exit $status: ${output:0:200} ${stderr:0:200}"); continue; }
    local prev=$output
    wrapped "/usr/bin/prlimit --as=$limit" run --separate-stderr plugin CHECK c1 "$C1" eth0 <<<"$(with_prev "$conf" "$prev")"
    [ "$status" -eq 0 ] || problems+=("RLIMIT_AS $limit: CHECK exit $status: ${output:0:200}")
    wrapped "/usr/bin/prlimit --as=$limit" run --separate-stderr plugin DEL c1 "$C1" eth0 <<<"$conf"
    [ "$status" -eq 0 ] || problems+=("RLIMIT_AS $limit: DEL exit $status: ${output:0:200}")
    run_plugin DEL c1 "$C1" eth0 "$conf"
  done
  report_problems
}

@test "ADD, CHECK, GC and DEL over 3,000 reservations of other containers stay within 24 open descriptors" {
  # Every descriptor is closed by its owner, none left for a finalizer (the plugin runs none: see
  # src/CniVeth/Native/no_finalizer_thread.c); the store's first call here rebuilds its index from all
  # 3,000 files, and GC releases them all.
  cniveth_only "the limit is about cniveth's own descriptors"
  local conf i; conf=$(hconf '' '[[{"subnet":"10.98.0.0/16"}]]')
  mkdir -p "$NET_DIR"
  for i in $(seq 0 2999); do printf 'old%s\r\neth0' "$i" >"$NET_DIR/10.98.$((i / 250 + 1)).$((i % 250 + 1))"; done
  new_container C1
  local lim="/usr/bin/prlimit --nofile=24"
  wrapped "$lim" run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local prev=$output
  wrapped "$lim" run_plugin CHECK c1 "$C1" eth0 "$(with_prev "$conf" "$prev")"; assert_status 0
  wrapped "$lim" run_plugin GC "" "" "" "$(jq -c '.["cni.dev/valid-attachments"] = [{"containerID":"c1","ifname":"eth0"}] | .cniVersion = "1.1.0"' <<<"$conf")"
  assert_status 0
  [ "$(reservations "$NET" | wc -l)" -eq 1 ] || fail "GC left $(reservations "$NET" | wc -l) reservations, expected c1's alone"
  wrapped "$lim" run_plugin DEL c1 "$C1" eth0 "$conf"; assert_status 0
  [ -z "$(reservations "$NET")" ] || fail "DEL left $(reservations "$NET")"
  # control: the limit reaches the plugin (with 4 descriptors it cannot open its store or sockets)
  wrapped "/usr/bin/prlimit --nofile=4" run_plugin ADD c2 "$C1" eth0 "$conf"
  assert_one_cni_error
}

# ================================================================================================
# Finding 7: valid inputs the reference accepts.
# ================================================================================================

@test "container IDs of 240, 1,000 and 4,096 characters attach, pass CHECK and detach" {
  local conf; conf=$(hconf)
  new_container C1
  problems=()
  local len cid
  for len in 240 1000 4096; do
    cid=$(head -c "$len" /dev/zero | tr '\0' 'a')
    run_plugin ADD "$cid" "$C1" eth0 "$conf"
    if [ "$status" -ne 0 ]; then problems+=("$len: ADD failed: $(jq -r .msg <<<"$output" | cut -c1-200)"); continue; fi
    local prev=$output
    run_plugin CHECK "$cid" "$C1" eth0 "$(with_prev "$conf" "$prev")"
    [ "$status" -eq 0 ] || problems+=("$len: CHECK failed: $(jq -r .msg <<<"$output" | cut -c1-200)")
    run_plugin DEL "$cid" "$C1" eth0 "$conf"
    [ "$status" -eq 0 ] || problems+=("$len: DEL failed: $(jq -r .msg <<<"$output" | cut -c1-200)")
    [ -z "$(veth_names)" ] || problems+=("$len: veth left: $(veth_names)")
    [ -z "$(reservations_of "$cid")" ] || problems+=("$len: reservation left")
  done
  report_problems
}

@test "a 250-character network name with a Kubernetes-style 64-character container ID attaches, passes CHECK and detaches" {
  NET=n$(head -c 249 /dev/zero | tr '\0' 'a'); NET_DIR=$DATA_DIR/$NET
  local cid; cid=$(printf '%064x' 0 | tr 0 f)
  local conf; conf=$(hconf '"ipMasq":true')
  new_container C1
  run_plugin ADD "$cid" "$C1" eth0 "$conf"
  [ "$status" -eq 0 ] || fail "ADD failed: $output"
  run_plugin CHECK "$cid" "$C1" eth0 "$(with_prev "$conf" "$output")"; assert_status 0
  run_plugin DEL "$cid" "$C1" eth0 "$conf"; assert_status 0
  [ -z "$(veth_names)" ] || fail "veth left: $(veth_names)"
  [ -z "$(reservations_of "$cid")" ] || fail "reservation left"
}

# routes_conf N: the config with N host routes 10.200.x.y/32 (via the gateway) as IPAM routes.
routes_conf() {
  hconf | jq -c --argjson n "$1" '.ipam.routes = [range($n) | {dst: "10.200.\(. / 256 | floor).\(. % 256)/32"}]'
}

@test "300 and 10,000 IPAM routes are installed in the container and reported; DEL works" {
  new_container C1
  problems=()
  local n
  for n in 300 10000; do
    local conf; conf=$(routes_conf "$n")
    local t0=$SECONDS
    run_plugin ADD c1 "$C1" eth0 "$conf"
    echo "# $n routes: ADD exit $status in $((SECONDS - t0)) s" >&3
    if [ "$status" -ne 0 ]; then problems+=("$n routes: ADD failed: $(jq -r .msg <<<"$output" | cut -c1-200)"); continue; fi
    [ "$(jq '.routes | length' <<<"$output")" -eq "$n" ] || problems+=("$n routes: the result lists $(jq '.routes | length' <<<"$output")")
    local installed; installed=$(in_ns "$C1" ip -4 -o route show | grep -c '^10\.200\.' || true)
    [ "$installed" -eq "$n" ] || problems+=("$n routes: $installed installed in the container")
    run_plugin DEL c1 "$C1" eth0 "$conf"
    [ "$status" -eq 0 ] || problems+=("$n routes: DEL failed: $output")
  done
  report_problems
}

# ================================================================================================
# Finding 8: a failed ADD restores every host setting it changed.
# ================================================================================================

# An IPAM route whose gateway the container cannot reach: the kernel refuses it, late in the ADD.
bad_route_conf() {
  jq -c '.ipam.routes += [{"dst":"10.60.0.0/16","gw":"10.123.0.1"}]' <<<"$(hconf "" "${1:-$V4}")"
}
forwarding() { in_host cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding | xargs; }
bridge_addrs() { in_host ip -j addr show dev cnihost0 2>/dev/null | jq -r '[.[].addr_info[] | select(.scope == "global") | "\(.local)/\(.prefixlen)"] | join(" ")'; }

@test "a failed ADD (unreachable route gateway) restores the host: the bridge it created is gone, forwarding is as before" {
  new_container C1
  [ "$(forwarding)" = "0 0" ] || fail "precondition: forwarding is on in a fresh namespace: $(forwarding)"
  run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$(bad_route_conf "$DUAL")"
  assert_one_cni_error
  local problems=()
  ! in_host ip link show cnihost0 >/dev/null 2>&1 || problems+=("the bridge it created is still there (addresses: $(bridge_addrs))")
  [ "$(forwarding)" = "0 0" ] || problems+=("forwarding (ipv4 ipv6) is now $(forwarding), was 0 0")
  [ -z "$(veth_names)" ] || problems+=("veth left: $(veth_names)")
  [ -z "$(reservations_of c1)" ] || problems+=("reservation left: $(reservations_of c1)")
  report_problems
}

@test "a failed ADD on an admin's bridge keeps the bridge but removes the gateway address it added" {
  new_container C1
  in_host ip link add cnihost0 type bridge
  in_host ip link set cnihost0 up
  run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$(bad_route_conf)"
  assert_one_cni_error
  in_host ip link show cnihost0 >/dev/null || fail "the admin's bridge was deleted"
  [ -z "$(bridge_addrs)" ] || fail "the gateway address stayed on the bridge: $(bridge_addrs)"
  [ "$(forwarding)" = "0 0" ] || fail "forwarding (ipv4 ipv6) is now $(forwarding), was 0 0"
}

@test "control: a failed ADD next to a live attachment keeps the shared bridge, gateway address and forwarding" {
  new_container C0; new_container C1
  run_plugin ADD c0 "$C0" eth0 "$(hconf)"; assert_status 0
  local before; before="$(bridge_addrs) / $(forwarding)"
  run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$(bad_route_conf)"
  assert_one_cni_error
  [ "$(bridge_addrs) / $(forwarding)" = "$before" ] || fail "shared host state changed: was $before, now $(bridge_addrs) / $(forwarding)"
  in_ns "$C0" ping -c1 -W2 10.99.0.1 >/dev/null || fail "c0 lost its gateway"
}

# ================================================================================================
# Finding 9: CHECK sees damage; ADD repairs what is missing; CHECK only reads.
# ================================================================================================

@test "CHECK fails when the masquerade rule is flushed from its chain, and the next ADD puts the rule back" {
  cniveth_only "cniveth's nftables rules (the reference uses iptables chains)"
  outside_setup
  local conf; conf=$(hconf '"ipMasq":true')
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local check1; check1=$(with_prev "$conf" "$output")
  run_plugin CHECK c1 "$C1" eth0 "$check1"; assert_status 0
  in_host nft flush chain inet cniveth postrouting
  ! in_ns "$C1" ping -c1 -W1 192.168.77.2 >/dev/null 2>&1 || fail "setup: traffic still masqueraded after the flush"
  problems=()
  run_plugin CHECK c1 "$C1" eth0 "$check1"
  [ "$status" -ne 0 ] || problems+=("CHECK passed although the masquerade rule is gone")
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
  [ "$(in_host nft -j list chain inet cniveth postrouting | jq '[.nftables[] | select(.rule) | select(any(.rule.expr[]; has("masquerade")))] | length')" -ge 1 ] \
    || problems+=("the next ADD did not put the masquerade rule back")
  in_ns "$C2" ping -c1 -W2 192.168.77.2 >/dev/null || problems+=("c2 is not masqueraded after its ADD")
  run_plugin CHECK c1 "$C1" eth0 "$check1"
  [ "$status" -eq 0 ] || problems+=("CHECK c1 still fails after the next ADD: $(jq -r .msg <<<"$output")")
  report_problems
}

@test "CHECK fails when the spoof-check rule is flushed from its chain, and the next ADD puts the rule back" {
  cniveth_only "cniveth's nftables rules (the reference uses ebtables)"
  local conf; conf=$(hconf '"macspoofchk":true')
  new_container C1; new_container C2
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local check1; check1=$(with_prev "$conf" "$output")
  in_host nft flush chain bridge cniveth prerouting
  problems=()
  run_plugin CHECK c1 "$C1" eth0 "$check1"
  [ "$status" -ne 0 ] || problems+=("CHECK passed although the spoof-check rule is gone")
  run_plugin ADD c2 "$C2" eth0 "$conf"; assert_status 0
  [ "$(in_host nft -j list chain bridge cniveth prerouting | jq '[.nftables[] | select(.rule) | select(any(.rule.expr[]; has("drop")))] | length')" -ge 1 ] \
    || problems+=("the next ADD did not put the spoof-check rule back")
  run_plugin CHECK c1 "$C1" eth0 "$check1"
  [ "$status" -eq 0 ] || problems+=("CHECK c1 still fails after the next ADD: $(jq -r .msg <<<"$output")")
  report_problems
}

@test "CHECK fails when the inet or the bridge cniveth table is dormant" {
  cniveth_only "cniveth's nftables tables"
  local conf; conf=$(hconf '"ipMasq":true,"macspoofchk":true')
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local check1; check1=$(with_prev "$conf" "$output")
  problems=()
  local family
  for family in inet bridge; do
    in_host nft add table "$family" cniveth '{ flags dormant; }'
    run_plugin CHECK c1 "$C1" eth0 "$check1"
    [ "$status" -ne 0 ] || problems+=("CHECK passed although table $family cniveth is dormant")
    in_host nft "add table $family cniveth { }"   # an update without flags wakes the table up again
    run_plugin CHECK c1 "$C1" eth0 "$check1"
    [ "$status" -eq 0 ] || fail "control: CHECK still fails after table $family cniveth woke up: $output"
  done
  report_problems
}

@test "CHECK fails when the host veth was renamed" {
  local conf; conf=$(hconf)
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local check1; check1=$(with_prev "$conf" "$output")
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  in_host ip link set "$hostveth" down
  in_host ip link set "$hostveth" name renamed0
  in_host ip link set renamed0 up
  run_plugin CHECK c1 "$C1" eth0 "$check1"
  [ "$status" -ne 0 ] || fail "CHECK passed although host veth $hostveth is now called renamed0"
}

@test "CHECK works on a read-only store" {
  local conf; conf=$(hconf)
  new_container C1
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local check1; check1=$(with_prev "$conf" "$output")
  mount --bind "$DATA_DIR" "$DATA_DIR"
  mount -o remount,ro,bind "$DATA_DIR"
  ! touch "$NET_DIR/probe" 2>/dev/null || fail "setup: the store is writable"
  run_plugin CHECK c1 "$C1" eth0 "$check1"
  [ "$status" -eq 0 ] || fail "CHECK failed on a read-only store: $output"
}

# ================================================================================================
# Finding 10: ranges without usable addresses; DEL with an unusable or the plugin's own netns.
# ================================================================================================

@test "ranges without a usable address (0.0.0.0/0, ::/0) are code 7 and change nothing" {
  new_container C1
  problems=()
  local subnet
  for subnet in 0.0.0.0/0 ::/0; do
    local before; before=$(in_host ip -o link show | cut -d' ' -f2 | xargs)
    run --separate-stderr plugin ADD c1 "$C1" eth0 <<<"$(hconf "" "[[{\"subnet\":\"$subnet\"}]]")"
    local code; code=$(jq -r '.code // empty' <<<"$output" 2>/dev/null)
    [ "$status" -ne 0 ] && [ "$code" = 7 ] || problems+=("$subnet: exit $status, code '$code': $(jq -c '{ips,msg}' <<<"$output" 2>/dev/null | cut -c1-200)")
    [ "$(in_host ip -o link show | cut -d' ' -f2 | xargs)" = "$before" ] || problems+=("$subnet: host links changed: $(in_host ip -o link show | cut -d' ' -f2 | xargs)")
    run_plugin DEL c1 "$C1" eth0 "$(hconf "" "[[{\"subnet\":\"$subnet\"}]]")"
    [ -z "$(ls "$NET_DIR" 2>/dev/null | grep -E '^[0-9a-f.:]+$')" ] || problems+=("$subnet: a reservation was written")
  done
  report_problems
}

@test "DEL (first or repeated) with a procfs CNI_NETNS that is not a network namespace cleans the host side and exits 0" {
  local conf; conf=$(hconf)
  new_container C1
  problems=()
  local path
  for path in "/proc/$HOST_PID/status" "/proc/$HOST_PID/ns/uts"; do
    run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
    run_plugin DEL c1 "$path" eth0 "$conf"
    [ "$status" -eq 0 ] || problems+=("first DEL with $path: $(jq -r .msg <<<"$output")")
    [ -z "$(veth_names)" ] || problems+=("first DEL with $path left veth $(veth_names)")
    [ -z "$(reservations_of c1)" ] || problems+=("first DEL with $path left $(reservations_of c1)")
    run_plugin DEL c1 "$path" eth0 "$conf"
    [ "$status" -eq 0 ] || problems+=("repeated DEL with $path: $(jq -r .msg <<<"$output")")
    run_plugin DEL c1 "$C1" eth0 "$conf"   # whatever is left
  done
  report_problems
}

@test "DEL with the plugin's own namespace as CNI_NETNS (a stale bind mount) cleans the host side and never touches the host's interfaces" {
  local conf; conf=$(hconf)
  new_container C1
  # the host has an interface named like the container's, and one more of its own
  in_host ip link add eth0 type bridge
  in_host ip link add uplink0 type bridge
  run_plugin ADD c1 "$C1" eth0 "$conf"; assert_status 0
  local hostveth; hostveth=$(jq -r '.interfaces[1].name' <<<"$output")
  problems=()
  local attempt
  for attempt in first repeated; do
    run_plugin DEL c1 "$HOST_NS" eth0 "$conf"
    [ "$status" -eq 0 ] || problems+=("$attempt DEL: exit $status: $(jq -r .msg <<<"$output")")
    in_host ip link show eth0 >/dev/null 2>&1 || problems+=("$attempt DEL deleted the host's own eth0")
    in_host ip link show uplink0 >/dev/null 2>&1 || problems+=("$attempt DEL deleted the host's uplink0")
  done
  ! in_host ip link show "$hostveth" >/dev/null 2>&1 || problems+=("the attachment's host veth $hostveth is still there")
  [ -z "$(reservations_of c1)" ] || problems+=("the reservation $(reservations_of c1) is still there")
  report_problems
}
