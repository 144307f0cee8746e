#!/usr/bin/env bash
# Runs black-box suites (tests/integration/NN-x.bats) in a VM booted from Debian 12's stock kernel, to test
# what this machine's own kernel cannot show (bridge VLAN filtering, nf_tables of kernels before 6.5).
# Usage: tests/vm/run.sh [SUITE ...]   SUITE: 40-options, 40-options.bats or tests/integration/40-options.bats
#                                      (default: $VM_SUITES, else 30-datapath 40-options 45-vlan-bridges 50-firewall)
#        tests/vm/run.sh --exec 'COMMAND'  runs one bash command in the guest instead (from the repo's
#                                      root, in the same sandbox as the suites), e.g. to try nft or bridge
# Environment:
#   VM_TESTS=skip   do not run (prints a loud notice; the only way this script succeeds without a VM)
#   VM_ACCEL=tcg    software emulation (default: works everywhere); kvm where hardware virtualisation works
#   VM_CPUS=2 VM_MEM=2048 (MiB) VM_TIMEOUT=2400 (s, whole run) VM_BOOT_TIMEOUT=180 (s, until the guest
#   has mounted the host) VM_CACHE=<repo>/.vm-cache (kernel, initramfs and per-run results)
# The guest sees the host's / read-only (writes go to a RAM overlay) and runs out/cniveth from this tree.
# Exit status: 0 only when every suite ran and passed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/tests/vm"
cache=${VM_CACHE:-$repo/.vm-cache}
accel=${VM_ACCEL:-tcg}
timeout_s=${VM_TIMEOUT:-2400}
boot_timeout_s=${VM_BOOT_TIMEOUT:-180}

banner() { printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'; printf '!!! %s\n' "$@"; printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n'; }
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }   # seconds between two stamps
die() { banner "vm-test FAILED: $1" "${@:2}" >&2; exit 1; }

if [ "${VM_TESTS:-}" = skip ]; then
  banner "VM_TESTS=skip: the stock-kernel suites did NOT run." \
         "Nothing was tested on a distribution kernel (VLAN filtering, nf_tables before 6.5)."
  exit 0
fi

exec_cmd=""
if [ "${1:-}" = --exec ]; then exec_cmd=${2:?--exec needs a command}; set -- exec; fi
suites=("$@")
[ ${#suites[@]} -gt 0 ] || read -r -a suites <<<"${VM_SUITES:-30-datapath 40-options 45-vlan-bridges 50-firewall}"
for i in "${!suites[@]}"; do
  s=${suites[$i]##*/}; s=${s%.bats}; suites[$i]=$s
  [ -n "$exec_cmd" ] || [ -f "$repo/tests/integration/$s.bats" ] || die "no such suite: tests/integration/$s.bats"
done

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || die "qemu-system-x86_64 is not installed, so the stock-kernel tests cannot run." \
  "Install it with: make deps (or: apt-get install --no-install-recommends qemu-system-x86)" \
  "To skip these tests on purpose: VM_TESTS=skip"
"$qemu" -version >/dev/null 2>&1 || die "$qemu does not start: $("$qemu" -version 2>&1 | head -3)" \
  "To skip these tests on purpose: VM_TESTS=skip"
[ -x "$repo/out/cniveth" ] || die "out/cniveth is missing: make build first"
case $accel in
  tcg) accel_args=(-accel tcg -cpu max) ;;
  kvm) [ -w /dev/kvm ] || die "VM_ACCEL=kvm but /dev/kvm is not usable"; accel_args=(-accel kvm -cpu host) ;;
  *) die "VM_ACCEL must be tcg or kvm, not '$accel'" ;;
esac

t_prep=$(date +%s.%N)
kdir=$(bash "$here/prepare.sh")
t_boot=$(date +%s.%N)
echo "vm-test: kernel $(cat "$kdir/kver") ready in $(diff_s "$t_boot" "$t_prep") s"

