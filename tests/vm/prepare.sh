#!/usr/bin/env bash
# Prepares a stock Debian 12 kernel and a small initramfs for tests/vm/run.sh, in a cache directory.
# Nothing is installed on the host: the kernel package is downloaded with apt-get and unpacked there.
# Prints the cache's kernel directory on stdout (vmlinuz, initramfs.img, modules/lib/modules/<ver>).
# A second run with the same inputs (kernel package version, this script, the guest init) does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${VM_CACHE:-$(cd "$here/../.." && pwd)/.vm-cache}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9                       # two runs at once share one cache

# The image package linux-image-amd64 currently points at, e.g. linux-image-6.1.0-57-amd64.
image_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1; }
pkg=$(image_pkg)
if [ -z "$pkg" ]; then apt-get update -qq >&2; pkg=$(image_pkg); fi
[ -n "$pkg" ] || { echo "vm prepare: apt-cache knows no linux-image-amd64 (not a Debian system?)" >&2; exit 1; }
version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
key="$pkg $version $(cat "$here/prepare.sh" "$here/init" | sha256sum | cut -c1-16)"
# one folder per set of inputs: a run still using an older one (another checkout) is not disturbed
out="$cache/kernel-$(echo "$key" | sha256sum | cut -c1-12)"
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ]; then touch "$out"; echo "$out"; exit 0; fi

echo "vm prepare: building $pkg $version (cache $out)" >&2
rm -rf "$out" "$cache/tmp"
mkdir -p "$cache/tmp/deb" "$out"
(cd "$cache/tmp/deb" && apt-get download -q=2 "$pkg" 2>&1 | grep -v 'unsandboxed as root' >&2 || true)
deb=$(ls "$cache/tmp/deb/"*.deb)
mkdir -p "$cache/tmp/root"
# only the module folders the selection below can draw from (the whole tree is 400 MB)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$cache/tmp/root" --wildcards './boot/vmlinuz-*' \
  './lib/modules/*/modules.*' './lib/modules/*/kernel/'{net,drivers/net,drivers/virtio,fs,lib,crypto,arch}'/*'
kver=$(ls "$cache/tmp/root/lib/modules")
src="$cache/tmp/root/lib/modules/$kver"
cp "$cache/tmp/root/boot/vmlinuz-$kver" "$out/vmlinuz"

# Modules the tests can make the kernel load (bridge, veth, 8021q, nf_tables and its expressions,
# conntrack/NAT, tc, ifb; the sock_diag ones strace needs to decode netlink; crc32c, which libcrc32c
# asks the crypto API for), the ones the guest needs to reach the host's files (virtio, 9p, overlay),
# and everything they depend on (the "depends=" field of each module's .modinfo section).
wanted_re='^kernel/(net/(bridge|8021q|802|llc|netfilter|ipv4/netfilter|ipv6/netfilter|sched|netlink|unix|packet)/|net/ipv4/(inet|tcp|udp)_diag\.ko|net/9p/9pnet(_virtio)?\.ko|drivers/net/(veth|ifb|dummy)\.ko|drivers/virtio/|fs/(9p|overlayfs|netfs|fscache)/|crypto/crc32c_generic\.ko|arch/x86/crypto/crc32c-intel\.ko)'
boot_mods="virtio_pci 9pnet_virtio 9p overlay"
declare -A path_of=() deps=()
# one grep over all candidates: "kernel/net/bridge/bridge.ko:depends=stp,llc"
while IFS= read -r line; do
  f=${line%%:depends=*}; n=${f##*/}; n=${n%.ko}; n=${n//-/_}
  path_of[$n]=$f; d=${line#*:depends=}; deps[$n]=${d//,/ }
done < <(cd "$src" && find kernel -name '*.ko' -print0 | xargs -0 grep -a -o -H 'depends=[^[:cntrl:]]*')
# closure NAMES... -> prints the relative paths of the modules and of everything they depend on
closure() {
  local -A seen=()
  local queue=("$@") n d
  while [ ${#queue[@]} -gt 0 ]; do
    n=${queue[-1]//-/_}; unset 'queue[-1]'
    [ -n "${seen[$n]:-}" ] && continue
    [ -n "${path_of[$n]:-}" ] || { echo "vm prepare: module $n is not in $pkg (or not unpacked)" >&2; return 1; }
    seen[$n]=1; echo "${path_of[$n]}"
    for d in ${deps[$n]}; do queue+=("$d"); done
  done
}
sel=()
for n in "${!path_of[@]}"; do [[ ${path_of[$n]} =~ $wanted_re ]] && sel+=("$n"); done
closure "${sel[@]}" >"$cache/tmp/keep.list"
mods="$out/modules/lib/modules/$kver"
mkdir -p "$mods"
tar -C "$src" -cf - -T "$cache/tmp/keep.list" modules.builtin modules.builtin.modinfo modules.order | tar -C "$mods" -xf -
busybox depmod -b "$out/modules" "$kver"
echo "vm prepare: kept $(wc -l <"$cache/tmp/keep.list") modules, $(du -sh "$out/modules" | cut -f1)" >&2

# initramfs: static busybox, the modules needed to mount the host's / over 9p (the rest are read from
# there), and the init script. busybox cpio writes the newc archive the kernel unpacks.
ir="$cache/tmp/initramfs"
mkdir -p "$ir"/{bin,sbin,dev,proc,sys,host,results,rw,newroot,"lib/modules/$kver"}
cp /bin/busybox "$ir/bin/busybox"
for a in sh mount umount mkdir modprobe insmod chroot poweroff sleep cat echo ln sync uname tee; do
  ln -s busybox "$ir/bin/$a"
done
ln -s ../bin/busybox "$ir/sbin/modprobe"
install -m 0755 "$here/init" "$ir/init"
closure $boot_mods >"$cache/tmp/boot.list"
tar -C "$src" -cf - -T "$cache/tmp/boot.list" | tar -C "$ir/lib/modules/$kver" -xf -
cp "$src/modules.builtin" "$src/modules.order" "$ir/lib/modules/$kver/"
busybox depmod -b "$ir" "$kver"
(cd "$ir" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 >"$out/initramfs.img")
echo "$kver" >"$out/kver"
rm -rf "$cache/tmp"
echo "$key" >"$out/key"
find "$cache" -maxdepth 1 -name 'kernel-*' ! -path "$out" -mmin +120 -exec rm -rf {} +   # unused for 2 h
echo "$out"
