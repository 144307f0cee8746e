#!/usr/bin/env bats
# The CNI protocol contract, black-box: out/cniveth exec'd with a runtime's environment and stdin.
# Only outcomes decided before the plugin's own verb logic runs are asserted here (env, stdin, JSON,
# version and CNI_ARGS validation); the bridge and IPAM behaviour have their own suites.
load helpers

setup() {
  basic_setup
  new_container CONTAINER_NS
}
teardown() { basic_teardown; }

CONF='{"cniVersion":"1.1.0","name":"testnet","type":"cniveth"}'
# A prevResult that fails to parse: lets a test prove a request got past every earlier check
# (code 7 naming prevResult) without depending on the bridge implementation.
BAD_PREV='{"cniVersion":"1.0.0","name":"testnet","type":"cniveth","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"not-a-cidr"}]}}'

# raw_plugin VAR=VALUE... : the plugin with exactly the given environment (nothing inherited).
raw_plugin() {
  env -i PATH="$PATH" "$@" nsenter --net="$HOST_NS" "$CNIVETH"
}

assert_no_stack_trace() {
  [[ "$output" != *"   at "* && "$output" != *"Exception"* ]] || fail "stack trace / exception on stdout: $output"
  [[ "${stderr:-}" != *"   at "* && "${stderr:-}" != *"Exception"* ]] || fail "stack trace / exception on stderr: $stderr"
}

assert_passed_contract_checks() {
  assert_cni_error 7
  assert_json "$output" '.msg' 'prevResult.ips[0].address: invalid CIDR "not-a-cidr"'
}

@test "VERSION echoes the request's cniVersion and lists all seven versions (podman's dummy env)" {
  run --separate-stderr raw_plugin CNI_COMMAND=VERSION CNI_CONTAINERID= CNI_NETNS=dummy CNI_IFNAME=dummy CNI_PATH=dummy \
    <<<'{"cniVersion":"1.0.0"}'
  assert_status 0
  assert_json "$output" '.cniVersion' "1.0.0"
  assert_json "$output" '.supportedVersions | join(",")' "0.1.0,0.2.0,0.3.0,0.3.1,0.4.0,1.0.0,1.1.0"
  [ -z "$stderr" ] || fail "stderr not empty: $stderr"
}

@test "VERSION with empty stdin answers 1.1.0" {
  run raw_plugin CNI_COMMAND=VERSION </dev/null
  assert_status 0
  assert_json "$output" '.cniVersion' "1.1.0"
}

@test "no CNI_COMMAND: about text on stderr, nothing on stdout, exit 0" {
  run --separate-stderr raw_plugin </dev/null
  assert_status 0
  [ -z "$output" ] || fail "stdout must stay empty, got: $output"
  assert_match "$stderr" "^CNI plugin cniveth \(bridge\) v[0-9]+\.[0-9]+\.[0-9]+"
  assert_match "$stderr" "CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"
}

@test "invoked as host-local it names itself host-local" {
  [ -x "$(dirname "$CNIVETH")/host-local" ] || skip "out/host-local symlink not built"
  run --separate-stderr env -i "$(dirname "$CNIVETH")/host-local" </dev/null
  assert_status 0
  assert_match "$stderr" "host-local"
}

@test "unknown CNI_COMMAND is code 4" {
  run --separate-stderr raw_plugin CNI_COMMAND=ADDX <<<"$CONF"
  assert_status 1
  assert_cni_error 4
  assert_json "$output" '.msg' "unknown CNI_COMMAND: ADDX"
}

@test "errors are one JSON object on stdout with cniVersion, code, msg, details and exit 1" {
  run --separate-stderr raw_plugin CNI_COMMAND=ADD <<<"$CONF"
  assert_status 1
  assert_json "$output" 'keys | sort | join(",")' "cniVersion,code,details,msg"
  assert_json "$output" '.code | type' "number"
  [ -z "$stderr" ] || fail "stderr not empty: $stderr"
}

@test "missing variables are all named in one code-4 error" {
  run raw_plugin CNI_COMMAND=ADD <<<"$CONF"
  assert_cni_error 4
  assert_json "$output" '.msg' "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing"

  run raw_plugin CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_PATH=/opt/cni/bin <<<"$CONF"
  assert_json "$output" '.msg' "required env variables [CNI_NETNS,CNI_IFNAME] missing"
}

@test "DEL does not require CNI_NETNS; GC and STATUS only CNI_PATH" {
  run raw_plugin CNI_COMMAND=DEL <<<"$CONF"
  assert_cni_error 4
  assert_json "$output" '.msg' "required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_PATH] missing"
  run raw_plugin CNI_COMMAND=GC <<<"$CONF"
  assert_json "$output" '.msg' "required env variables [CNI_PATH] missing"
  run raw_plugin CNI_COMMAND=STATUS <<<"$CONF"
  assert_json "$output" '.msg' "required env variables [CNI_PATH] missing"
}

