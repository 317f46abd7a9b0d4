#!/usr/bin/env bats
# The real QEMU 7.2 ivshmem-doorbell device against ivshmd: it realizes, ivshmd
# sees it join and leave, and the memory behind its BAR2 is ivshmd's memory,
# for every backing. No guest is needed: SeaBIOS assigns the BARs and QEMU's
# monitor reads guest-physical memory.
#
#   ivshm-peer -w OFF:PATTERN --> ivshmd --fd--> QEMU ivshmem-doorbell BAR2 <-- HMP xp

load helpers/ivshmd
load helpers/qemu

setup_file() {
	srv_dir_create
	export SHM_NAME="ivshmd-qemu-test-$$"
}

teardown_file() {
	qemus_stop_all
	# A server still holding a file on the hugetlbfs mount would keep it busy.
	srvs_stop_all
	hugepages_restore
	srv_dir_remove
	rm -f "/dev/shm/$SHM_NAME"
}

# The hugetlbfs test borrows two huge pages from the host; give them back.
hugepages_restore() {
	local mnt="$SRV_DIR/hugetlbfs"
	if mountpoint -q "$mnt"; then umount "$mnt"; fi
	rmdir "$mnt" 2>/dev/null || true
	if [ -f "$SRV_DIR/nr_hugepages.orig" ]; then
		cat "$SRV_DIR/nr_hugepages.orig" >/proc/sys/vm/nr_hugepages
		rm "$SRV_DIR/nr_hugepages.orig"
	fi
}

# A fresh server per test: IDs go upward, and each test expects QEMU to be peer 0.
setup() {
	srv_start dev -n 4 -l 1M
}

teardown() {
	peers_stop_all
	qemus_stop_all
	srvs_stop_all
}

# check_backing SERVER SIZE_BYTES: QEMU realizes on SERVER and sees a peer's bytes at
# both ends of its BAR2.
check_backing() {
	local srv=$1 size=$2 addr top pattern="ivshmd->QEMU $$"
	qemu_start "$srv" "$(srv_sock "$srv")" 4
	wait_for_line 20 "$(srv_log "$srv")" "^ivshmd: peer 0 joined \\(pid $(qemu_pid "$srv"), "
	wait_for 30 bar2_assigned "$srv"
	addr=$(bar2_addr "$srv")
	run -0 hmp "$srv" "info pci"
	assert_output --regexp "BAR2: 64 bit prefetchable memory at $addr \\[0x[0-9a-f]+\\]"
	assert_equal "$(printf '%d' "$(sed -n "s/.*at $addr \\[\\(0x[0-9a-f]*\\)\\].*/\\1/p" <<<"$output")")" \
		$((addr + size - 1))
	top=$((size - 32))
	run -0 peer -S "$(srv_sock "$srv")" -n 4 -q -w "0:$pattern" -w "$top:$pattern"
	assert_equal "$(xp_hex "$srv" "$addr" ${#pattern})" "$(hex "$pattern")"
	assert_equal "$(xp_hex "$srv" "$(printf '0x%x' $((addr + top)))" ${#pattern})" "$(hex "$pattern")"
	hmp "$srv" quit >/dev/null || true
	wait_for 20 gone "$(qemu_pid "$srv")"
	wait_for_line 10 "$(srv_log "$srv")" '^ivshmd: peer 0 left \(pid [0-9]+\): closed the connection$'
}

@test "the ivshmem-doorbell device realizes on ivshmd and joins as peer 0" {
	qemu_start dev "$(srv_sock dev)" 4
	wait_for_line 20 "$(srv_log dev)" "^ivshmd: peer 0 joined \\(pid $(qemu_pid dev), uid $(id -u), gid $(id -g)\\)$"
	run -0 hmp dev "info pci"
	assert_output --partial "RAM controller: PCI device 1af4:1110"
	assert_output --partial "PCI subsystem 1af4:1100"
	alive "$(qemu_pid dev)"
	run -0 cat "$SRV_DIR/dev.qemu.log"
	assert_output ""
}

