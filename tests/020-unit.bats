#!/usr/bin/env bats
# The C components' pure logic under cmocka, each binary plain and under
# ASan+UBSan: common/ (number parsing, clock, protocol framing with hostile
# streams, the client session's sequence rules), libivshm (discovery against a
# fake sysfs tree, the peer directory and channels against hostile memory, ring
# arithmetic at the index wrap, counters), guest-apps (the programs' helpers),
# ivshmd (send queue, command line, pidfile, IDs, the daemonizing parent) and
# ivshm-proxy (frames of lying records, credit at the wrap, its buffer, the
# configuration, addresses). The binaries are discovered from the sources
# (COMPONENT/tests/test-*.c).

load helpers/unit

COMPONENTS="common libivshm guest-apps host proxy"

setup_file() {
	local c
	for c in $COMPONENTS; do
		make -s -C "$IVSHM_TOP/$c" unit >&2
	done
}

@test "every unit test source has a binary, plain and sanitized, and nothing else" {
	local c
	for c in $COMPONENTS; do
		run -0 unit_names "$c"
		local sources=$output
		[ -n "$sources" ]
		run -0 bash -c "cd '$IVSHM_BUILD/tests/unit/$c' && ls -p | grep -v / | LC_ALL=C sort"
		assert_equal "$output" "$sources"
		run -0 bash -c "cd '$IVSHM_BUILD/tests/unit/$c/asan' && ls -p | grep -v / | LC_ALL=C sort"
		assert_equal "$output" "$sources"
	done
	run -0 nm "$IVSHM_BUILD/tests/unit/common/asan/test-proto"
	assert_output --partial "__asan_init"
	assert_output --partial "__ubsan_handle"
}

@test "unit: common" { run -0 unit_run common; }
@test "unit: libivshm" { run -0 unit_run libivshm; }
@test "unit: guest-apps" { run -0 unit_run guest-apps; }
@test "unit: ivshmd" { run -0 unit_run host; }
@test "unit: ivshm-proxy" { run -0 unit_run proxy; }
@test "unit under ASan+UBSan: common" { run -0 unit_run common asan; }
@test "unit under ASan+UBSan: libivshm" { run -0 unit_run libivshm asan; }
@test "unit under ASan+UBSan: guest-apps" { run -0 unit_run guest-apps asan; }
@test "unit under ASan+UBSan: ivshmd" { run -0 unit_run host asan; }
@test "unit under ASan+UBSan: ivshm-proxy" { run -0 unit_run proxy asan; }

# The binaries themselves ran above: here the loop, through UNIT_RUN, not them again.
@test "make check of each component runs every unit test and stops at the first failure" {
	local c n
	for c in $COMPONENTS; do
		n=$(unit_names "$c" | wc -l)
		run -0 make -s -C "$IVSHM_TOP/$c" check UNIT_RUN=true
		assert_equal "$(grep -c '^  TEST ' <<<"$output")" $((2 * n))
		run -2 make -s -C "$IVSHM_TOP/$c" check UNIT_RUN=false
		assert_equal "$(grep -c '^  TEST ' <<<"$output")" 1
	done
}
