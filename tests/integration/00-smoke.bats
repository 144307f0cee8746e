#!/usr/bin/env bats
load helpers

setup() { basic_setup; }
teardown() { basic_teardown; }

@test "binary runs without CNI_COMMAND and names itself on stderr" {
  run --separate-stderr "$CNIVETH"
  assert_status 0
  [ -z "$output" ] || fail "stdout must stay empty, got: $output"
  assert_match "$stderr" "cniveth"
}