@test "container IDs outside [a-zA-Z0-9][a-zA-Z0-9_.-]* are code 4" {
  local id
  for id in "-leading-dash" "has space" "a/b" "semi;colon" "_under"; do
    run_plugin ADD "$id" "$CONTAINER_NS" eth0 "$CONF"
    assert_cni_error 4
    assert_json "$output" '.msg' "invalid characters in containerID"
  done
}

@test "bad interface names are code 4, each rule" {
  local name expected
  while IFS='|' read -r name expected; do
    run_plugin ADD c1 "$CONTAINER_NS" "$name" "$CONF"
    assert_cni_error 4
    assert_json "$output" '.msg' "$expected"
  done <<'CASES'
0123456789abcdef|interface name is too long
.|interface name is . or ..
..|interface name is . or ..
eth/0|interface name contains / or : or whitespace characters
eth:0|interface name contains / or : or whitespace characters
eth 0|interface name contains / or : or whitespace characters
CASES
  # a 15-byte name passes the check (the request then fails on prevResult, which comes later)
  run_plugin ADD c1 "$CONTAINER_NS" 0123456789abcde "$BAD_PREV"
  assert_passed_contract_checks
}

@test "network name missing or invalid is code 7" {
  run_plugin ADD c1 "$CONTAINER_NS" eth0 '{"cniVersion":"1.1.0","type":"cniveth"}'
  assert_cni_error 7
  assert_json "$output" '.msg' "missing network name"
  run_plugin ADD c1 "$CONTAINER_NS" eth0 '{"cniVersion":"1.1.0","name":"bad name","type":"cniveth"}'
  assert_cni_error 7
  assert_json "$output" '.msg' "invalid characters found in network name"
}

@test "unsupported cniVersion is code 1 listing the supported versions" {
  local v
  for v in 9.9.9 1.0 v1.1.0; do
    run_plugin ADD c1 "$CONTAINER_NS" eth0 "{\"cniVersion\":\"$v\",\"name\":\"testnet\",\"type\":\"cniveth\"}"
    assert_cni_error 1
    assert_json "$output" '.msg' "incompatible CNI versions"
    assert_json "$output" '.details' "config is \"$v\", plugin supports [\"0.1.0\" \"0.2.0\" \"0.3.0\" \"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]"
  done
}

@test "CHECK needs 0.4.0: 0.3.1 and a missing cniVersion (= 0.1.0) are code 1" {
  run_plugin CHECK c1 "$CONTAINER_NS" eth0 '{"cniVersion":"0.3.1","name":"testnet","type":"cniveth"}'
  assert_cni_error 1
  assert_json "$output" '.msg' 'config version "0.3.1" does not allow CHECK'
  run_plugin CHECK c1 "$CONTAINER_NS" eth0 '{"name":"testnet","type":"cniveth"}'
  assert_cni_error 1
  assert_json "$output" '.msg' 'config version "0.1.0" does not allow CHECK'
}

@test "GC and STATUS need 1.1.0: 1.0.0 is code 1" {
  local verb
  for verb in GC STATUS; do
    run_plugin "$verb" "" "" "" '{"cniVersion":"1.0.0","name":"testnet","type":"cniveth"}'
    assert_cni_error 1
    assert_json "$output" '.msg' "config version \"1.0.0\" does not allow $verb"
  done
}

@test "malformed JSON is code 6" {
  local bad
  for bad in '{"cniVersion":"1.1.0","name":' '' 'not json' '{"name":"x",}'; do
    run_plugin ADD c1 "$CONTAINER_NS" eth0 "$bad"
    assert_cni_error 6
    assert_match "$(jq -r .msg <<<"$output")" "^error decoding network config"
  done
}

@test "a field of the wrong type is code 6 naming the field" {
  run_plugin ADD c1 "$CONTAINER_NS" eth0 '{"cniVersion":"1.1.0","name":"testnet","type":"cniveth","isGateway":"yes"}'
  assert_cni_error 6
  assert_json "$output" '.msg' 'error decoding network config: field "isGateway": expected a boolean'
  run_plugin ADD c1 "$CONTAINER_NS" eth0 '{"cniVersion":"1.1.0","name":"testnet","type":"cniveth","ipam":{"type":"host-local","ranges":[[{"subnet":24}]]}}'
  assert_cni_error 6
  assert_json "$output" '.msg' 'error decoding network config: field "ipam.ranges[0][0].subnet": expected a string'
}

@test "unknown fields are tolerated" {
  run_plugin ADD c1 "$CONTAINER_NS" eth0 '{"cniVersion":"1.0.0","name":"testnet","type":"cniveth","capabilities":{"ips":true},"someFutureKey":{"a":[1,2]},"prevResult":{"ips":[{"address":"not-a-cidr"}]}}'
  assert_passed_contract_checks
}

@test "stdin larger than 1 MiB is refused" {
  local big="$TEST_TMP/big.json"
  { printf '{"cniVersion":"1.1.0","name":"testnet","type":"cniveth","pad":"'; head -c 1100000 /dev/zero | tr '\0' 'x'; printf '"}'; } >"$big"
  run plugin ADD c1 "$CONTAINER_NS" eth0 <"$big"
  assert_cni_error 5
  assert_match "$(jq -r .msg <<<"$output")" "larger than 1048576 bytes"
}

