#!/usr/bin/env bats
# The host C's pure logic under cmocka (host/tests/): protocol framing with
# hostile streams, the client session's sequence rules, ivshmd's send queue,
# command line, pidfile (against planted, linked and reader-locked files),
# ID allocation and the daemonizing parent's signals. Each binary runs twice: plain and under
# ASan+UBSan (make -C host unit builds both). A binary must run as many cases
# as its source defines test functions (static void NAME(void **state)), so a
# case written but never registered fails here.

setup_file() {
	load helpers/common
	make -s -C "$IVSHM_TOP/host" unit >&2
}

setup() {
	load helpers/common
	UNIT=$IVSHM_BUILD/tests/unit/host
}

# run_unit NAME [asan/]: run one cmocka binary and check it ran every listed case.
run_unit() {
	local name=$1 dir=${2:-} src="$IVSHM_TOP/host/tests/$1.c" want
	want=$(grep -cE '^static void [a-z0-9_]+\(void \*\*state\)$' "$src")
	[ "$want" -gt 0 ]
	run -0 timeout 60 "$UNIT/$dir$name"
	assert_line "[==========] $want test(s) run."
	assert_line "[  PASSED  ] $want test(s)."
	refute_line --partial '[  FAILED  ]'
	refute_output --regexp 'AddressSanitizer|LeakSanitizer|runtime error'
}

@test "every host unit test source has a binary, plain and sanitized, and nothing else" {
	run -0 bash -c "cd '$IVSHM_TOP/host/tests' && ls test-*.c | sed 's/\.c$//' | sort"
	local sources=$output
	run -0 bash -c "cd '$UNIT' && ls -p | grep -v / | sort"
	assert_equal "$output" "$sources"
	run -0 bash -c "cd '$UNIT/asan' && ls -p | grep -v / | sort"
	assert_equal "$output" "$sources"
	run -0 nm "$UNIT/asan/test-proto"
	assert_output --partial "__asan_init"
	assert_output --partial "__ubsan_handle"
}

@test "unit: protocol framing (partial reads, fds, foreign control messages, EOF)" { run_unit test-proto; }
@test "unit: client session sequence rules" { run_unit test-session; }
@test "unit: ivshmd send queue and fd references" { run_unit test-sendq; }
@test "unit: ivshmd command line (QEMU's short options and spellings)" { run_unit test-opts; }
@test "unit: ivshmd path references and pidfile" { run_unit test-pidfile; }
@test "unit: ivshmd peer IDs (upward, wrapping)" { run_unit test-ids; }
@test "unit: ivshmd daemonizing parent (readiness, SIGINT and SIGTERM)" { run_unit test-daemon; }

@test "unit under ASan+UBSan: protocol framing" { run_unit test-proto asan/; }
@test "unit under ASan+UBSan: session" { run_unit test-session asan/; }
@test "unit under ASan+UBSan: send queue" { run_unit test-sendq asan/; }
@test "unit under ASan+UBSan: command line" { run_unit test-opts asan/; }
@test "unit under ASan+UBSan: pidfile" { run_unit test-pidfile asan/; }
@test "unit under ASan+UBSan: peer IDs" { run_unit test-ids asan/; }
@test "unit under ASan+UBSan: daemonizing parent" { run_unit test-daemon asan/; }

@test "make -C host check runs every unit test and stops at the first failure" {
	run -0 make -s -C "$IVSHM_TOP/host" check
	assert_equal "$(grep -c '^  TEST ' <<<"$output")" $((2 * $(ls "$IVSHM_TOP"/host/tests/test-*.c | wc -l)))
	refute_line --partial '[  FAILED  ]'
}
