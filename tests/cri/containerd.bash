# containerd 1.6 with its CRI plugin, in a sandbox of its own, driven over CRI by tests/cri/cri.py.
# Sourced by tests/integration/*-cri*.bats, tests/cri/bench-cri.sh and tests/cluster/*.
#
#   cri_prepare DIR [PLUGIN]
#                          DIR (on the host's /tmp) gets bin/ (containerd's CNI bin_dir: PLUGIN, default
#                          $CNIVETH, as cniveth, plus the reference plugins) and net.d/ (its conf_dir, empty:
#                          write a conflist there). The pause image and the client's generated stubs go to
#                          $CRI_CACHE_DIR when set (made once, shared by several sandboxes), else to DIR.
#   cri_start DIR [NETNS]  starts the sandbox: new mount + pid namespaces (tmpfs over /run, /var/lib/cni,
#                          /etc/cni) and a new network namespace, or the existing one at the path NETNS;
#                          inside it containerd (root, state, socket, config of its own), then imports the
#                          pause image. Sets CRI_INIT_PID (the sandbox's pid 1, as seen from here).
#                          DIR/containerd.env, if present, holds KEY=VALUE lines added to containerd's
#                          otherwise clean environment (libcni hands containerd's environment to plugins).
#   cri_in CMD...          runs CMD inside the sandbox (its mount, network and pid namespaces)
#   cri ARGS...            the CRI client against the sandbox's containerd (see tests/cri/cri.py)
#   cri_stop               stops containerd by PID, which ends the sandbox (its pid 1 waits for containerd
#                          only) and every shim and pause process with it; removes the pods' cgroups
#
# Why the pieces are the way they are (measured on this kind of machine):
#  - CAP_SYS_RESOURCE is not in this machine's bounding set: the CRI asks runc for oomScoreAdj -998 on the
#    pause process, which fails without it; restrict_oom_score_adj = true keeps it at ours.
#  - The CRI execs plugins from bin_dir only, so the reference plugins a conflist chains are linked in.
#  - Nothing is pulled: a static pause is packed into a one-layer OCI image tarball and imported.
#  - Pods' cgroups (cgroupfs driver) outlive the sandbox: they go under a parent of our own, removed here.

CRI_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CRI_PAUSE_IMAGE=localhost/cniveth/pause:test
CRI_SOCKET=/run/cri/containerd.sock    # inside the sandbox
CRI_REF_DIR=${REF_CNI_DIR:-/usr/lib/cni}
CRI_INIT_PID=""
CRI_DIR=""
CRI_STUBS=""
CRI_IMAGE_TAR=""

