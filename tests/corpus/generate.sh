#!/usr/bin/env bash
# Generates the malformed-input corpus: one OUTDIR/NAME.case per case. Deterministic (no randomness).
# Case format (also used by tests/corpus/hand/*.case):
#   expect CODE            the CNI error code the plugin must answer with
#   env NAME=VALUE         sets a CNI_* variable (defaults: ADD, a container, eth0, a valid CNI_PATH)
#   unset NAME             removes a variable from the environment
#   --                     everything after this line is stdin, byte for byte
# Placeholders replaced by tests/integration/80-bad-input.bats: @DATADIR (the test's dataDir), @NETNS (a
# container netns), @OWNNS (the plugin's own netns), @FILE (a regular file), @DIR (a plain directory),
# @MISSING (a path that does not exist), @SYMDIR (a symlink to a directory outside the dataDir), @FIFO (a
# named pipe nobody writes to), @TMP.
# Usage: generate.sh OUTDIR
set -euo pipefail
out=${1:?usage: generate.sh OUTDIR}
mkdir -p "$out"

BASE='{"cniVersion":"1.1.0","name":"corpus","type":"cniveth","bridge":"cnicorpus0","isGateway":true,"ipam":{"type":"host-local","dataDir":"@DATADIR","routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"10.98.0.0/24"}]]}}'

# case NAME CODE [env/unset lines...] ; stdin on the function's stdin
case_() {
  local name=$1 code=$2; shift 2
  {
    echo "expect $code"
    local l; for l in "$@"; do echo "$l"; done
    echo "--"
    cat
  } >"$out/$name.case"
}
# jcase NAME CODE JQ_FILTER [env lines...] : the base config transformed by jq
jcase() {
  local name=$1 code=$2 filter=$3; shift 3
  jq -c "$filter" <<<"$BASE" | case_ "$name" "$code" "$@"
}

# ---- broken JSON (code 6: decode failure) ------------------------------------------------------
for len in 0 1 2 10 25 50 80 120 160 200; do
  printf '%s' "${BASE:0:$len}" | case_ "json-truncated-$len" 6
done
printf '%s' "$BASE garbage" | case_ json-trailing-garbage 6
printf '%s' "$BASE}" | case_ json-extra-brace 6
printf '%s' "${BASE//\"/\'}" | case_ json-single-quotes 6
printf '%s' '{"cniVersion":"1.1.0","name":"x",}' | case_ json-trailing-comma 6
printf '%s' '{"cniVersion":"1.1.0" "name":"x"}' | case_ json-missing-comma 6
printf '%s' '{"cniVersion":"1.1.0","name":"x","mtu":NaN}' | case_ json-nan 6
printf '%s' '{"cniVersion":"1.1.0",/*c*/"name":"x"}' | case_ json-comment 6
printf '%s' '   ' | case_ json-whitespace-only 6
printf '%s' 'null' | case_ json-null 6
printf '%s' '[]' | case_ json-array 6
printf '%s' '123' | case_ json-number 6
printf '%s' '"cniveth"' | case_ json-string 6
printf '%s' 'true' | case_ json-bool 6
printf '{"cniVersion":"1.1.0","name":"\xff\xfe"}' | case_ json-invalid-utf8 6
printf '{"cniVersion":"1.1.0","name":"a\x01b"}' | case_ json-control-char 6
printf '\x00\x00\x00\x00' | case_ json-nul-bytes 6
printf '%s' '{"cniVersion":"1.1.0","name":"x","ipam":{' | case_ json-unclosed-object 6
printf '%s' '{"cniVersion":"1.1.0","name":"unterminated' | case_ json-unterminated-string 6
printf '%s' '{"cniVersion":"1.1.0","name":"x\u"}' | case_ json-bad-escape 6

# ---- huge and deeply nested -------------------------------------------------------------------
for depth in 65 1000 100000; do
  { printf '{"cniVersion":"1.1.0","name":"deep","type":"cniveth","x":'; head -c "$depth" </dev/zero | tr '\0' '['; head -c "$depth" </dev/zero | tr '\0' ']'; printf '}'; } \
    | case_ "nested-array-$depth" 6
