#!/usr/bin/env bats
# uio_ivshmem on a read-only open of /dev/uioN: shmem and regs map MAP_SHARED for
# reading (such a mapping has VM_MAYSHARE but not VM_SHARED), cannot be made
# writable, and MAP_PRIVATE stays refused; the counters page reads the same.
#
#   host file plain (1 MiB, "from-host" at 4096) --ivshmem-plain--> guest: uio-probe ro

load helpers/driver

setup_file() {
	driver_setup_file

	truncate -s 1M "$SCRATCH/plain"
	printf 'from-host' | dd of="$SCRATCH/plain" bs=1 seek=4096 conv=notrunc status=none

	driver_boot 038-readonly --plain "$SCRATCH/plain:1M" <<-'EOF'
		p ro uio0 ro map 1 r shared
		p ro uio0 ro map 0 r shared
		p ro uio0 ro map 2 r shared
		p ro uio0 ro peek 4096 9
		p ro uio0 ro map 1 r private
		p ro uio0 ro map 0 r private
		p ro uio0 ro map 1 rw shared
		p ro uio0 ro mprotect 1
		p ro uio0 ro mprotect 0
		p rw uio0 map 1 r private
	EOF
}

setup() {
	run -0 guest_log "$SCRATCH/guest.log"
}

teardown_file() {
	scratch_teardown
}

@test "a read-only open maps shmem, regs and counters MAP_SHARED for reading" {
	assert_line 'ro uio0: map 1 r shared: ok'
	assert_line 'ro uio0: map 0 r shared: ok'
	assert_line 'ro uio0: map 2 r shared: ok'
	assert_line 'ro uio0: peek: from-host'
}

@test "a read-only open cannot write through a mapping" {
	assert_line 'ro uio0: map 1 rw shared: EACCES'
	assert_line 'ro uio0: mprotect 1 rw: EACCES'
	assert_line 'ro uio0: mprotect 0 rw: EACCES'
}

@test "MAP_PRIVATE of a BAR is refused, read-only open or not" {
	assert_line 'ro uio0: map 1 r private: EINVAL'
	assert_line 'ro uio0: map 0 r private: EINVAL'
	assert_line 'rw uio0: map 1 r private: EINVAL'
}

@test "the guest's kernel log stays clean" {
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_clean_klog "$SCRATCH/guest.log"
}