cri_prepare() {
  local dir=$1 plugin=${2:-$CNIVETH} p cache=${CRI_CACHE_DIR:-$1}
  mkdir -p "$dir/bin" "$dir/net.d" "$cache/stubs"
  cp "$plugin" "$dir/bin/cniveth"
  # the reference plugins a conflist may chain (and the reference bridge + host-local for comparisons);
  # cniveth's IPAM "host-local" is built in, so bin/host-local is the reference one
  for p in "$CRI_REF_DIR"/*; do ln -sf "$p" "$dir/bin/$(basename "$p")"; done
  CRI_STUBS="$cache/stubs"
  # the first run generates the stubs (protoc); --help then exits before any call
  CRI_STUBS_DIR="$CRI_STUBS" /usr/bin/python3 "$CRI_SRC_DIR/cri.py" --help >/dev/null
  CRI_IMAGE_TAR="$cache/pause-image.tar"
  _cri_pause_image "$cache"
}

# _cri_pause_image DIR: DIR/pause-image.tar, an OCI image layout (oci-layout, index.json, blobs) with one
# uncompressed layer holding /pause, named $CRI_PAUSE_IMAGE for `ctr images import`.
_cri_pause_image() {
  local dir=$1 w="$1/pause-image"
  [ -s "$dir/pause-image.tar" ] && return 0
  rm -rf "$w" && mkdir -p "$w/rootfs" "$w/oci/blobs/sha256"
  gcc -static -Os -o "$w/rootfs/pause" "$CRI_SRC_DIR/pause.c"
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$w/rootfs" -cf "$w/layer.tar" pause
  local layer lsize config csize manifest msize
  layer=$(sha256sum "$w/layer.tar" | cut -d' ' -f1); lsize=$(stat -c %s "$w/layer.tar")
  mv "$w/layer.tar" "$w/oci/blobs/sha256/$layer"
  jq -cn --arg diff "sha256:$layer" '{architecture: "amd64", os: "linux",
      config: {Entrypoint: ["/pause"], WorkingDir: "/"},
      rootfs: {type: "layers", diff_ids: [$diff]}}' > "$w/config.json"
  config=$(sha256sum "$w/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$w/config.json")
  mv "$w/config.json" "$w/oci/blobs/sha256/$config"
  jq -cn --arg c "sha256:$config" --argjson cs "$csize" --arg l "sha256:$layer" --argjson ls "$lsize" '
      {schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
       config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
       layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' > "$w/manifest.json"
  manifest=$(sha256sum "$w/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$w/manifest.json")
  mv "$w/manifest.json" "$w/oci/blobs/sha256/$manifest"
  jq -cn --arg m "sha256:$manifest" --argjson ms "$msize" --arg name "$CRI_PAUSE_IMAGE" '
      {schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: $m, size: $ms, platform: {architecture: "amd64", os: "linux"},
        annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": "test"}}]}' \
      > "$w/oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$w/oci/oci-layout"
  tar -C "$w/oci" -cf "$dir/pause-image.tar" oci-layout index.json blobs
  rm -rf "$w"
}

# _cri_config DIR: containerd's config. CRI_EXTRA_TOML is appended (e.g. more runtime handlers).
_cri_config() {
  local dir=$1
  cat > "$dir/config.toml" <<EOF
version = 2
root = "/run/cri/root"
state = "/run/cri/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CRI_SOCKET"
[debug]
  level = "${CRI_LOG_LEVEL:-info}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$CRI_PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$dir/bin"
    conf_dir = "$dir/net.d"
    max_conf_num = 1
${CRI_EXTRA_TOML:-}
EOF
}

# The sandbox's pid 1: private tmpfs mounts, containerd with a clean environment, the image import; then
# it waits for containerd only, so stopping containerd ends the pid namespace and everything in it.
_CRI_INIT='
set -euo pipefail
dir=$1 image=$2
for m in /run /var/lib/cni /etc/cni; do mkdir -p "$m"; mount -t tmpfs -o mode=0755 tmpfs "$m"; done
mkdir -p /run/cri /run/netns /run/lock
ip link set lo up
extra=()
[ ! -f "$dir/containerd.env" ] || mapfile -t extra < "$dir/containerd.env"
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${extra[@]}" \
  containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
cpid=$!
for _ in $(seq 1 300); do [ -S /run/cri/containerd.sock ] && break; sleep 0.05; done
ctr --address /run/cri/containerd.sock -n k8s.io images import "$image" >"$dir/import.log" 2>&1 &&
  touch "$dir/ready" || touch "$dir/failed"
wait "$cpid"
'

# cri_start DIR [NETNS]
cri_start() {
  local dir=$1 netns=${2:-} launcher=()
  CRI_DIR=$dir
  rm -f "$dir/ready" "$dir/failed"
  _cri_config "$dir"
  # a unique cgroup parent: the pods' cgroups are removed by name afterwards
  export CRI_CGROUP_PARENT="/cniveth-cri-$$-${RANDOM}"
  echo "$CRI_CGROUP_PARENT" > "$dir/cgroup-parent"
  # --pdeathsig + --kill-child: should the caller die without cri_stop, the sandbox dies with it
  launcher=(setpriv --pdeathsig KILL)
  [ -z "$netns" ] || launcher+=(nsenter "--net=$netns")
  launcher+=(unshare --mount --pid --mount-proc --propagation private --fork --kill-child)
  [ -n "$netns" ] || launcher+=(--net)
  "${launcher[@]}" -- bash -c "$_CRI_INIT" cri-init "$dir" "$CRI_IMAGE_TAR" </dev/null >"$dir/init.log" 2>&1 3>&- &
  local launcher_pid=$! i
  disown "$launcher_pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    CRI_INIT_PID=$(pgrep -P "$launcher_pid" || true)
    [ -n "$CRI_INIT_PID" ] && break
    sleep 0.05
  done
  [ -n "$CRI_INIT_PID" ] || { echo "cri_start: the sandbox did not start: $(cat "$dir/init.log")" >&2; return 1; }
  echo "$CRI_INIT_PID" > "$dir/init.pid"
  for ((i = 0; i < 600; i++)); do
    [ -e "$dir/ready" ] && return 0
    if [ -e "$dir/failed" ] || ! kill -0 "$CRI_INIT_PID" 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "cri_start: containerd is not ready: $(tail -5 "$dir/init.log" "$dir/import.log" "$dir/containerd.log" 2>&1)" >&2
  return 1
}

cri_in() { nsenter -t "$CRI_INIT_PID" -m -n -p -- "$@"; }

cri() {
  cri_in env CRI_STUBS_DIR="$CRI_STUBS" CRI_CGROUP_PARENT="$CRI_CGROUP_PARENT" \
    /usr/bin/python3 "$CRI_SRC_DIR/cri.py" --socket "$CRI_SOCKET" "$@"
}

# containerd's pid, as seen from here
cri_containerd_pid() { pgrep -P "$CRI_INIT_PID" -x containerd; }

cri_stop() {
  [ -n "$CRI_INIT_PID" ] || return 0
  local cpid i
  cpid=$(cri_containerd_pid || true)
  [ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do kill -0 "$CRI_INIT_PID" 2>/dev/null || break; sleep 0.05; done
  # containerd did not stop in 5 s (or was gone): SIGKILL to pid 1 ends the namespace all the same
  kill -KILL "$CRI_INIT_PID" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$CRI_INIT_PID" 2>/dev/null || break; sleep 0.05; done
  CRI_INIT_PID=""
  _cri_remove_cgroups "$(cat "$CRI_DIR/cgroup-parent" 2>/dev/null)"
}

# _cri_remove_cgroups PARENT: the pods' cgroups in every hierarchy (v1 controllers and v2); a dying
# process can hold its cgroup for a moment, hence the retries
_cri_remove_cgroups() {
  local parent=${1#/} d i
  [ -n "$parent" ] || return 0
  for ((i = 0; i < 20; i++)); do
    local left=0
    for d in /sys/fs/cgroup/"$parent" /sys/fs/cgroup/*/"$parent"; do
      [ -d "$d" ] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || left=1
    done
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  echo "cri_stop: cgroups left under $parent" >&2
}
