# SPDX-License-Identifier: GPL-2.0-or-later
# The ivshm guest's interface to whatever boots it, for shell: where its init finds the
# script of role "cmd", and the marker lines it prints on the serial console.
# Sourced by the guest's init (busybox sh: keep this POSIX), the host scripts
# (host/lib/ivshm.sh) and the tests. The C definition is guest-console.h;
# tests/002-guest-console.bats checks that the two agree.
#
#   IVSHM-GUEST-READY kernel=VER uio=N   modules loaded, the role is about to start
#   IVSHM-GUEST-ERROR MESSAGE            a setup step failed; the role still runs
#   IVSHM-GUEST-EXIT status=N            the role ended with status N; power-off follows
#
# Each marker is a line of its own. Serial logs end lines with \r\n: every reader
# below drops the \r.

# shellcheck disable=SC2034 # for the files that source this one
IVSHM_CONSOLE_READY=IVSHM-GUEST-READY
IVSHM_CONSOLE_ERROR=IVSHM-GUEST-ERROR
IVSHM_CONSOLE_EXIT=IVSHM-GUEST-EXIT

# Whole marker lines as extended regular expressions (grep -E, assert_line --regexp).
IVSHM_CONSOLE_READY_RE="^$IVSHM_CONSOLE_READY kernel=[^ ]+ uio=[0-9]+\$"
IVSHM_CONSOLE_ERROR_RE="^$IVSHM_CONSOLE_ERROR .+\$"
IVSHM_CONSOLE_EXIT_RE="^$IVSHM_CONSOLE_EXIT status=[0-9]+\$"

# The script role "cmd" runs, put into the initramfs by the launcher.
IVSHM_GUEST_CMD=/etc/ivshm/cmd

# Printers, for the guest.

# ivshm_console_print_ready KERNEL_RELEASE UIO_DEVICES
ivshm_console_print_ready() {
	printf '%s kernel=%s uio=%s\n' "$IVSHM_CONSOLE_READY" "$1" "$2"
}

# ivshm_console_print_error MESSAGE...
ivshm_console_print_error() {
	printf '%s %s\n' "$IVSHM_CONSOLE_ERROR" "$*"
}

# ivshm_console_print_exit STATUS
ivshm_console_print_exit() {
	printf '%s status=%s\n' "$IVSHM_CONSOLE_EXIT" "$1"
}

# Readers, for the host: LOG is a serial console log, possibly still being written
# or not there yet (then it has no markers).

# ivshm_console_text LOG: the log without carriage returns.
ivshm_console_text() {
	# stderr first: a missing LOG is no error, just no markers yet.
	tr -d '\r' 2>/dev/null <"$1"
}

# ivshm_console_transcript LOG: the guest's own lines, without the kernel's messages,
# whole lines only: what follows the last newline (a line still being written, or a
# kernel message cut off when the VM stopped) is left out. The appended character
# makes the last line always incomplete, so sed drops exactly that.
ivshm_console_transcript() {
	{ ivshm_console_text "$1"; printf '~'; } | sed '$d' | grep -v '^\[ *[0-9]*\.[0-9]*\]'
}

# ivshm_console_is_ready LOG: the guest has printed its READY marker.
ivshm_console_is_ready() {
	# grep -q would stop reading early: a SIGPIPE on tr fails the pipeline under pipefail.
	ivshm_console_text "$1" | grep -E "$IVSHM_CONSOLE_READY_RE" >/dev/null
}

# ivshm_console_exit_status LOG: print N of the last EXIT marker; non-zero when there
# is none. A kernel message may follow the marker on its line before power-off.
ivshm_console_exit_status() {
	ivshm_console_text "$1" |
		sed -n "s/^$IVSHM_CONSOLE_EXIT status=\\([0-9][0-9]*\\).*/\\1/p" | tail -n 1 | grep .
}

# ivshm_console_has_exited LOG: the guest has printed its EXIT marker.
ivshm_console_has_exited() {
	ivshm_console_exit_status "$1" >/dev/null
}

# ivshm_console_errors LOG: the message of each ERROR marker, one a line.
ivshm_console_errors() {
	ivshm_console_text "$1" | sed -n "s/^$IVSHM_CONSOLE_ERROR //p"
}
