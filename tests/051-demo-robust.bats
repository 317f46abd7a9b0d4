#!/usr/bin/env bats
# ivshm-demo under bad conditions: interrupted half way, prerequisites missing.
# Whatever happens, no domain, ivshmd or socket may be left behind.

load helpers/libvirt

setup_file() {
	"$IVSHM_TOP/host/libvirt/ensure-libvirtd"
	make -s -C "$IVSHM_TOP" install SYSTEM=1 >/dev/null
}

setup() {
	DEMO="$IVSHM_TOP/host/demo/ivshm-demo"
	OUT="$BATS_TEST_TMPDIR/demo.out"
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
	assert_no_domain_left
	assert_no_ivshmd_left
}

@test "a second demo right after a failed one starts from a clean slate" {
	# A leftover definition (as after a crash of the tool itself) is replaced.
	virsh -q define /usr/local/share/ivshm/vm-configs/ivshm-client.xml
	run -0 timeout 300 "$DEMO"
	assert_line "ivshm-demo: exchange complete"
	assert_no_domain_left
}

@test "a guest that exits non-zero fails the libvirt demo, which names it" {
	# The client domain runs a role its init does not know: it exits 1 at once.
	mkdir -p "$BATS_TEST_TMPDIR/configs"
	cp "$IVSHM_TOP/vm-configs/ivshm-server.xml" "$BATS_TEST_TMPDIR/configs/"
	sed 's/ivshm\.role=demo-client/ivshm.role=no-such-role/' "$IVSHM_TOP/vm-configs/ivshm-client.xml" \
		>"$BATS_TEST_TMPDIR/configs/ivshm-client.xml"
	run -1 timeout 300 "$DEMO" --configs "$BATS_TEST_TMPDIR/configs"
	assert_line --partial "$IVSHM_CONSOLE_ERROR unknown ivshm.role=no-such-role"
	assert_line "ivshm-demo: error: ivshm-client exited with status 1"
	refute_line "ivshm-demo: exchange complete"
	assert_no_domain_left
	assert_no_ivshmd_left
}

@test "a server guest that exits before it waits fails the libvirt demo at once" {
	mkdir -p "$BATS_TEST_TMPDIR/configs"
	cp "$IVSHM_TOP/vm-configs/ivshm-client.xml" "$BATS_TEST_TMPDIR/configs/"
	sed 's/ivshm\.role=demo-server/ivshm.role=no-such-role/' "$IVSHM_TOP/vm-configs/ivshm-server.xml" \
		>"$BATS_TEST_TMPDIR/configs/ivshm-server.xml"
	run -1 timeout 300 "$DEMO" --configs "$BATS_TEST_TMPDIR/configs" --timeout 100
	assert_line "ivshm-demo: error: ivshm-server exited with status 1 before it waited for a client"
	refute_line "ivshm-demo: booting ivshm-client"
	assert_no_domain_left
	assert_no_ivshmd_left
}

@test "a fetch through the proxies that fails fails the libvirt demo, which names the guest" {
	# The server guest runs the exchange alone: no proxy there, nothing to fetch from.
	# The client gives up after 5 s instead of the demo's 60.
	mkdir -p "$BATS_TEST_TMPDIR/configs"
	sed 's/ivshm\.role=demo-client/& ivshm.demo_wait=5/' "$IVSHM_TOP/vm-configs/ivshm-client.xml" \
		>"$BATS_TEST_TMPDIR/configs/ivshm-client.xml"
	grep -q 'ivshm.demo_wait=5' "$BATS_TEST_TMPDIR/configs/ivshm-client.xml"
	sed 's/ivshm\.role=demo-server/ivshm.role=server/' "$IVSHM_TOP/vm-configs/ivshm-server.xml" \
		>"$BATS_TEST_TMPDIR/configs/ivshm-server.xml"
	run -1 timeout 300 "$DEMO" --configs "$BATS_TEST_TMPDIR/configs"
	# The exchange itself went through.
	assert_line --partial "New content: Hello from client, too!"
	assert_line --partial "$IVSHM_CONSOLE_ERROR demo-web: no link to ivshm-server's proxy within 5s"
	assert_line "ivshm-demo: error: ivshm-client exited with status 1"
	refute_line --partial "fetched"
	refute_line "ivshm-demo: exchange complete"
	assert_no_domain_left
	assert_no_ivshmd_left
}

@test "a client guest that exits non-zero fails the plain-QEMU demo, which names it" {
	run -1 timeout 300 "$DEMO" --backend qemu --client-cmd 'shm-client -t 2000; exit 3'
	# The real client ran first and succeeded: only the script's status is wrong.
	assert_line --partial "Content: Hello from server!"
	assert_line "ivshm-demo: error: ivshm-client exited with status 3"
	refute_line "ivshm-demo: exchange complete"
	run -1 pgrep -f -- "-name ivshm-(server|client) .*$IVSHM_BUILD/demo/"
}

@test "--client-cmd is refused for libvirt, which takes domain XMLs instead" {
	run -1 "$DEMO" --client-cmd true
	assert_output --partial "--client-cmd is for --backend qemu"
	assert_no_ivshmd_left
}

@test "missing VM configs are named, nothing is started" {
	run -1 "$DEMO" --configs "$BATS_TEST_TMPDIR/none"
	assert_output --partial "$BATS_TEST_TMPDIR/none/ivshm-server.xml missing"
	assert_no_domain_left
	assert_no_ivshmd_left
}

@test "a missing ivshmd binary is named with the command that fixes it" {
	IVSHMD=/nonexistent/ivshmd run -1 "$DEMO"
	assert_output --partial "ivshmd not installed: run 'make install SYSTEM=1'"
}

@test "an unknown backend is refused" {
	run -1 "$DEMO" --backend xen
	assert_output --partial "unknown backend 'xen'"
}