mkdir -p "$cache/runs"
run=$(mktemp -d "$cache/runs/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
printf 'REPO=%q\nSUITES=%q\nMODULES=%q\nEXEC=%q\n' "$repo" "${suites[*]}" "$kdir/modules" "$exec_cmd" >"$run/job.env"

"$qemu" -nodefaults -no-user-config -machine pc "${accel_args[@]}" -smp "${VM_CPUS:-2}" -m "${VM_MEM:-2048}" \
  -kernel "$kdir/vmlinuz" -initrd "$kdir/initramfs.img" \
  -append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init" \
  -display none -monitor none -serial "file:$run/console.log" -no-reboot \
  -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
  -fsdev local,id=results,path="$run",security_model=none \
  -device virtio-9p-pci,fsdev=results,mount_tag=results \
  </dev/null >"$run/qemu.log" 2>&1 &
qpid=$!
touch "$run/console.log"
tail -n +1 -F --pid="$qpid" "$run/console.log" 2>/dev/null | sed -u 's/^/  vm| /' &
tpid=$!

# Watchdog: the guest must mount the host within VM_BOOT_TIMEOUT and finish within VM_TIMEOUT.
why=""
start=$SECONDS
while kill -0 "$qpid" 2>/dev/null; do
  if [ ! -e "$run/boot-uptime" ] && [ $((SECONDS - start)) -ge "$boot_timeout_s" ]; then
    why="the guest did not come up within ${boot_timeout_s} s"
  elif [ $((SECONDS - start)) -ge "$timeout_s" ]; then
    why="the run exceeded VM_TIMEOUT=${timeout_s} s"
  fi
  if [ -n "$why" ]; then kill "$qpid" 2>/dev/null || true; sleep 2; kill -9 "$qpid" 2>/dev/null || true; break; fi
  sleep 1
done
set +e; wait "$qpid"; qrc=$?; set -e
wait "$tpid" 2>/dev/null || true
t_end=$(date +%s.%N)

# ---- report --------------------------------------------------------------------------------------
total_pass=0 total_fail=0 bad=()
echo
read -r l1 l5 l15 _ </proc/loadavg   # TCG is CPU-bound: times mean little on a busy host
echo "vm-test: results on $(cat "$kdir/kver") ($accel, ${VM_CPUS:-2} vCPUs, ${VM_MEM:-2048} MiB; host load $l1 $l5 $l15 on $(nproc) CPUs)"
for s in "${suites[@]}"; do
  if [ ! -e "$run/$s.rc" ]; then printf '  %-16s did not run to the end\n' "$s"; bad+=("$s"); continue; fi
  p=$(grep -c '^ok ' "$run/$s.tap" || true); f=$(grep -c '^not ok ' "$run/$s.tap" || true)
  sk=$(grep -c '^ok .* # skip' "$run/$s.tap" || true)
  total_pass=$((total_pass + p - sk)); total_fail=$((total_fail + f))
  read -r _ t0 t1 < <(grep "^$s " "$run/times")
  printf '  %-16s %4d passed %3d failed %3d skipped  %7s s  (exit %s)\n' "$s" $((p - sk)) "$f" "$sk" \
    "$(diff_s "$t1" "$t0")" "$(cat "$run/$s.rc")"
  [ "$(cat "$run/$s.rc")" = 0 ] && [ "$f" -eq 0 ] || bad+=("$s")
done
[ -e "$run/boot-uptime" ] && printf '  guest up (host mounted) after %.1f s of guest time\n' "$(cat "$run/boot-uptime")"
echo "  qemu wall time $(diff_s "$t_end" "$t_boot") s (prepare $(diff_s "$t_boot" "$t_prep") s before it)"
echo "vm: $total_pass passed, $total_fail failed"
if [ -n "$why" ] || [ ! -e "$run/status" ]; then
  echo "vm-test: last lines of the guest console:"; tail -n 25 "$run/console.log" | sed 's/^/  console| /'
fi
[ -z "$why" ] || die "$why"
[ -e "$run/fatal" ] && die "guest init failed: $(cat "$run/fatal")"
[ -e "$run/status" ] || die "the guest stopped before finishing (qemu exit $qrc; crash or panic?)" \
  "qemu said: $(tail -3 "$run/qemu.log")"
[ ${#bad[@]} -eq 0 ] || die "failing suites in the VM: ${bad[*]}"
