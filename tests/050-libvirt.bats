#!/usr/bin/env bats
# libvirt path: the shipped domain XMLs, installed exactly as `make install SYSTEM=1` does,
# driven by virsh against a real libvirtd, with ivshmd pinning the peer IDs.
#
#   ivshmd (/run/ivshm/ivshmd.sock.{server,client}, group kvm)
#     |-- libvirtd -> QEMU (libvirt-qemu:kvm) ivshm-server  peer 1
#     '-- libvirtd -> QEMU (libvirt-qemu:kvm) ivshm-client  peer 2

load helpers/libvirt

setup_file() {
	"$IVSHM_TOP/host/libvirt/ensure-libvirtd"
	make -s -C "$IVSHM_TOP" install SYSTEM=1 >/dev/null
}

teardown() {
	libvirt_cleanup
}

@test "every shipped domain XML is valid for virt-xml-validate" {
	local n=0 f
	for f in "$IVSHM_TOP"/vm-configs/*.xml; do
		run -0 virt-xml-validate "$f" domain
		n=$((n + 1))
	done
	[ "$n" -ge 2 ]
}

@test "shipped XMLs use the installed image, the pinned sockets and TCG" {
	local role
	for role in server client; do
		run -0 cat "$IVSHM_TOP/vm-configs/ivshm-$role.xml"
		assert_output --partial "<domain type='qemu'>"
		assert_output --partial "<server path='$IVSHM_SOCKET.$role'/>"
		assert_output --partial "<kernel>$IVSHM_IMAGE_DIR/vmlinuz</kernel>"
		assert_output --partial "ivshm.role=$role"
		assert_file_exists "$IVSHM_IMAGE_DIR/vmlinuz"
		assert_file_exists "$IVSHM_IMAGE_DIR/initrd.img"
	done
}

@test "make demo runs the exchange under libvirt and leaves nothing behind" {
	run -0 timeout 300 make -s -C "$IVSHM_TOP" demo
	assert_line --partial "Content: Hello from server!"
	assert_line --partial "Setting new content in shared memory"
	assert_line --partial "New content: Hello from client, too!"
	assert_line "ivshm-demo: exchange complete"
	# Both transcripts, server first, each in the seed's order.
	assert_in_order "$output" "transcript of ivshm-server" "Hello from server!" \
		"New content: Hello from client, too!" "transcript of ivshm-client" \
		"Content: Hello from server!" "Setting new content in shared memory"
	assert_no_domain_left
	assert_no_ivshmd_left
}

@test "make demo BACKEND=qemu runs the same exchange with the plain-QEMU launcher" {
	run -0 timeout 300 make -s -C "$IVSHM_TOP" demo BACKEND=qemu
	assert_line --partial "Content: Hello from server!"
	assert_line --partial "New content: Hello from client, too!"
	assert_line "ivshm-demo: exchange complete"
	assert_no_domain_left
}

@test "restarting a domain keeps its pinned peer ID and the exchange runs again" {
	system_ivshmd_start
	virsh -q define /usr/local/share/ivshm/vm-configs/ivshm-server.xml
	virsh -q define /usr/local/share/ivshm/vm-configs/ivshm-client.xml
	local round
	for round in 1 2; do
		run_exchange_round
		run -0 guest_log server
		assert_line --regexp '^shm-server: device [^ ]+, peer ID 1, '
		assert_line "New content: Hello from client, too!"
		run -0 guest_log client
		assert_line --regexp '^shm-client: device [^ ]+, peer ID 2, server peer ID 1$'
		assert_line 'IVSHM-GUEST-EXIT status=0'
	done
}

@test "the serial console is a pty for virsh console and is logged to a file" {
	system_ivshmd_start
	virsh -q define /usr/local/share/ivshm/vm-configs/ivshm-server.xml
	virsh -q start ivshm-server
	wait_for 60 eval "guest_log server 2>/dev/null | grep -q 'waiting for a client'"
	run -0 virsh -q ttyconsole ivshm-server
	assert_output --regexp '^/dev/pts/[0-9]+$'
	[ -c "$output" ]
	run -0 guest_log server
	assert_line --regexp '^IVSHM-GUEST-READY kernel=[^ ]+ uio=1$'
	assert_line --regexp "$IVSHM_CONSOLE_READY_RE"
}

@test "a socket QEMU may not open fails virsh start with a clear, surfaced error" {
	# ivshmd with the wrong group: libvirt-qemu:kvm cannot connect to a root:root 0660 socket.
	system_ivshmd_start --group root
	run -1 timeout 120 "$IVSHM_TOP/host/demo/ivshm-demo"
	assert_output --partial "virsh start ivshm-server failed"
	assert_output --partial "Permission denied"
	assert_output --partial "hint: QEMU runs as libvirt-qemu:kvm"
	assert_no_domain_left
}
