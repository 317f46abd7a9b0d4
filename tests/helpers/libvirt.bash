# For tests/05*-*.bats: the system-wide ivshmd the installed VM configs expect, and
# the ivshm-server/ivshm-client domains, always cleaned up. The work is done by the
# host library (host/lib/ivshmd.sh, libvirt.sh, exchange.sh), as in ivshm-demo.
# Loads helpers/common.

load helpers/common

SYS_SOCK=$IVSHM_SOCKET
SYS_PIDFILE=$(dirname "$IVSHM_SOCKET")/ivshmd-test.pid
export LIBVIRT_DEFAULT_URI=$IVSHM_LIBVIRT_URI

# system_ivshmd_start [EXTRA OPTS]: the installed ivshmd with the installed
# /etc/default/ivshmd options (later options win), daemonized; returns once it answers.
system_ivshmd_start() {
	ivshmd_system_start "$SYS_PIDFILE" "$@"
}

system_ivshmd_stop() {
	ivshmd_system_stop "$SYS_PIDFILE"
}

libvirt_cleanup() {
	domain_remove ivshm-server
	domain_remove ivshm-client
	system_ivshmd_stop
}

# guest_log ROLE: the serial log of domain ivshm-ROLE, without carriage returns.
guest_log() {
	ivshm_console_text "$(libvirt_log_of "$1")"
}

guest_done() {
	ivshm_console_has_exited "$(libvirt_log_of "$1")"
}

# run_exchange_round: the exchange between the defined domains, as ivshm-demo runs
# it; fails unless both guests exit 0 and both domains shut off.
run_exchange_round() {
	exchange_run 90 libvirt_boot libvirt_log_of || fail "$EXCHANGE_ERROR"
	wait_for 30 domain_shut_off ivshm-server
	wait_for 30 domain_shut_off ivshm-client
}

# assert_in_order TEXT NEEDLE...: each NEEDLE occurs in TEXT after the previous one.
assert_in_order() {
	local rest=$1 needle
	shift
	for needle in "$@"; do
		case "$rest" in
		*"$needle"*) rest=${rest#*"$needle"} ;;
		*) fail "'$needle' missing or out of order" ;;
		esac
	done
}

# assert_no_domain_left: no ivshm-* domain is defined, running or shut off.
assert_no_domain_left() {
	run -0 virsh -q list --all --name
	refute_output --partial ivshm-
}

# assert_no_ivshmd_left: no system ivshmd, socket or pidfile survives the demo.
assert_no_ivshmd_left() {
	run ivshmd --list -S "$SYS_SOCK"
	assert_failure
	assert_file_not_exists "$SYS_SOCK"
	assert_file_not_exists "$SYS_SOCK.server"
	assert_file_not_exists "$SYS_SOCK.client"
	assert_file_not_exists "$(dirname "$SYS_SOCK")/ivshmd.pid"
	# Only the demo's daemon: other test files may run private ivshmds.
	run pgrep -f -- "--pidfile $(dirname "$SYS_SOCK")/ivshmd.pid"
	assert_failure
}
