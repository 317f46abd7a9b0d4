#!/usr/bin/env bats
# uio_ivshmem over repeated unbind/bind through sysfs, rmmod when idle and a reload:
# each time exactly one set of claims (UIO devices, IRQs, BARs), working interrupts
# afterwards and a clean kernel log.
#
#   ivshmd --socket--> ivshmem-doorbell --\
#   host file --------> ivshmem-plain -----> one guest: sysfs, rmmod, modprobe

load helpers/driver

setup_file() {
	driver_setup_file -l 4M -n 4

	driver_boot 034-reload --socket "$SOCK" --vectors 4 --plain "$SCRATCH/plain:1M" <<-'EOF'
		db=$(pci_of $(uio_of doorbell))
		pl=$(pci_of $(uio_of plain))
		claims bound
		i=0
		while [ $i -lt 20 ]; do
			{ echo $db >$D/unbind && echo $pl >$D/unbind &&
				echo $db >$D/bind && echo $pl >$D/bind; } || echo "cycle $i: failed"
			i=$((i + 1))
		done
		claims cycled
		self_ring cycled
		rmmod uio_ivshmem
		echo "idle: rmmod status=$?"
		claims unloaded
		[ -e /sys/module/uio_ivshmem ] && echo "unloaded: module still there"
		modprobe uio_ivshmem
		echo "reload: modprobe status=$?"
		claims reloaded
		p reloaded $(uio_of doorbell) counters
		self_ring reloaded
	EOF
}

setup() {
	run -0 guest_log "$SCRATCH/guest.log"
}

teardown_file() {
	scratch_teardown
}

@test "twenty unbind/bind cycles leave exactly one set of claims and working interrupts" {
	# bars counts BAR0's page remainder too (see 033-driver-unbind.bats).
	assert_line 'bound: uio=2 irqs=4 bars=7'
	refute_line --partial 'failed'
	assert_line 'cycled: uio=2 irqs=4 bars=7'
	assert_line 'cycled: fired: 2x1'
}

@test "rmmod when idle releases every claim" {
	assert_line 'idle: rmmod status=0'
	assert_line 'unloaded: uio=0 irqs=0 bars=0'
	refute_line 'unloaded: module still there'
}

@test "the reloaded module binds both devices with fresh counters and interrupts" {
	assert_line 'reload: modprobe status=0'
	assert_line 'reloaded: uio=2 irqs=4 bars=7'
	assert_line --regexp '^reloaded uio[0-9]+: count\[2\]=0$'
	assert_line 'reloaded: fired: 2x1'
}

@test "the guest's kernel log stays clean" {
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_clean_klog "$SCRATCH/guest.log"
}
