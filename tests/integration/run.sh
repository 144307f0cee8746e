#!/usr/bin/env bash
# Runs the black-box suites against the published binary (out/cniveth).
# Everything runs inside a private network + mount namespace made here, so the machine's own
# network, /var/lib/cni and /run are never touched. Usage: run.sh [suite.bats ...]
# BATS_FILTER=REGEX runs only the tests whose names match.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CNIVETH="$PWD/out/cniveth"
export CNIVETH_FAULTS="$PWD/out/faults/cniveth"   # dynamically linked, for LD_PRELOAD (make faults-build)
export TESTS_DIR="$PWD/tests/integration"
[ -x "$CNIVETH" ] || { echo "build first: make build" >&2; exit 1; }
if [ $# -eq 0 ]; then
  set -- $(ls tests/integration/*.bats | grep -v soak)
fi
log=$(mktemp)
set +e
unshare --net --mount --propagation private --fork -- bash -c '
  set -e
  for d in /var/lib/cni /run/netns /etc/cni /var/run/cniveth; do mkdir -p "$d"; mount -t tmpfs tmpfs "$d"; done
  ip link set lo up
  exec bats --tap --timing ${BATS_FILTER:+--filter "$BATS_FILTER"} "$@"
' bash "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
passed=$(grep '^ok ' "$log" | grep -vc ' # skip' || true)
skipped=$(grep -c '^ok .* # skip' "$log" || true)
failed=$(grep -c '^not ok ' "$log" || true)
rm -f "$log"
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