done
{ printf '{"cniVersion":"1.1.0","name":"deep","type":"cniveth","x":'; for ((i = 0; i < 200; i++)); do printf '{"a":'; done; printf '1'; for ((i = 0; i < 200; i++)); do printf '}'; done; printf '}'; } \
  | case_ nested-object-200 6
# over the 1 MiB stdin limit: refused before parsing (I/O failure: the input is not read)
{ printf '{"cniVersion":"1.1.0","name":"huge","type":"cniveth","pad":"'; head -c 1100000 </dev/zero | tr '\0' 'a'; printf '"}'; } | case_ huge-string-over-limit 5
{ printf '{"cniVersion":"1.1.0","name":"huge","type":"cniveth","pad":['; for ((i = 0; i < 600000; i++)); do printf '1,'; done; printf '1]}'; } | case_ huge-array-over-limit 5
# under the limit but absurd: a 900 kB network name (valid characters: the directory cannot be made)
jcase huge-name 5 '.name = ("n" * 900000)'
jcase huge-bridge-name 7 '.bridge = ("b" * 100000)'
jcase huge-ranges-list 7 '.ipam.ranges = [range(5000) | [{"subnet":"10.98.0.0/24"}]]'

# ---- wrong types ------------------------------------------------------------------------------
jcase type-cniversion-number 6 '.cniVersion = 1.1'
jcase type-name-number 6 '.name = 5'
jcase type-name-object 6 '.name = {}'
jcase type-type-array 6 '.type = []'
jcase type-bridge-object 6 '.bridge = {}'
jcase type-bridge-number 6 '.bridge = 0'
jcase type-isgateway-string 6 '.isGateway = "yes"'
jcase type-isgateway-number 6 '.isGateway = 1'
jcase type-ipmasq-string 6 '.ipMasq = "true"'
jcase type-hairpin-number 6 '.hairpinMode = 1'
jcase type-mtu-string 6 '.mtu = "1500"'
jcase type-mtu-float 6 '.mtu = 1500.5'
jcase type-mtu-huge 6 '.mtu = 1e20'
jcase type-mtu-bool 6 '.mtu = true'
jcase type-vlan-string 6 '.vlan = "10"'
jcase type-vlan-float 6 '.vlan = 1.5'
jcase type-ipam-string 6 '.ipam = "host-local"'
jcase type-ipam-array 6 '.ipam = []'
jcase type-ipam-type-number 6 '.ipam.type = 1'
jcase type-ranges-object 6 '.ipam.ranges = {}'
jcase type-ranges-flat 6 '.ipam.ranges = [{"subnet":"10.98.0.0/24"}]'
jcase type-ranges-strings 6 '.ipam.ranges = [["10.98.0.0/24"]]'
jcase type-subnet-number 6 '.ipam.ranges[0][0].subnet = 10'
jcase type-subnet-null 7 '.ipam.ranges[0][0].subnet = null'
jcase type-routes-string 6 '.ipam.routes = "0.0.0.0/0"'
jcase type-routes-numbers 6 '.ipam.routes = [1,2]'
jcase type-route-dst-number 6 '.ipam.routes = [{"dst":0}]'
jcase type-dns-string 6 '.dns = "8.8.8.8"'
jcase type-dns-nameservers-string 6 '.dns = {"nameservers":"8.8.8.8"}'
jcase type-datadir-number 6 '.ipam.dataDir = 5'
jcase type-runtimeconfig-string 6 '.runtimeConfig = "x"'
jcase type-args-string 6 '.args = "x"'
jcase type-macspoofchk-string 6 '.macspoofchk = "on"'
jcase type-vlantrunk-object 6 '.vlanTrunk = {}'
jcase type-promisc-string 6 '.promiscMode = "1"'

# ---- invalid CIDRs and ranges (code 7) ----------------------------------------------------------
i=0
for s in "10.98.0.0" "10.98.0.0/33" "300.0.0.0/24" "10.98.0.0/-1" "10.98.0.0/abc" "::/129" "abc" "" "10.98.0/24" \
         "10.98.0.0/24/24" " 10.98.0.0/24" "10.98.0.0 /24" "0x0a.0.0.0/8" "10.98.0.0/32" "10.98.0.0/31" "fe80::/128" \
         "10.98.0.0/08" "1.2.3.4.5/24" "::ffff:10.98.0.0/120" "10.98.0.0/0x18"; do
  jcase "cidr-subnet-$i" 7 ".ipam.ranges[0][0].subnet = \"$s\""; i=$((i + 1))