@test "QEMU maps the very memfd ivshmd owns" {
	local ino
	qemu_start dev "$(srv_sock dev)" 4
	wait_for_line 20 "$(srv_log dev)" "^ivshmd: peer 0 joined \\(pid $(qemu_pid dev),"
	run -0 peer -S "$(srv_sock dev)" -n 4
	ino=$(sed -n 's/^shm .* ino=\([0-9]*\)$/\1/p' <<<"$output")
	[ -n "$ino" ]
	run -0 grep ' rw-s .* /memfd:ivshmd (deleted)$' "/proc/$(qemu_pid dev)/maps"
	assert_output --regexp " $ino +/memfd:ivshmd \\(deleted\\)$"
	local range=${output%% *}
	assert_equal $((0x${range#*-} - 0x${range%-*})) 1048576
}

@test "a peer sees QEMU's 4 vectors and QEMU's departure" {
	qemu_start dev "$(srv_sock dev)" 4
	wait_for_line 20 "$(srv_log dev)" "^ivshmd: peer 0 joined \\(pid $(qemu_pid dev),"
	peer_stay w "$(srv_sock dev)" -n 4
	run -0 grep '^ready' "$(peer_out w)"
	assert_output "ready id=1 vectors=4 peers=0"
	peer_cmd w "ring 0 3"
	wait_for_line 5 "$(peer_out w)" '^rang peer=0 vector=3$'
	hmp dev quit >/dev/null || true
	wait_for_line 20 "$(peer_out w)" '^leave peer=0$'
	wait_for_line 10 "$(srv_log dev)" '^ivshmd: peer 0 left \(pid [0-9]+\): closed the connection$'
}

@test "-n 0, as QEMU's server allows: the device (vectors=1) realizes with the memory alone" {
	local addr pattern="memory only $$"
	srv_start novec -n 0 -l 1M
	qemu_start novec "$(srv_sock novec)" 1
	wait_for_line 20 "$(srv_log novec)" "^ivshmd: peer 0 joined \\(pid $(qemu_pid novec),"
	wait_for 30 bar2_assigned novec
	addr=$(bar2_addr novec)
	run -0 peer -S "$(srv_sock novec)" -n 0 -w "0:$pattern"
	assert_line "ready id=1 vectors=0 peers=-"
	assert_equal "$(xp_hex novec "$addr" ${#pattern})" "$(hex "$pattern")"
	alive "$(qemu_pid novec)"
	run -0 cat "$SRV_DIR/novec.qemu.log"
	assert_output ""
	hmp novec quit >/dev/null || true
	wait_for 20 gone "$(qemu_pid novec)"
	wait_for_line 10 "$(srv_log novec)" '^ivshmd: peer 0 left \(pid [0-9]+\): closed the connection$'
}

@test "memfd: bytes a peer writes are at both ends of QEMU's BAR2" {
	check_backing dev 1048576
}

@test "a 64 GiB memfd realizes and is usable at its top" {
	srv_start big -n 4 -l 64G
	check_backing big 68719476736
}

@test "POSIX shm (-M): bytes a peer writes are in QEMU's BAR2" {
	srv_start posix -n 4 -l 2M -M "$SHM_NAME"
	check_backing posix 2097152
}

@test "file in a directory (-m): bytes a peer writes are in QEMU's BAR2" {
	mkdir -p "$SRV_DIR/shm"
	srv_start file -n 4 -l 4M -m "$SRV_DIR/shm"
	check_backing file 4194304
}

@test "hugetlbfs (-m): QEMU maps the huge pages ivshmd reserved" {
	local mnt="$SRV_DIR/hugetlbfs" orig
	mkdir -p "$mnt"
	mount -t hugetlbfs -o pagesize=2M none "$mnt" 2>/dev/null || skip "cannot mount hugetlbfs here"
	orig=$(cat /proc/sys/vm/nr_hugepages)
	echo "$orig" >"$SRV_DIR/nr_hugepages.orig"
	echo $((orig + 2)) >/proc/sys/vm/nr_hugepages 2>/dev/null || skip "cannot reserve huge pages"
	[ "$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)" -ge 2 ] || skip "no free huge pages"
	srv_start huge -n 4 -l 4M -m "$mnt"
	check_backing huge 4194304
	srv_stop huge
	run -0 ls -A "$mnt"
	assert_output ""
	hugepages_restore
}
