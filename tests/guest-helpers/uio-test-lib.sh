# The guest test library: shell functions for the guest scripts of the tests
# (busybox sh). The test overlay puts it at /usr/lib/ivshm-tests/uio-test-lib.sh;
# guest_cmd (tests/helpers/driver.bash) and guest_start (tests/helpers/exchange.bash)
# source it before each script.

D=/sys/bus/pci/drivers/uio_ivshmem

# p TAG UIO ARGS...: run uio-probe UIO ARGS..., each output line tagged "TAG UIO: ".
p() {
	tag=$1
	shift
	uio-probe "$@" 2>&1 | sed "s/^/$tag $1: /"
}

# poll_until SECONDS CMD...: run CMD every 50 ms until it succeeds; non-zero once
# SECONDS passed without. The one wait loop of the guest scripts: a condition that
# is a pipeline goes into a function first.
poll_until() {
	_poll_left=$(($1 * 20))
	shift
	until "$@"; do
		[ "$_poll_left" -gt 0 ] || return 1
		sleep 0.05
		_poll_left=$((_poll_left - 1))
	done
}

# poll_for FILE TEXT: wait up to 30 s for a background helper to write TEXT.
poll_for() {
	poll_until 30 grep -q "$2" "$1"
}

# uio_of MODE: the UIO devices whose ivshmem_mode is MODE (doorbell or plain).
uio_of() {
	for u in /sys/class/uio/uio*; do
		[ "$(cat $u/device/ivshmem_mode)" = "$1" ] && basename $u
	done
}

# pci_of UIO: the PCI address of a UIO device.
pci_of() {
	basename $(readlink /sys/class/uio/$1/device)
}

# claims TAG: what the driver holds: UIO devices, IRQs, BARs.
claims() {
	echo "$1: uio=$(ls /sys/class/uio | wc -l)" \
		"irqs=$(grep -c uio_ivshmem /proc/interrupts)" \
		"bars=$(grep -c uio_ivshmem /proc/iomem)"
}

# armed TAG UIO: start uio-probe UIO wait in the background and say
# "TAG UIO: waiting" once it is armed; done_waiting TAG UIO prints its result.
armed() {
	uio-probe $2 wait 120000 >/tmp/$1-$2 &
	waiter=$!
	poll_for /tmp/$1-$2 waiting
	echo "$1 $2: waiting"
}
done_waiting() {
	wait $waiter
	grep -v '^waiting$' /tmp/$1-$2 | sed "s/^/$1 $2: /"
}

# self_ring TAG: the doorbell device rings its own vector 2.
self_ring() {
	u=$(uio_of doorbell)
	armed $1 $u >/dev/null
	uio-probe $u ring $(cat /sys/class/uio/$u/device/ivshmem_peer_id) 2 >/dev/null
	done_waiting $1 $u | sed "s/^$1 $u:/$1:/"
}

# klog_check: kernel log lines that mean trouble, tagged for the tests to refute.
klog_check() {
	dmesg | grep -E "$1" | sed 's/^/BAD-KLOG: /'
	true
}