done
jcase range-start-outside 7 '.ipam.ranges[0][0].rangeStart = "10.97.0.10"'
jcase range-end-outside 7 '.ipam.ranges[0][0].rangeEnd = "10.99.0.10"'
jcase range-end-before-start 7 '.ipam.ranges[0][0] += {"rangeStart":"10.98.0.100","rangeEnd":"10.98.0.10"}'
jcase range-start-garbage 7 '.ipam.ranges[0][0].rangeStart = "ten"'
jcase range-end-garbage 7 '.ipam.ranges[0][0].rangeEnd = "10.98.0.300"'
jcase range-gateway-garbage 7 '.ipam.ranges[0][0].gateway = "gw"'
jcase range-overlap-in-set 7 '.ipam.ranges[0] += [{"subnet":"10.98.0.0/25"}]'
jcase range-overlap-sets 7 '.ipam.ranges += [[{"subnet":"10.98.0.128/25"}]]'
jcase range-empty-set 7 '.ipam.ranges = [[]]'
jcase range-no-ranges 7 '.ipam.ranges = []'
jcase range-no-ranges-key 7 'del(.ipam.ranges)'
jcase range-only-gateway-host 999 '.ipam.ranges[0][0] += {"subnet":"10.98.0.0/30","rangeStart":"10.98.0.1","rangeEnd":"10.98.0.1","gateway":"10.98.0.1"}'
jcase route-dst-garbage 7 '.ipam.routes = [{"dst":"everywhere"}]'
jcase route-gw-garbage 7 '.ipam.routes = [{"dst":"0.0.0.0/0","gw":"router"}]'
jcase route-dst-prefix-33 7 '.ipam.routes = [{"dst":"0.0.0.0/33"}]'
jcase route-missing-dst 7 '.ipam.routes = [{"gw":"10.98.0.1"}]'
jcase legacy-subnet-garbage 7 'del(.ipam.ranges) | .ipam.subnet = "nope"'
jcase mtu-negative 7 '.mtu = -1'
jcase mtu-too-small 7 '.mtu = 10'
jcase mtu-too-large 7 '.mtu = 70000'
jcase vlan-too-large 7 '.vlan = 5000'
jcase vlan-negative 7 '.vlan = -2'
jcase mac-garbage 7 '.capabilities = {"mac":true} | .runtimeConfig = {"mac":"zz:zz:zz:zz:zz:zz"}'
jcase mac-multicast 7 '.capabilities = {"mac":true} | .runtimeConfig = {"mac":"01:00:5e:00:00:01"}'
jcase mac-args-garbage 7 '.args = {"cni":{"mac":"c2:11:22:33:44"}}'
jcase bridge-name-slash 7 '.bridge = "br/0"'
jcase bridge-name-too-long 7 '.bridge = "abcdefghijklmnopq"'
jcase bridge-name-dotdot 7 '.bridge = ".."'
jcase bridge-name-space 7 '.bridge = "br 0"'

# ---- mixed address families (code 7) -------------------------------------------------------------
jcase mixed-v6-start-in-v4 7 '.ipam.ranges[0][0].rangeStart = "fd00::10"'
jcase mixed-v6-gateway-in-v4 7 '.ipam.ranges[0][0].gateway = "fd00::1"'
jcase mixed-v4-gateway-in-v6 7 '.ipam.ranges[0][0] = {"subnet":"fd00:98::/64","gateway":"10.98.0.1"}'
jcase mixed-families-in-set 7 '.ipam.ranges[0] += [{"subnet":"fd00:98::/64"}]'
jcase mixed-v6-end-in-v4 7 '.ipam.ranges[0][0].rangeEnd = "fd00::20"'
jcase mixed-route-gw-family 7 '.ipam.routes = [{"dst":"0.0.0.0/0","gw":"fd00::1"}]'
jcase mixed-two-v4-sets-same-family 7 '.ipam.ranges += [[{"subnet":"10.97.0.0/24"}]] | .ipam.ranges += [[{"subnet":"10.98.0.0/24"}]]'

