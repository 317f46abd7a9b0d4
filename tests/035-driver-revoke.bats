#!/usr/bin/env bats
# uio_ivshmem revokes regs and shmem mappings when the device goes: a process that
# kept them gets SIGBUS, on pages it touched before and on pages it never touched,
# after an unbind, after the device is rebound (new mappings work, the old ones stay
# dead) and after a hot-unplug and rescan that moves the device elsewhere.
#
#   ivshmd --socket--> ivshmem-doorbell --\
#   host file plain --> ivshmem-plain -----> one guest: uio-probe hold (3 rounds)
#
# Each holder maps, touches (round 0), then reports on SIGUSR1: round 1 after unbind,
# round 2 after rebind; for the plain one round 3 after the device was removed (as by
# a hot-unplug) and round 4 after a rescan brought it back. A third holder opened the
# doorbell device through a node of its own (mknod, another inode than /dev/uioN's).

load helpers/driver

setup_file() {
	driver_setup_file -l 4M -n 4
	printf 'from-host' | dd of="$SCRATCH/plain" bs=1M seek=0 count=1 conv=sync status=none

	driver_boot 035-revoke --socket "$SOCK" --vectors 4 --plain "$SCRATCH/plain:1M" <<-'EOF'
		db=$(pci_of $(uio_of doorbell))
		pl=$(pci_of $(uio_of plain))
		: >/tmp/h-db
		: >/tmp/h-pl
		: >/tmp/h-alt
		dbu=$(uio_of doorbell)
		mknod /tmp/alt c $(tr : ' ' </sys/class/uio/$dbu/dev)
		mount --bind /tmp/alt /dev/$dbu
		uio-probe $dbu hold closed 1 >/tmp/h-alt &
		halt=$!
		poll_for /tmp/h-alt holding
		umount -l /dev/$dbu
		uio-probe $dbu hold open 2 >/tmp/h-db &
		hdb=$!
		uio-probe $(uio_of plain) hold closed 4 >/tmp/h-pl &
		hpl=$!
		poll_for /tmp/h-db holding
		poll_for /tmp/h-pl holding
		echo $db >$D/unbind
		echo $pl >$D/unbind
		kill -USR1 $hdb $hpl $halt
		poll_for /tmp/h-db 'hold 1: new map'
		poll_for /tmp/h-pl 'hold 1: shmem.last'
		echo $db >$D/bind
		echo $pl >$D/bind
		kill -USR1 $hdb $hpl
		poll_for /tmp/h-pl 'hold 2: shmem.last'
		p rebound $(uio_of plain) peek 0 9
		p rebound $(uio_of plain) poke 64 from-rebound
		self_ring rebound
		echo 1 >/sys/bus/pci/devices/$pl/remove
		kill -USR1 $hpl
		poll_for /tmp/h-pl 'hold 3: shmem.last'
		echo 1 >/sys/bus/pci/rescan
		kill -USR1 $hpl
		wait $halt
		echo "alt: status=$?"
		sed 's/^/alt: /' /tmp/h-alt
		wait $hdb
		echo "db: status=$?"
		wait $hpl
		echo "pl: status=$?"
		sed 's/^/db: /' /tmp/h-db
		sed 's/^/pl: /' /tmp/h-pl
		p rescanned $(uio_of plain) peek 64 12
	EOF
}

setup() {
	run -0 guest_log "$SCRATCH/guest.log"
}

teardown_file() {
	scratch_teardown
}

@test "before the device goes, the holders' mappings work" {
	assert_line 'pl: hold 0: shmem[0]=102'
	assert_line 'db: hold 0: shmem[0]=0'
	assert_line 'db: hold 0: counters magic=0x43535649'
	assert_line --regexp '^db: hold 0: regs ivposition=[0-9]+$'
}

@test "after unbind, touched and untouched BAR pages raise SIGBUS" {
	for h in db pl; do
		assert_line "$h: hold 1: shmem[0]: SIGBUS"
		assert_line "$h: hold 1: shmem[last]: SIGBUS"
		assert_line "$h: hold 1: regs ivposition: SIGBUS"
		assert_line "$h: hold 1: counters magic=0x43535649"
	done
}

@test "a mapping made through another node of the device is revoked too" {
	assert_line 'alt: hold 0: shmem[0]=0'
	assert_line 'alt: hold 1: shmem[0]: SIGBUS'
	assert_line 'alt: hold 1: shmem[last]: SIGBUS'
	assert_line 'alt: hold 1: regs ivposition: SIGBUS'
	assert_line 'alt: status=0'
}

@test "after rebind, new mappings work and the old ones stay revoked" {
	assert_line --regexp '^rebound uio[0-9]+: peek: from-host$'
	assert_line --regexp '^rebound uio[0-9]+: poke: ok$'
	assert_line 'rebound: fired: 2x1'
	for h in db pl; do
		assert_line "$h: hold 2: shmem[0]: SIGBUS"
		assert_line "$h: hold 2: shmem[last]: SIGBUS"
		assert_line "$h: hold 2: regs ivposition: SIGBUS"
	done
	assert_line 'db: hold 2: new map: EINVAL'
	assert_line 'db: status=0'
}

@test "after hot-unplug and rescan, the old mapping stays revoked and the device works" {
	for r in 3 4; do
		assert_line "pl: hold $r: shmem[0]: SIGBUS"
		assert_line "pl: hold $r: shmem[last]: SIGBUS"
		assert_line "pl: hold $r: regs ivposition: SIGBUS"
		assert_line "pl: hold $r: counters magic=0x43535649"
	done
	assert_line 'pl: status=0'
	assert_line --regexp '^rescanned uio[0-9]+: peek: from-rebound$'
	run -0 dd if="$SCRATCH/plain" bs=1 skip=64 count=12 status=none
	assert_output 'from-rebound'
}

@test "the guest's kernel log stays clean" {
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_clean_klog "$SCRATCH/guest.log"
}
