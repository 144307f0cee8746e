#!/usr/bin/env bash
# make bench: cniveth vs the reference bridge + host-local vs a raw-rtnetlink floor, in one run.
# Compiles the C driver and floor client, then runs bench/bench.py inside a private network + mount
# namespace (the machine's own network, firewall and /var/lib/cni are never touched), prints the
# table and writes it to docs/BENCHMARKS.md (between the results markers).
#
# Knobs (environment): BENCH_N (200) containers per plugin for ADD/CHECK/DEL; BENCH_SCALE
# ("10000 60000") pre-filled reservations; BENCH_SCALE_N (30) calls per scale point; BENCH_BURST
# ("32 64"); BENCH_BURST_REPS (3); BENCH_PHASES ("plain masq scale burst"); BENCH_DOCS (1; 0 = do not
# touch docs/BENCHMARKS.md); BENCH_NOTE (a line printed above the results); BENCH_RAW (a path: keep the per-call data there, TSV); BENCH_CNIVETH (out/cniveth); BENCH_REF_DIR (/usr/lib/cni); CC (gcc).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CNIVETH=$(realpath "${BENCH_CNIVETH:-out/cniveth}")
REF_DIR=${BENCH_REF_DIR:-/usr/lib/cni}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
[ -x "$CNIVETH" ] || { echo "bench: $CNIVETH missing: make build" >&2; exit 1; }
for b in bridge host-local; do [ -x "$REF_DIR/$b" ] || { echo "bench: $REF_DIR/$b missing (containernetworking-plugins)" >&2; exit 1; }; done
for t in ip iptables python3 unshare "${CC:-gcc}"; do command -v "$t" >/dev/null || { echo "bench: $t missing (make deps)" >&2; exit 1; }; done

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
  unshare --net --mount --propagation private --fork -- python3 bench/bench.py

[ -z "${BENCH_RAW:-}" ] || cp "$WORK/raw.tsv" "$BENCH_RAW"
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