# ---- network names ---------------------------------------------------------------------------------
i=0
for nm in "../x" "a/b" "/abs" ".." "." ".hidden" "-x" "_x" "a b" "x\n" "ä" "a\\b" "a:b" "../../../../etc" "lock/.." \
          "a\u0000b" "a\tb" "\u202e" "*" "\$(id)"; do
  jcase "netname-$i" 7 ".name = \"$nm\""; i=$((i + 1))
done
jcase netname-empty 7 '.name = ""'
jcase netname-missing 7 'del(.name)'

# ---- container ids (code 4; an empty one is "unknown container", 3) ----------------------------------
i=0
for cid in "../x" "a/b" "/abs" ".." "a b" "a;b" ".hidden" "-x" "ä" "a:b" "a*b" "\$(id)" "../../etc/passwd"; do
  case_ "cid-$i" 4 "env CNI_CONTAINERID=$cid" <<<"$BASE"; i=$((i + 1))
done
case_ cid-long-path 4 "env CNI_CONTAINERID=$(printf 'a/%.0s' {1..200})" <<<"$BASE"
case_ cid-empty-del 4 "env CNI_COMMAND=DEL" "env CNI_CONTAINERID=" <<<"$BASE"

# ---- interface names (code 4) ----------------------------------------------------------------------
i=0
for ifn in "a/b" ".." "." "eth 0" "eth0:1" "abcdefghijklmnop" "ethernet0123456789" "ä12345678901234" "../x" "eth0/"; do
  case_ "ifname-$i" 4 "env CNI_IFNAME=$ifn" <<<"$BASE"; i=$((i + 1))
done
case_ ifname-empty 4 "env CNI_IFNAME=" <<<"$BASE"

# ---- dataDir -----------------------------------------------------------------------------------------
jcase datadir-relative 7 '.ipam.dataDir = "relative/dir"'
jcase datadir-dot 7 '.ipam.dataDir = "./x"'
jcase datadir-dotdot 7 '.ipam.dataDir = "../x"'
jcase datadir-tilde 7 '.ipam.dataDir = "~/x"'
jcase datadir-symlink-network 5 '.ipam.dataDir = "@DATADIR/link-parent" | .name = "corpus"'
jcase datadir-file 5 '.ipam.dataDir = "@FILE"'
jcase datadir-under-file 5 '.ipam.dataDir = "@FILE/sub"'
jcase datadir-proc 5 '.ipam.dataDir = "/proc/self"'
jcase datadir-nul 7 '.ipam.dataDir = "@DATADIR\u0000x"'

# ---- netns (4: not usable, 3: gone) -----------------------------------------------------------------
case_ netns-file 4 "env CNI_NETNS=@FILE" <<<"$BASE"
case_ netns-dir 4 "env CNI_NETNS=@DIR" <<<"$BASE"
case_ netns-fifo 4 "env CNI_NETNS=@FIFO" <<<"$BASE"   # must not block in open(2)
case_ netns-missing 3 "env CNI_NETNS=@MISSING" <<<"$BASE"
case_ netns-own 4 "env CNI_NETNS=@OWNNS" <<<"$BASE"
case_ netns-own-self 4 "env CNI_NETNS=/proc/self/ns/net" <<<"$BASE"
case_ netns-relative 3 "env CNI_NETNS=ns/net" <<<"$BASE"
case_ netns-devnull 4 "env CNI_NETNS=/dev/null" <<<"$BASE"
case_ netns-mntns 4 "env CNI_NETNS=/proc/self/ns/mnt" <<<"$BASE"
case_ netns-empty 4 "env CNI_NETNS=" <<<"$BASE"

# ---- CNI_ARGS (code 4 when malformed; 7 when a requested IP/MAC is unusable, like host-local) -----------
i=0
for a in "=" "a" "a=b;c" "=x" "K8S_POD_NAME" "IgnoreUnknown=maybe" "a==b" "Unknown=1"; do
  case_ "cniargs-$i" 4 "env CNI_ARGS=$a" <<<"$BASE"; i=$((i + 1))
