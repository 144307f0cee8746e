#!/usr/bin/env bash
# bench/attachops.sh: the kernel's time per rtnetlink request of an ADD/DEL with N ports already on the
# bridge (bench/attachops.c), for several N side by side, in a private network + mount namespace.
#   LEVELS ("0 250 1000"; a level written like 1000x: its host-side veths get IPv6 disabled before their
#   container side comes up, the measured one included, while the bridge keeps IPv6; 1000n or 1000xn:
#   the new host end is never looked up between its creation and the wait for it: addressed by name)
#   K (100 rounds) IPV6 (1; 0 = disable IPv6 in the whole host namespaces)
set -euo pipefail
cd "$(dirname "$0")/.."
LEVELS=${LEVELS:-"0 250 1000"} K=${K:-100} IPV6=${IPV6:-1}
for n in $LEVELS; do n=${n%n}; [ "${n%x}" -le 1022 ] || { echo "attachops: a bridge holds at most 1023 ports" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/cniveth-attachops.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -Wall -Wextra -Werror -o "$WORK/attachops" bench/attachops.c
export LEVELS K IPV6 WORK
unshare --net --mount --propagation private --fork -- bash -c '
set -euo pipefail
mount -t tmpfs tmpfs /run; mkdir -p /run/netns
args=()
for level in $LEVELS; do
  n=${level%n}; n=${n%x}
  ip netns add h$level; ip -n h$level link set lo up
  [ "$IPV6" = 1 ] || ip netns exec h$level sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n h$level link add cni0 type bridge; ip -n h$level addr add 10.88.0.1/16 dev cni0; ip -n h$level link set cni0 up
  ip netns add cb$level
  # N attachments: host end on the bridge and up, peer eth0 up in its own container namespace
  for i in $(seq 1 "$n"); do echo "netns add c$level-$i"; done | ip -batch -
  for i in $(seq 1 "$n"); do echo "link add v$i type veth peer name eth0 netns c$level-$i"; echo "link set v$i master cni0 up"; done | ip -n h$level -batch -
  if [ "${level%n}" != "$n" ]; then
    ip netns exec h$level sh -c "for i in \$(seq 1 $n); do echo 1 > /proc/sys/net/ipv6/conf/v\$i/disable_ipv6; done"
  fi
  for i in $(seq 1 "$n"); do ip -n c$level-$i link set eth0 up; done
  spec=/run/netns/h$level:/run/netns/cb$level
  [ "${level%n}" = "$n" ] || spec=$spec:nov6
  [ "${level%n}" = "$level" ] || spec=$spec:byname
  args+=("$spec")
done
echo "attachops: K=$K rounds, IPv6 $([ "$IPV6" = 1 ] && echo on || echo off), namespaces: ${args[*]}" >&2
"$WORK/attachops" "$K" "${args[@]}"
'
