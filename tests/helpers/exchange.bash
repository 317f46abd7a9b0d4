# Shared by the two-guest exchange tests (tests/04*-*.bats): an ivshmd per test
# file, guests booted in the background, transcripts read from serial logs.
# Loads helpers/common; set SCRATCH (a private directory) first, or let
# exchange_setup_file make it.

load helpers/common

# The product image with the test overlay: the guest scripts wait through the guest
# test library (poll_until), which guest_start sources first.
VM="$IVSHM_TOP/tests/helpers/test-vm"

# exchange_image: the guest programs, the guest image and the test overlay.
# setup_suite built them; this only finds them up to date unless a source changed.
exchange_image() {
	make -s -C "$IVSHM_TOP" BUILD="$IVSHM_BUILD" guest test-overlay >&2
}

# exchange_setup_file VECTORS: for setup_file: $SCRATCH, a directory of this process's
# own (a concurrent run of the same file must not share it), the guest image, and the
# file's ivshmd with VECTORS vectors (ivshmd_start).
exchange_setup_file() {
	export SCRATCH
	SCRATCH="$(scratch_dir)/$$"
	mkdir -p "$SCRATCH"
	exchange_image
	ivshmd_start "$1"
}

# ivshmd_start VECTORS: the file's private ivshmd on $IVSHMD_SOCK, in $SCRATCH, with
# 4 MiB of fresh shared memory; returns once the socket listens.
ivshmd_start() {
	export IVSHMD_SOCK="$SCRATCH/ivshmd.sock"
	ivshmd_private_start "$IVSHMD_SOCK" "$SCRATCH/ivshmd.log" -l 4M -n "$1"
}

# guest_start NAME SCRIPT [LAUNCHER ARGS...]: boot a guest in the background running
# SCRIPT after the guest test library; its serial log is $SCRATCH/NAME.log and its exit status lands in
# $SCRATCH/NAME.status. The VM name carries the test file's PID.
guest_start() {
	local name=$1 script=$2
	shift 2
	# Bats runs with errexit: a failing launcher must not end the subshell before
	# the status is written.
	(
		rc=0
		timeout 170 "$VM" --name "$name-$$" --log "$SCRATCH/$name.log" --timeout 150 \
			"$@" --cmd ". $GUEST_TEST_LIB"$'\n'"$script" >"$SCRATCH/$name.out" 2>&1 || rc=$?
		echo "$rc" >"$SCRATCH/$name.status"
	) 3>&- 4>&- &
}

# guest_wait NAME...: wait until each guest has exited (launcher timeouts bound this).
guest_wait() {
	local name
	for name in "$@"; do
		wait_for 180 test -s "$SCRATCH/$name.status"
	done
}

# transcript NAME: the guest's serial log without carriage returns or kernel lines.
transcript() {
	ivshm_console_transcript "$SCRATCH/$1.log"
}

# assert_in_order NAME LINE...: each LINE is a whole line of the transcript, later
# ones further down. A LINE ending in " (...)" is a program's error with or without
# libivshm's detail in parentheses, whatever it says.
assert_in_order() {
	local name=$1 last=0 n line
	shift
	for line in "$@"; do
		n=$(transcript "$name" | awk -v last="$last" -v l="$line" '
			BEGIN { any = l ~ / \(\.\.\.\)$/; if (any) l = substr(l, 1, length(l) - 6) }
			NR > last && ($0 == l || (any && index($0, l " (") == 1 && $0 ~ /\)$/)) {
				print NR; exit
			}')
		[ -n "$n" ] || fail "$name: no line '$line' after line $last"$'\n'"$(transcript "$name")"
		last=$n
	done
}

# counter NAME PREFIX VECTOR: N from the transcript line "PREFIXcounterVECTOR=N".
counter() {
	transcript "$1" | sed -n "s/^$2counter$3=\([0-9]*\)$/\1/p"
}

# peer_id NAME PROGRAM: the own peer ID PROGRAM (shm-server, shm-client) printed.
peer_id() {
	transcript "$1" | sed -n "s/^$2: device [^,]*, peer ID \([0-9]*\),.*/\1/p"
}