done
for a in "IP=notanip" "IgnoreUnknown=1;IP=300.1.1.1" "IgnoreUnknown=1;MAC=zz:zz" "IgnoreUnknown=1;IP=10.98.1.5" \
         "IgnoreUnknown=1;IP=fd00::1" "IgnoreUnknown=1;IP=010.98.0.5" "IgnoreUnknown=1;IP=10.98.5"; do
  case_ "cniargs-$i" 7 "env CNI_ARGS=$a" <<<"$BASE"; i=$((i + 1))
done

# ---- garbage prevResult, on CHECK and ADD: 6 for wrong JSON types, 7 for bad values -----------------------
i=0
for p in '"x"' '5' '[]' '{"ips":"x"}' '{"ips":[{"address":"10.98.0.2/24","interface":"0"}]}' '{"interfaces":"x"}' \
         '{"interfaces":[{"name":5}]}' '{"dns":"x"}' '{"cniVersion":5}' '{"ips":[{"address":5}]}'; do
  jcase "prevresult-type-check-$i" 6 ".prevResult = $p" "env CNI_COMMAND=CHECK"
  jcase "prevresult-type-add-$i" 6 ".prevResult = $p"
  i=$((i + 1))
done
i=0
for p in '{"ips":[{"address":"nope"}]}' '{"ips":[{"address":"10.98.0.2/24","gateway":"gw"}]}' '{"routes":[{"dst":"x"}]}' \
         '{"ips":[{"address":"10.98.0.2/33"}]}' '{"ips":[{"address":"0x0a.98.0.2/24"}]}' '{"routes":[{"dst":"0.0.0.0/0","gw":"10.1"}]}'; do
  jcase "prevresult-value-check-$i" 7 ".prevResult = $p" "env CNI_COMMAND=CHECK"
  jcase "prevresult-value-add-$i" 7 ".prevResult = $p"
  i=$((i + 1))
done
# parses, but names no interface of this attachment: CHECK fails (999, like the reference's CHECK mismatches)
jcase prevresult-check-foreign-interface 999 '.prevResult = {"cniVersion":"1.1.0","interfaces":[{"name":"eth9","sandbox":"/x"}],"ips":[{"address":"10.98.0.2/24","interface":0}]}' "env CNI_COMMAND=CHECK"

# ---- environment and versions ------------------------------------------------------------------------
case_ env-command-unknown 4 "env CNI_COMMAND=ADDD" <<<"$BASE"
case_ env-command-lowercase 4 "env CNI_COMMAND=add" <<<"$BASE"
case_ env-missing-containerid 4 "unset CNI_CONTAINERID" <<<"$BASE"
case_ env-missing-ifname 4 "unset CNI_IFNAME" <<<"$BASE"
case_ env-missing-path 4 "unset CNI_PATH" <<<"$BASE"
case_ env-missing-netns 4 "unset CNI_NETNS" <<<"$BASE"
case_ env-check-missing-netns 4 "env CNI_COMMAND=CHECK" "unset CNI_NETNS" <<<"$BASE"
case_ env-gc-missing-path 4 "env CNI_COMMAND=GC" "unset CNI_PATH" <<<"$BASE"
jcase version-unsupported 1 '.cniVersion = "2.0.0"'
jcase version-ancient 1 '.cniVersion = "0.0.1"'
jcase version-garbage 1 '.cniVersion = "one"'
jcase version-gc-1.0.0 1 '.cniVersion = "1.0.0"' "env CNI_COMMAND=GC"
jcase version-status-0.4.0 1 '.cniVersion = "0.4.0"' "env CNI_COMMAND=STATUS"

# ---- IPAM types that are paths (code 7: never exec'd outside CNI_PATH) ----------------------------------------
i=0
for t in "../host-local" "/bin/sh" "./x" "." ".." "a/b" "host-local/" "/usr/lib/cni/host-local"; do
  jcase "ipamtype-$i" 7 ".ipam.type = \"$t\""; i=$((i + 1))
done
jcase ipamtype-not-found 7 '.ipam.type = "no-such-ipam-plugin"'

echo "$(ls "$out" | wc -l) cases in $out"
