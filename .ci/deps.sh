#!/usr/bin/env bash
# Installs the Debian packages that tests, the demo and the benchmarks use, when missing.
# (busybox-static and qemu-system-x86: the stock-kernel VM of tests/vm, whose kernel prepare.sh fetches.)
set -euo pipefail
need=()
for pkg in iproute2 iputils-ping nftables jq bats util-linux procps containernetworking-plugins \
           containerd runc podman hyperfine strace iptables gcc libc6-dev python3 \
           busybox-static curl python3-grpcio python3-grpc-tools python3-protobuf qemu-system-x86 time; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