@test "bad CNI_ARGS: unknown key and malformed pair are code 4" {
  CNI_ARGS="FOO=bar" run_plugin ADD c1 "$CONTAINER_NS" eth0 "$BAD_PREV"
  assert_cni_error 4
  assert_json "$output" '.msg' 'ARGS: unknown args ["FOO=bar"]'
  CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=a=b" run_plugin ADD c1 "$CONTAINER_NS" eth0 "$BAD_PREV"
  assert_cni_error 4
  assert_json "$output" '.msg' 'ARGS: invalid pair "K8S_POD_NAME=a=b"'
  CNI_ARGS="IgnoreUnknown=maybe" run_plugin ADD c1 "$CONTAINER_NS" eth0 "$BAD_PREV"
  assert_cni_error 4
}

@test "Kubernetes CNI_ARGS are accepted without IgnoreUnknown; IgnoreUnknown=1 skips unknown keys" {
  CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=1234;" \
    run_plugin ADD c1 "$CONTAINER_NS" eth0 "$BAD_PREV"
  assert_passed_contract_checks
  CNI_ARGS="IgnoreUnknown=1;FOO=bar;MAC=02:00:0a:58:4d:c8;IP=10.88.77.200" run_plugin ADD c1 "$CONTAINER_NS" eth0 "$BAD_PREV"
  assert_passed_contract_checks
}

@test "CNI_NETNS equal to the plugin's own namespace is refused unless overridden; DEL there cleans the host side only" {
  # the plugin runs inside $HOST_NS (see helpers.bash), so that is its own namespace
  run_plugin ADD c1 "$HOST_NS" eth0 "$BAD_PREV"
  assert_cni_error 4
  assert_match "$(jq -r .msg <<<"$output")" "own network namespace"
  # a stale bind mount pointing at the host must not make an attachment undeletable, nor cost the host its eth0
  in_host ip link add eth0 type veth peer name eth0peer
  local before; before=$(in_host ip -j link show | jq -c '[.[].ifname]')
  run --separate-stderr plugin DEL c1 "$HOST_NS" eth0 <<<"$CONF"
  assert_status 0
  assert_match "$stderr" "own network namespace; DEL cleans up the host side only"
  [ "$(in_host ip -j link show | jq -c '[.[].ifname]')" = "$before" ] || fail "host interfaces changed"

  CNI_NETNS_OVERRIDE=1 run_plugin ADD c1 "$HOST_NS" eth0 "$BAD_PREV"
  assert_passed_contract_checks
  run_plugin ADD c1 "$CONTAINER_NS" eth0 "$BAD_PREV"
  assert_passed_contract_checks
}

@test "no stack trace on stdout or stderr, whatever fails" {
  local conf
  for conf in "$CONF" "$BAD_PREV" '{' '{"cniVersion":"1.1.0","name":"testnet","mtu":"x"}'; do
    run --separate-stderr plugin ADD c1 "$CONTAINER_NS" eth0 <<<"$conf"
    [ "$status" -eq 0 ] || jq -e '.code and .msg' <<<"$output" >/dev/null || fail "not a CNI error object: $output"
    assert_no_stack_trace
  done
  run --separate-stderr plugin DEL c1 "" eth0 <<<"$CONF"
  assert_no_stack_trace
}

@test "a reply redirected to a regular file is appended at the file's offset, not written over by the next writer" {
  local out="$BATS_TEST_TMPDIR/reply"
  { echo BEFORE; raw_plugin CNI_COMMAND=VERSION <<<'{"cniVersion":"1.0.0"}'; echo AFTER; } > "$out"
  [ "$(head -1 "$out")" = BEFORE ] || fail "$(cat "$out")"
  [ "$(tail -1 "$out")" = AFTER ] || fail "$(cat "$out")"
  sed '1d;$d' "$out" | jq -e '.cniVersion == "1.0.0"' >/dev/null || fail "reply damaged: $(cat "$out")"
}

@test "stdin given as a file is read from its current offset" {
  local in="$BATS_TEST_TMPDIR/request"
  printf 'skipped-prefix\n{"cniVersion":"0.4.0"}' > "$in"
  # the runtime already consumed the first line of the shared file description
  run --separate-stderr bash -c '{ read -r _; env -i PATH="$PATH" CNI_COMMAND=VERSION "$0"; } < "$1"' "$CNIVETH" "$in"
  assert_status 0
  assert_json "$output" '.cniVersion' "0.4.0"
}

@test "stdout closed: non-zero exit, one line on stderr, no stack trace" {
  run --separate-stderr bash -c 'env -i PATH="$PATH" CNI_COMMAND=VERSION "$0" <<<"{}" >&-' "$CNIVETH"
  [ "$status" -ne 0 ] || fail "exit 0 although the reply could not be written"
  [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "expected one stderr line, got: $stderr"
  assert_match "$stderr" "could not deliver the reply"
  assert_no_stack_trace
}
