#!/usr/bin/env bats
# uio_ivshmem on two ivshmem-doorbell devices in one guest, served by a real ivshmd:
# peer IDs as ivshmd assigned them, one counter per MSI-X vector, and doorbells that
# move exactly the counter of the vector rung: host -> guest, device -> device inside
# the guest, and guest -> host.
#
#              ivshmd (-n 4, pinned IDs drv=7 and host=9)
#     sock.drv |            sock |               sock.host |
#   guest uio0 (ID 7)   guest uio1 (ID n)   ivshm-peer (ID 9, waits on vector 2)
#              ^
#              +-- ivshm-peer on sock rings 7:3 when uio0 waits

load helpers/driver

setup_file() {
	driver_setup_file -l 4M -n 4 -P drv=7 -P host=9

	timeout 200 "$IVSHM_BIN/ivshm-peer" -S "$SOCK.host" -n 4 -t 180 -W 2 \
		>"$SCRATCH/host-peer.log" 2>&1 3>&- 4>&- &
	echo $! >"$SCRATCH/host-peer.pid"
	wait_for_line 10 "$SCRATCH/host-peer.log" '^ready id=9 '

	local script
	script=$(cat <<-'EOF'
		for u in uio0 uio1; do
			d=/sys/class/uio/$u
			echo "$u: name=$(cat $d/name) mode=$(cat $d/device/ivshmem_mode)" \
				"vectors=$(cat $d/device/ivshmem_vectors) peer=$(cat $d/device/ivshmem_peer_id)"
			echo "$u: map1 name=$(cat $d/maps/map1/name) size=$(cat $d/maps/map1/size)"
			echo "$u: irqs $(grep -c "uio_ivshmem\[$(pci_of $u)\]" /proc/interrupts)"
			p start $u counters
		done
		armed host-ring uio0
		done_waiting host-ring uio0
		p host-ring uio0 counters
		p host-ring uio1 counters
		armed cross uio1
		p cross uio0 ring $(cat /sys/class/uio/uio1/device/ivshmem_peer_id) 1
		done_waiting cross uio1
		p cross uio0 counters
		p cross uio1 counters
		p to-host uio0 ring 9 2
	EOF
	)
	script=$(guest_cmd "$script")
	timeout 200 "$VM" --name "032-doorbell-$$" --log "$SCRATCH/guest.log" --timeout 180 \
		--socket "$SOCK.drv" --socket "$SOCK" --vectors 4 --cmd "$script" 3>&- 4>&- &
	local vm=$!
	echo $vm >"$SCRATCH/vm.pid"
	if wait_for_line 120 "$SCRATCH/guest.log" '^host-ring uio0: waiting'; then
		timeout 30 "$IVSHM_BIN/ivshmd" --list -S "$SOCK" >"$SCRATCH/peers.txt" 2>&1
		timeout 30 "$IVSHM_BIN/ivshm-peer" -S "$SOCK" -n 4 -t 20 -q -R 7:3 \
			>"$SCRATCH/ringer.log" 2>&1
	fi
	wait "$vm" || true
	wait "$(cat "$SCRATCH/host-peer.pid")" || true
}

setup() {
	run -0 guest_log "$SCRATCH/guest.log"
}

teardown_file() {
	local f
	for f in vm host-peer; do
		[ -f "$SCRATCH/$f.pid" ] && kill "$(cat "$SCRATCH/$f.pid")" 2>/dev/null
	done
	scratch_teardown
}

@test "doorbell devices report mode, vectors and the peer IDs ivshmd assigned" {
	assert_line 'uio0: name=uio_ivshmem mode=doorbell vectors=4 peer=7'
	# uio1 came from the unpinned socket: its ID is the one ivshmd lists for the
	# guest's QEMU (the pinned peer's PID) besides the pinned one.
	local qemu listed
	qemu=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["NAME"] == "drv" { print $col["PID"] }' "$SCRATCH/peers.txt")
	listed=$(awk -v pid="$qemu" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["PID"] == pid && $col["NAME"] != "drv" { print $col["ID"] }' \
		"$SCRATCH/peers.txt")
	assert [ -n "$qemu" ]
	assert [ -n "$listed" ]
	assert_line "uio1: name=uio_ivshmem mode=doorbell vectors=4 peer=$listed"
}

@test "each vector has its own interrupt and a zeroed counter" {
	for u in uio0 uio1; do
		assert_line "$u: irqs 4"
		assert_line "start $u: counters: magic=0x43535649 vectors=4"
		assert_line "start $u: counters: hdr_size=16 count_size=8 flags=0x1"
		assert_line "start $u: count[3]=0"
	done
	assert_line 'uio0: map1 name=shmem size=0x0000000000400000'
}

@test "ringing vector 3 from the host moves only counter 3 of that device" {
	assert_line 'host-ring uio0: fired: 3x1'
	assert_line 'host-ring uio0: count[0]=0'
	assert_line 'host-ring uio0: count[1]=0'
	assert_line 'host-ring uio0: count[2]=0'
	assert_line 'host-ring uio0: count[3]=1'
	for v in 0 1 2 3; do
		assert_line "host-ring uio1: count[$v]=0"
	done
}

@test "a doorbell from one device to the other reaches only the vector rung" {
	assert_line 'cross uio1: fired: 1x1'
	assert_line 'cross uio1: count[1]=1'
	assert_line 'cross uio1: count[3]=0'
	assert_line 'cross uio0: count[1]=0'
	assert_line 'cross uio0: count[3]=1'
}

@test "the guest rings the host peer through the regs map" {
	assert_line 'to-host uio0: ring: ok'
	run -0 cat "$SCRATCH/host-peer.log"
	assert_line --regexp '^got vector=2 count=1$'
}

@test "the guest's kernel log stays clean" {
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_clean_klog "$SCRATCH/guest.log"
}
