# Shared by the uio_ivshmem driver tests (tests/03*-driver-*.bats).
# Loads helpers/common.

load helpers/common

# The launcher with the test overlay (uio-probe, the guest test library) added to
# the product image.
VM="$IVSHM_TOP/tests/helpers/test-vm"

# Kernel log lines that mean the driver (or the kernel under it) misbehaved.
DRIVER_BAD_KLOG='BUG|WARNING|Oops|leak|Call Trace|general protection|Bad page|refcount_t|list_(add|del) corruption'

# guest_cmd SCRIPT: the --cmd for a driver test guest: SCRIPT after the guest test
# library, then the kernel log's bad lines, tagged so tests can refute them (the
# serial log also gets warnings directly: loglevel=4).
guest_cmd() {
	printf '. %s\n%s\nklog_check '"'%s'"'\n' "$GUEST_TEST_LIB" "$1" "$DRIVER_BAD_KLOG"
}

# driver_image: the guest image, with the current module, and the test overlay.
# setup_suite built both; this only finds them up to date unless a source changed.
driver_image() {
	make -s -C "$IVSHM_TOP" BUILD="$IVSHM_BUILD" guest test-overlay >&2
}

# driver_setup_file [IVSHMD OPTIONS...]: for setup_file: a fresh $SCRATCH and the
# guest image; given options, also the file's private ivshmd with them on
# SOCK=$SCRATCH/ivshmd.sock, its log in $SCRATCH/ivshmd.log (scratch_teardown stops it).
driver_setup_file() {
	export SCRATCH
	SCRATCH=$(scratch_dir)
	rm -rf "$SCRATCH"/*
	driver_image
	[ $# -gt 0 ] || return 0
	export SOCK="$SCRATCH/ivshmd.sock"
	ivshmd_private_start "$SOCK" "$SCRATCH/ivshmd.log" "$@"
}

# driver_boot NAME [LAUNCHER ARGS...] <SCRIPT: boot a test guest named NAME-PID that
# runs SCRIPT (through guest_cmd), with its serial log in $SCRATCH/guest.log, and wait
# until it ends: at the latest after DRIVER_BOOT_S seconds (default 180). A failed
# boot does not fail the set-up: the tests read what the log holds.
driver_boot() {
	local name=$1 limit=${DRIVER_BOOT_S:-180} script
	shift
	script=$(guest_cmd "$(cat)")
	timeout $((limit + 20)) "$VM" --name "$name-$$" --log "$SCRATCH/guest.log" \
		--timeout "$limit" "$@" --cmd "$script" 3>&- 4>&- || true
}

# guest_kernel_headers: the headers of the kernel the guest image boots.
guest_kernel_headers() {
	local ver
	ver=$(cat "$IVSHM_BUILD/guest/kernel.version") || return
	echo "$IVSHM_BUILD/kernel/$ver/root/usr/src/linux-headers-$ver"
}

# guest_log LOG: the serial log without the console's carriage returns.
guest_log() {
	ivshm_console_text "$1"
}

# assert_clean_klog LOG: the guest finished and its kernel log has nothing bad.
assert_clean_klog() {
	run -0 guest_log "$1"
	assert_line --regexp "$IVSHM_CONSOLE_EXIT_RE"
	refute_line --partial 'BAD-KLOG:'
	refute_output --regexp "$DRIVER_BAD_KLOG"
}
