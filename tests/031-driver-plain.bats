#!/usr/bin/env bats
# uio_ivshmem on two ivshmem-plain devices in one guest (no server, no interrupts):
# sysfs attributes, map names and sizes, EIO instead of a wait, a read-only counters
# page, refused bad mappings, and a write-back shared memory that is the host's file.
#
#   host file plain-a (1 GiB, sparse) --ivshmem-plain--> uio0 \
#   host file plain-b (1 MiB)         --ivshmem-plain--> uio1  > uio-probe in one guest
#
# The 1 GiB BAR does not fit below 4 GiB, so SeaBIOS places both 64-bit BARs above it,
# where its MTRRs allow write-back (below 4 GiB they force uncached whatever we ask).

load helpers/driver

setup_file() {
	driver_setup_file

	truncate -s 1G "$SCRATCH/plain-a"
	truncate -s 1M "$SCRATCH/plain-b"
	printf 'from-host' | dd of="$SCRATCH/plain-a" bs=1 seek=4096 conv=notrunc status=none

	driver_boot 031-plain --plain "$SCRATCH/plain-a:1G" --plain "$SCRATCH/plain-b:1M" <<-'EOF'
		mount -t debugfs none /sys/kernel/debug
		for u in uio0 uio1; do
			d=/sys/class/uio/$u
			echo "$u: name=$(cat $d/name) version=$(cat $d/version)" \
				"mode=$(cat $d/device/ivshmem_mode) vectors=$(cat $d/device/ivshmem_vectors)" \
				"peer=$(cat $d/device/ivshmem_peer_id)"
			echo "$u: maps" $(ls $d/maps)
			for i in 0 1 2; do
				echo "$u: map$i name=$(cat $d/maps/map$i/name) size=$(cat $d/maps/map$i/size)"
			done
			p plain $u read
			p plain $u wait 5000
			p plain $u counters
			p plain $u map 2 rw
			p plain $u mprotect 2
			p plain $u map 2 r private
			p plain $u map 1 r private
			p plain $u map 3 r
			p plain $u map 1 rw shared $(($(cat $d/maps/map1/size) + 4096))
		done
		p plain uio0 peek 4096 9
		p plain uio0 poke 0 from-guest-uio0
		p plain uio1 poke 0 from-guest-uio1
		# Memory types are recorded while a mapping exists.
		uio-probe uio0 hold open >/tmp/hold &
		hold=$!
		poll_for /tmp/hold holding
		for i in 0 1; do
			a=$(cat /sys/class/uio/uio0/maps/map$i/addr)
			echo "uio0: map$i memtype" $(grep -F "[mem $a-" /sys/kernel/debug/x86/pat_memtype_list |
				sed 's/.*] //' | sort -u)
		done
		kill -USR1 $hold
		wait $hold
	EOF
}

setup() {
	run -0 guest_log "$SCRATCH/guest.log"
}

teardown_file() {
	scratch_teardown
}

@test "plain devices bind as uio_ivshmem: mode plain, no vectors, no peer ID" {
	assert_line 'uio0: name=uio_ivshmem version=2.0 mode=plain vectors=0 peer=-1'
	assert_line 'uio1: name=uio_ivshmem version=2.0 mode=plain vectors=0 peer=-1'
}

@test "maps are regs, shmem and counters, each a whole number of pages" {
	assert_line 'uio0: maps map0 map1 map2'
	assert_line 'uio0: map0 name=regs size=0x0000000000001000'
	assert_line 'uio0: map1 name=shmem size=0x0000000040000000'
	assert_line 'uio0: map2 name=counters size=0x0000000000001000'
	assert_line 'uio1: map1 name=shmem size=0x0000000000100000'
}

@test "waiting on a plain device fails at once with EIO" {
	for u in uio0 uio1; do
		assert_line "plain $u: read: EIO"
		assert_line "plain $u: wait: read: EIO"
	done
}

@test "the counters page is read-only and reports no vectors" {
	assert_line 'plain uio0: counters: magic=0x43535649 vectors=0'
	assert_line 'plain uio0: counters: hdr_size=16 count_size=8 flags=0x1'
	assert_line 'plain uio0: map 2 rw: EACCES'
	assert_line 'plain uio0: mprotect 2 rw: EACCES'
	assert_line 'plain uio0: map 2 r private: ok'
}

@test "private, unknown and oversized mappings are refused" {
	assert_line 'plain uio0: map 1 r private: EINVAL'
	assert_line 'plain uio0: map 3 r: EINVAL'
	assert_line "plain uio0: map 1 rw shared $((0x40000000 + 4096)): EINVAL"
	assert_line "plain uio1: map 1 rw shared $((0x100000 + 4096)): EINVAL"
}

@test "shmem is the host's file, mapped write-back; regs uncached" {
	assert_line 'plain uio0: peek: from-host'
	assert_line 'uio0: map1 memtype write-back'
	assert_line 'uio0: map0 memtype uncached-minus'
	run -0 dd if="$SCRATCH/plain-a" bs=1 count=15 status=none
	assert_output 'from-guest-uio0'
	run -0 dd if="$SCRATCH/plain-b" bs=1 count=15 status=none
	assert_output 'from-guest-uio1'
}

@test "the guest's kernel log stays clean" {
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_clean_klog "$SCRATCH/guest.log"
}
