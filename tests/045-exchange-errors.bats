#!/usr/bin/env bats
# The exchange programs fail cleanly: one guest, alone on ivshmd, plus an
# ivshmem-plain device; every step must exit non-zero with a clear message.
#
#   ivshmd (fresh 4 MiB) --ivshmem-doorbell--> uio0 \
#   host file (1 MiB)    --ivshmem-plain-----> uio1  > one guest, no peer
#
# Last, the doorbell device is unbound under a pending wait, then the plain one, so
# "unbound while waiting" and "no device at all" are covered in the same boot.

load helpers/exchange

setup_file() {
	exchange_setup_file 2
	truncate -s 1M "$SCRATCH/plain"

	local script
	script=$(cat <<-'EOF'
		s() { echo "step=$1 status=$2"; }
		shm-client -t 2000; s client-alone $?
		shm-server -t 2000; s server-alone $?
		ivshm-info peers | sed 's/^/dir:/'
		shm-server -t 20000 & srv=$!
		server_live() { ivshm-info peers | grep -q 'role=shm-server state=live'; }
		poll_until 20 server_live
		shm-client -t 1000; s client-self $?
		kill $srv; wait $srv
		ivshm-info write 0 'ELF'; s write $?
		shm-client -t 2000; s client-foreign $?
		ivshm-info -d uio1 | sed 's/^/plain:/'
		ivshm-info -d uio1 wait -t 1000; s plain-wait $?
		shm-server -d uio1 -t 1000; s plain-server $?
		ivshm-pingpong pong -d uio1 -t 1000; s plain-pong $?
		ivshm-info -d /dev/uio7; s missing-device $?
		ivshm-info -d 0000:00:1f.6; s missing-pci $?
		shm-server -t 1000 --vector 9; s bad-vector $?
		shm-client --timeout 1s; s bad-timeout $?
		id=$(ivshm-info | sed -n 's/^peer_id=//p')
		count1() { ivshm-info | sed -n 's/^counter1=//p'; }
		marked() { ivshm-info read 3145728 | grep -q '^data=waiting'; }
		ivshm-info wait -t 20000 -V 1 -a 2 -m 3145728 >/tmp/coal & w=$!
		poll_until 20 marked
		c0=$(count1)
		ivshm-info ring "$id" 1 >/dev/null
		# The second doorbell once the first is an interrupt: they cannot merge on the host.
		rang() { [ "$(count1)" -gt "$c0" ]; }
		poll_until 20 rang
		ivshm-info ring "$id" 1 >/dev/null
		wait $w; s coalesced $?
		sed 's/^/coal:/' /tmp/coal
		unbind() { basename "$(readlink /sys/class/uio/$1/device)" >/sys/bus/pci/drivers/uio_ivshmem/unbind; }
		ivshm-info wait -t 20000 -m 3145728 & w=$!
		poll_until 20 marked
		unbind uio0; wait $w; s unbound-wait $?
		unbind uio1
		shm-server -t 1000; s no-device $?
	EOF
	)
	guest_start solo "$script" --socket "$IVSHMD_SOCK" --vectors 2 --plain "$SCRATCH/plain:1M"
	guest_wait solo
}

teardown_file() {
	scratch_teardown
}

setup() {
	run -0 transcript solo
}

@test "the guest ran every step" {
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_line 'step=no-device status=1'
}

@test "client started without a server: clear error after its timeout" {
	assert_in_order solo \
		'shm-client: error: no server found in shared memory after 2000 ms' \
		'step=client-alone status=1'
	refute_line 'Content: Hello from server!'
}

@test "server started without a client: clear timeout, publication withdrawn" {
	assert_in_order solo \
		'shm-server: wrote "Hello from server!", waiting for a client (timeout 2000 ms)' \
		'shm-server: error: timed out after 2000 ms waiting for the client' \
		'step=server-alone status=1'
	assert_line --regexp '^dir:peer id=[0-9]+ role=shm-server state=gone vector=0 generation=[0-9]+$'
	refute_line --regexp '^dir:.*state=live'
}

@test "a client never takes its own guest's server for the server" {
	assert_in_order solo \
		'shm-client: error: no server found in shared memory after 1000 ms' \
		'step=client-self status=1'
	refute_line 'Content: Hello from server!'
}

@test "foreign data where the directory belongs: clear error, nothing followed" {
	assert_in_order solo \
		'step=write status=0' \
		"shm-client: error: looking for the server: Structure needs cleaning (shared memory header magic 0x464c45 is not libivshm's)" \
		'step=client-foreign status=1'
}

@test "ivshmem-plain guest: wait, server and pingpong say it is not supported" {
	assert_line 'plain:mode=plain'
	assert_line 'plain:peer_id=none'
	assert_line 'plain:vectors=0'
	assert_in_order solo \
		'ivshm-info: error: wait: Operation not supported (...)' \
		'step=plain-wait status=1' \
		'shm-server: error: doorbell device uio1: Operation not supported (...)' \
		'step=plain-server status=1' \
		'ivshm-pingpong: error: doorbell device uio1: Operation not supported (...)' \
		'step=plain-pong status=1'
}

@test "missing device by name or PCI address, and no device at all: clear errors" {
	assert_in_order solo \
		'ivshm-info: error: cannot open ivshmem device /dev/uio7: No such device (...)' \
		'step=missing-device status=1' \
		'ivshm-info: error: cannot open ivshmem device 0000:00:1f.6: No such device (...)' \
		'step=missing-pci status=1'
	assert_in_order solo \
		'shm-server: error: cannot open ivshmem device (first): No such device (...)' \
		'step=no-device status=1'
}

@test "two interrupts before a wait are one wake-up that says one was coalesced" {
	assert_in_order solo \
		'step=coalesced status=0' \
		'coal:fired mask=0x2 vectors=1 coalesced=1'
}

@test "device unbound under a pending wait: the wait ends at once with a clear error" {
	assert_in_order solo \
		'ivshm-info: error: wait: No such device (...)' \
		'step=unbound-wait status=1'
}

@test "a vector the device lacks and a malformed option: clear errors" {
	assert_in_order solo \
		'shm-server: error: vector 9: the device has 2 vectors' \
		'step=bad-vector status=1' \
		'shm-client: error: --timeout: 1s is not a number' \
		'step=bad-timeout status=2'
}
