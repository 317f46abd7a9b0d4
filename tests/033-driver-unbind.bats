#!/usr/bin/env bats
# uio_ivshmem with users attached: rmmod refused while /dev/uioN is open or only
# mapped, unbind through sysfs under open files, mappings and a blocked wait (every
# claim released, users get errors: SIGBUS from regs and shmem, frozen counters),
# then rebind; a clean kernel log. 034-driver-reload.bats covers unbind/bind cycles,
# rmmod and reload; 035-driver-revoke.bats stale mappings across rebind and unplug.
#
#   ivshmd --socket--> ivshmem-doorbell --\
#   host file --------> ivshmem-plain -----> one guest: uio-probe hold/wait + sysfs

load helpers/driver

setup_file() {
	driver_setup_file -l 4M -n 4

	driver_boot 033-unbind --socket "$SOCK" --vectors 4 --plain "$SCRATCH/plain:1M" <<-'EOF'
		dbu=$(uio_of doorbell)
		plu=$(uio_of plain)
		db=$(pci_of $dbu)
		pl=$(pci_of $plu)
		claims bound
		self_ring bound
		uio-probe $dbu hold open >/tmp/hold-db &
		hdb=$!
		uio-probe $plu hold closed >/tmp/hold-pl &
		hpl=$!
		armed unbound $dbu >/dev/null
		poll_for /tmp/hold-db holding
		poll_for /tmp/hold-pl holding
		rmmod uio_ivshmem 2>/dev/null
		echo "busy: rmmod status=$? refcnt=$(cat /sys/module/uio_ivshmem/refcnt)"
		echo $db >$D/unbind
		echo "unbind doorbell: status=$?"
		echo $pl >$D/unbind
		echo "unbind plain: status=$?"
		claims unbound
		done_waiting unbound $dbu | sed 's/uio[0-9]*:/wait-db:/'
		kill -USR1 $hdb $hpl
		wait $hdb
		echo "unbound hold-db: status=$?"
		wait $hpl
		echo "unbound hold-pl: status=$?"
		sed 's/^/unbound hold-db: /' /tmp/hold-db
		sed 's/^/unbound hold-pl: /' /tmp/hold-pl
		echo "released: refcnt=$(cat /sys/module/uio_ivshmem/refcnt)"
		echo $db >$D/bind
		echo "bind doorbell: status=$?"
		echo $pl >$D/bind
		echo "bind plain: status=$?"
		claims rebound
		p rebound $(uio_of doorbell) counters
		self_ring rebound
	EOF
}

setup() {
	run -0 guest_log "$SCRATCH/guest.log"
}

teardown_file() {
	scratch_teardown
}

@test "rmmod is refused while /dev/uioN is open or only mapped" {
	# Three users: an open holder, a holder that closed its fd but kept its
	# mappings, and a blocked wait.
	assert_line 'busy: rmmod status=1 refcnt=3'
}

@test "unbind under open files and mappings releases every claim" {
	# bars: BAR0, BAR1 (MSI-X), BAR2 and the rest of BAR0's page for the doorbell
	# device; BAR0, BAR2 and the rest of BAR0's page for the plain one.
	assert_line 'bound: uio=2 irqs=4 bars=7'
	assert_line 'bound: fired: 2x1'
	assert_line 'unbind doorbell: status=0'
	assert_line 'unbind plain: status=0'
	assert_line 'unbound: uio=0 irqs=0 bars=0'
}

@test "after unbind, users get errors and SIGBUS from the BARs, not crashes" {
	assert_line 'unbound wait-db: wait: read: EIO'
	assert_line 'unbound hold-db: status=0'
	assert_line 'unbound hold-pl: status=0'
	for h in db pl; do
		assert_line "unbound hold-$h: hold 0: shmem[0]=0"
		assert_line "unbound hold-$h: hold 1: shmem[0]: SIGBUS"
		assert_line "unbound hold-$h: hold 1: shmem[last]: SIGBUS"
		assert_line "unbound hold-$h: hold 1: regs ivposition: SIGBUS"
	done
	assert_line 'unbound hold-db: hold 1: read: EIO'
	assert_line 'unbound hold-db: hold 1: new map: EINVAL'
	assert_line 'released: refcnt=0'
}

@test "after unbind, the counters page stays readable, its counts frozen" {
	assert_line 'unbound hold-db: hold 1: counters magic=0x43535649'
	assert_line 'unbound hold-db: hold 1: counters vectors=4'
	assert_line 'unbound hold-pl: hold 1: counters magic=0x43535649'
	assert_line 'unbound hold-pl: hold 1: counters vectors=0'
}

@test "rebind brings the device back with fresh counters and working interrupts" {
	assert_line 'bind doorbell: status=0'
	assert_line 'bind plain: status=0'
	assert_line 'rebound: uio=2 irqs=4 bars=7'
	assert_line --regexp '^rebound uio[0-9]+: count\[2\]=0$'
	assert_line 'rebound: fired: 2x1'
}

@test "the guest's kernel log stays clean" {
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_clean_klog "$SCRATCH/guest.log"
}
