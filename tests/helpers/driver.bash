# Shared by the uio_ivshmem driver tests (tests/03*-driver-*.bats).
# `load helpers/driver` after helpers/common.

VM="$IVSHM_TOP/host/launch/ivshm-vm"

# Kernel log lines that mean the driver (or the kernel under it) misbehaved.
DRIVER_BAD_KLOG='BUG|WARNING|Oops|leak|Call Trace|general protection|Bad page|refcount_t|list_(add|del) corruption'

# guest_cmd SCRIPT: the --cmd for a driver test guest: SCRIPT after the guest library
# (tests/guest-helpers/uio-test-lib.sh), then the kernel log's bad lines, tagged so
# tests can refute them (the serial log also gets warnings directly: loglevel=4).
# The script travels base64-encoded on the 2 KiB kernel command line; a longer one
# would not boot, so it is refused here.
guest_cmd() {
	local cmd n
	cmd=$(printf '. /usr/bin/uio-test-lib\n%s\nklog_check '"'%s'"'\n' "$1" "$DRIVER_BAD_KLOG")
	n=$(printf '%s' "$cmd" | base64 -w0 | wc -c)
	if [ "$n" -gt 1900 ]; then
		echo "guest_cmd: script too long for the kernel command line ($n base64 bytes)" >&2
		return 1
	fi
	printf '%s' "$cmd"
}

# driver_image: build uio-probe and bring the guest image up to date, so it holds
# the current module and helpers. Both steps do nothing when nothing changed.
driver_image() {
	make -s -C "$IVSHM_TOP/tests/guest-helpers" BUILD="$IVSHM_BUILD" >&2 &&
		"$IVSHM_TOP/host/guest-image/build-image" "$IVSHM_BUILD" >/dev/null
}

# guest_kernel_headers: the headers of the kernel the guest image boots.
guest_kernel_headers() {
	local ver
	ver=$(cat "$IVSHM_BUILD/guest/kernel.version") || return
	echo "$IVSHM_BUILD/kernel/$ver/root/usr/src/linux-headers-$ver"
}

# guest_log LOG: the serial log without the console's carriage returns.
guest_log() {
	tr -d '\r' <"$1"
}

# assert_clean_klog LOG: the guest finished and its kernel log has nothing bad.
assert_clean_klog() {
	run -0 guest_log "$1"
	assert_line --regexp '^IVSHM-GUEST-EXIT status=[0-9]+$'
	refute_line --partial 'BAD-KLOG:'
	refute_output --regexp "$DRIVER_BAD_KLOG"
}
