#!/usr/bin/env bash
# make bench: cniveth vs the reference bridge + host-local vs a raw-rtnetlink floor, in one run.
# Compiles the C driver and floor client, then runs bench/bench.py inside a private network + mount
# namespace (the machine's own network, firewall and /var/lib/cni are never touched), prints the
# table and writes it to docs/BENCHMARKS.md (between the results markers).
#
# Knobs (environment; defaults in bench/bench.py, docs/BENCHMARKS.md lists them): BENCH_QUICK=1 (every
# phase, smaller: a few minutes), BENCH_N, BENCH_SCALE, BENCH_SCALE_N, BENCH_BURST, BENCH_BURST_REPS,
# BENCH_ATTACHED, BENCH_ATTACHED_N, BENCH_GC_STALE, BENCH_GC_REPS, BENCH_PHASES; BENCH_DOCS (1; 0 = do not
# touch docs/BENCHMARKS.md); BENCH_NOTE (a line printed above the results); BENCH_RAW (a path: keep the
# per-call data there, TSV); BENCH_CNIVETH (another binary: measured, and labelled as not the shipped one);
# BENCH_REF_DIR (/usr/lib/cni); BENCH_CRI (1; 0 = skip tests/cri/bench-cri.sh); CC (gcc).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
REF_DIR=${BENCH_REF_DIR:-/usr/lib/cni}
die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for b in bridge host-local; do [ -x "$REF_DIR/$b" ] || die "$REF_DIR/$b missing (containernetworking-plugins)"; done
for t in ip iptables python3 unshare readelf cmp "${CC:-gcc}"; do command -v "$t" >/dev/null || die "$t missing (make deps)"; done

# The binary: by default exactly what `make build` ships. out/cniveth must be the file the build rule
# copied from out/publish/ (not a hand-copied variant) and stripped (a build published with
# -p:StripSymbols=false for perf is 13 MB and starts slower: it must never be measured by mistake).
if [ -z "${BENCH_CNIVETH:-}" ]; then
  CNIVETH=$REPO/out/cniveth
  [ -x "$CNIVETH" ] || die "$CNIVETH missing: make build"
  cmp -s "$CNIVETH" out/publish/cniveth ||
    die "out/cniveth is not the file make build published (out/publish/cniveth): a hand-copied build? rm out/cniveth && make build"
  binary_label="out/cniveth as built by make build"
else
  CNIVETH=$(realpath "$BENCH_CNIVETH")
  [ -x "$CNIVETH" ] || die "$CNIVETH missing"
  binary_label="BENCH_CNIVETH=$BENCH_CNIVETH, not the make build binary"
fi
sections=$(readelf -S --wide "$CNIVETH" 2>/dev/null) || die "$CNIVETH: readelf cannot read it"
if grep -qE '\] \.(symtab|debug_info) ' <<<"$sections"; then
  [ -n "${BENCH_CNIVETH:-}" ] || die "$CNIVETH carries symbols (published with StripSymbols=false?): make clean build"
  binary_label="$binary_label, NOT stripped"
else
  binary_label="$binary_label, stripped"
fi
binary_info="$CNIVETH, $(stat -c %s "$CNIVETH" | awk '{printf "%.2f MB", $1 / 1e6}') ($binary_label, sha256 $(sha256sum "$CNIVETH" | cut -c1-12))"
echo "bench: measuring $binary_info" >&2

WORK=$(mktemp -d /tmp/cniveth-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin"
"${CC:-gcc}" -O2 -Wall -Wextra -Werror -o "$WORK/bin/driver" bench/driver.c
"${CC:-gcc}" -O2 -Wall -Wextra -Werror -o "$WORK/bin/floor" bench/floor.c

# the knobs the user set, for the "exact command" line
knobs=$(env | sed -n 's/^\(BENCH_[A-Z_]*\)=.*/\1/p' | tr '\n' ' ')
git_desc=$(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null || echo '?')
git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || git_desc="$git_desc (+ uncommitted changes in src/)"

BENCH_USER_KNOBS="$knobs" BENCH_REPO="$REPO" BENCH_WORK="$WORK" BENCH_CNIVETH="$CNIVETH" BENCH_REF_DIR="$REF_DIR" \
BENCH_GIT="$git_desc" BENCH_LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)" BENCH_HOST_NETNS="$(readlink /proc/self/ns/net)" \
BENCH_BINARY_INFO="$binary_info" \
  unshare --net --mount --propagation private --fork -- python3 bench/bench.py

[ -z "${BENCH_RAW:-}" ] || cp "$WORK/raw.tsv" "$BENCH_RAW"

# CRI timings (RunPodSandbox/StopPodSandbox through containerd) come from tests/cri/bench-cri.sh when it
# exists: it sets up its own sandbox; its stdout lines are included verbatim.
cri_script=tests/cri/bench-cri.sh
{
  echo; echo "### CRI (containerd RunPodSandbox / StopPodSandbox)"; echo
  if [ "${BENCH_CRI:-1}" = 0 ]; then
    echo "Skipped: BENCH_CRI=0."
  elif [ ! -f "$cri_script" ]; then
    echo "Skipped: $cri_script does not exist in this checkout."
  elif ! command -v containerd >/dev/null; then
    echo "Skipped: containerd is not installed (make deps)."
  else
    echo "bench: running $cri_script" >&2
    # quick mode: 5 pod cycles per plugin unless CRI_BENCH_N says otherwise (the script's default is 20)
    quick_rounds=()
    [ "${BENCH_QUICK:-0}" = 0 ] || [ -n "${CRI_BENCH_N:-}" ] || quick_rounds=(5)
    if out=$(CNIVETH="$CNIVETH" BENCH_QUICK="${BENCH_QUICK:-0}" timeout 1200 bash "$cri_script" "${quick_rounds[@]}"); then
      echo '```'; printf '%s\n' "$out"; echo '```'
    else
      rc=$?
      echo "$cri_script failed (exit $rc); its output:"; echo '```'; printf '%s\n' "$out"; echo '```'
    fi
  fi
} | tee -a "$WORK/results.md"
if [ "${BENCH_DOCS:-1}" != 0 ]; then
  python3 - "$WORK/results.md" docs/BENCHMARKS.md <<'EOF'
import sys
res, doc = open(sys.argv[1]).read(), sys.argv[2]
begin, end = "<!-- results:begin -->", "<!-- results:end -->"
text = open(doc).read()
a, b = text.index(begin) + len(begin), text.index(end)
open(doc, "w").write(text[:a] + "\n" + res + text[b:])
EOF
  echo "bench: results written to docs/BENCHMARKS.md" >&2
fi
