#!/usr/bin/env bats
# ivshm-demo under bad conditions: interrupted half way, prerequisites missing.
# Whatever happens, no domain, ivshmd or socket may be left behind.

setup_file() {
	load helpers/common
	"$IVSHM_TOP/host/libvirt/ensure-libvirtd"
	make -s -C "$IVSHM_TOP" install >/dev/null
}

setup() {
	load helpers/common
	load helpers/libvirt
	DEMO="$IVSHM_TOP/host/demo/ivshm-demo"
	OUT="$(scratch_dir)/demo.$$.out"
}

teardown() {
	[ -z "${demo_pid:-}" ] || kill "$demo_pid" 2>/dev/null || true
	libvirt_cleanup
}

@test "a demo killed while the server guest boots cleans up everything it started" {
	"$DEMO" >"$OUT" 2>&1 3>&- 4>&- &
	demo_pid=$!
	wait_for 60 grep -q 'booting ivshm-server' "$OUT"
	# Background jobs of a non-interactive shell ignore SIGINT; the demo traps
	# INT and TERM alike, so TERM stands in for Ctrl-C here.
	kill -TERM "$demo_pid"
	local rc=0
	wait "$demo_pid" || rc=$?
	assert_equal "$rc" 130
	demo_pid=
	run -0 virsh -q list --all --name
	refute_output --partial ivshm-
	assert_no_ivshmd_left
}

@test "a second demo right after a failed one starts from a clean slate" {
	# A leftover definition (as after a crash of the tool itself) is replaced.
	virsh -q define /usr/local/share/ivshm/vm-configs/ivshm-client.xml
	run -0 timeout 300 "$DEMO"
	assert_line "ivshm-demo: exchange complete"
	run -0 virsh -q list --all --name
	refute_output --partial ivshm-
}

@test "missing VM configs are named, nothing is started" {
	run -1 "$DEMO" --configs "$BATS_TEST_TMPDIR/none"
	assert_output --partial "$BATS_TEST_TMPDIR/none/ivshm-server.xml missing"
	run -0 virsh -q list --all --name
	refute_output --partial ivshm-
	assert_no_ivshmd_left
}

@test "a missing ivshmd binary is named with the command that fixes it" {
	IVSHMD=/nonexistent/ivshmd run -1 "$DEMO"
	assert_output --partial "ivshmd not installed: run 'make install'"
}

@test "an unknown backend is refused" {
	run -1 "$DEMO" --backend xen
	assert_output --partial "unknown backend 'xen'"
}
