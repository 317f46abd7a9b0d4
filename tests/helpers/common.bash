# Shared by every .bats file. A file loads what it needs once, at file level (bats
# sources the file for setup_file, every test and teardown_file), with one line:
# `load helpers/NAME` of the most specific helper, which loads the ones it builds on
# (helpers/ivshmd-hardening: ivshmd, qemu and this one). Loading twice is harmless.
# Provides the bats-assert/support/file libraries, paths into build/, the host
# scripts' library (host/lib/ivshm.sh: wait_for, alive, gone, kill_wait, the console
# markers IVSHM_CONSOLE_* and readers ivshm_console_*, the deployment defaults
# IVSHM_*, ...), and the private ivshmd a test file may run in its scratch directory.
# The builds every file needs were made once for the suite (setup_suite.bash).

[ -z "${IVSHM_HELPERS_COMMON:-}" ] || return 0
IVSHM_HELPERS_COMMON=1	# not exported: each test process loads its own

bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

IVSHM_TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
IVSHM_BUILD=${BUILD:-$IVSHM_TOP/build}
IVSHM_BIN=$IVSHM_BUILD/bin
export IVSHM_TOP IVSHM_BUILD IVSHM_BIN

# shellcheck source=../../host/lib/ivshm.sh
. "$IVSHM_TOP/host/lib/ivshm.sh"

# Where the test overlay (tests/helpers/test-vm) puts the guest test library,
# tests/guest-helpers/uio-test-lib.sh: poll_until and the driver tests' functions.
GUEST_TEST_LIB=/usr/lib/ivshm-tests/uio-test-lib.sh

# wait_for_line TIMEOUT_S FILE PATTERN: wait until FILE has a line matching the ERE PATTERN.
wait_for_line() {
	wait_for "$1" grep -qE -- "$3" "$2" 2>/dev/null
}

# archive_files ARCHIVE: the regular files in a gzipped cpio archive (an initramfs), sorted.
archive_files() {
	zcat "$1" | cpio -t -v --quiet | awk '$1 ~ /^-/ { print $NF }' | LC_ALL=C sort
}

# ivshmd_private_start SOCK LOG [IVSHMD OPTIONS...]: a foreground ivshmd -v on SOCK for
# this test file, in the background with its output in LOG and its pid in IVSHMD_PID;
# returns once its control socket, made after all the others, exists. No `timeout`
# around it, so that ivshmd_private_stop signals and waits for the daemon itself.
ivshmd_private_start() {
	local sock=$1 log=$2
	shift 2
	"$IVSHM_BIN/ivshmd" -F -v -S "$sock" "$@" >"$log" 2>&1 3>&- 4>&- &
	IVSHMD_PID=$!
	wait_for 10 test -S "$sock.ctl"
}

# ivshmd_private_stop: end the private ivshmd, if one was started.
ivshmd_private_stop() {
	[ -z "${IVSHMD_PID:-}" ] || kill_wait "$IVSHMD_PID"
}

# A private scratch directory for this test file (see scratch_teardown).
scratch_dir() {
	local d="$IVSHM_BUILD/test-scratch/$(basename "$BATS_TEST_FILENAME" .bats)"
	mkdir -p "$d"
	echo "$d"
}

# scratch_teardown: for teardown_file: stop the private ivshmd, whose socket is in
# $SCRATCH, then remove $SCRATCH unless IVSHM_KEEP_LOGS=1. An ivshmd that outlives
# its deadline fails the file, even though the directory goes.
scratch_teardown() {
	local rc=0
	ivshmd_private_stop || rc=$?
	[ "${IVSHM_KEEP_LOGS:-0}" = 1 ] || rm -rf "$SCRATCH"
	return "$rc"
}

# libivshm_exports: every NAME@SECTION libivshm.so exports, sorted: the version
# script's names in their sections, and the old versions compat.c keeps
# (COMPAT(name) exports ivshm_name@LIBIVSHM_1.1).
libivshm_exports() {
	{
		awk '/^LIBIVSHM_[0-9.]* *\{/ { sec = $1 } /^[ \t]+ivshm_[a-z0-9_]+;/ {
			sub(/;/, "", $1); print $1 "@" sec }' "$IVSHM_TOP/libivshm/src/libivshm.sym"
		sed -n 's/^COMPAT(\([a-z0-9_]*\));$/ivshm_\1@LIBIVSHM_1.1/p' "$IVSHM_TOP/libivshm/src/compat.c"
	} | LC_ALL=C sort
}
