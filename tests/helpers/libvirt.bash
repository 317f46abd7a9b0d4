# For tests/05*-libvirt*.bats: the system-wide ivshmd the installed VM configs expect,
# and the ivshm-server/ivshm-client domains, always cleaned up.

SYS_SOCK=/run/ivshm/ivshmd.sock
SYS_PIDFILE=/run/ivshm/ivshmd-test.pid
export LIBVIRT_DEFAULT_URI=qemu:///system

# system_ivshmd_start [EXTRA OPTS]: ivshmd with the installed /etc/default/ivshmd
# options (later options win), daemonized; returns once it answers.
system_ivshmd_start() {
	local IVSHMD_OPTS
	# shellcheck disable=SC1091
	. /etc/default/ivshmd
	install -d -m 0755 /run/ivshm
	# shellcheck disable=SC2086
	ivshmd $IVSHMD_OPTS "$@" --pidfile "$SYS_PIDFILE" 3>&- 4>&-
	wait_for 10 ivshmd --list -S "$SYS_SOCK"
}

system_ivshmd_stop() {
	local pid
	pid=$(cat "$SYS_PIDFILE" 2>/dev/null) || return 0
	kill_wait "$pid"
}

libvirt_cleanup() {
	local role
	for role in server client; do
		virsh -q destroy "ivshm-$role" >/dev/null 2>&1 || true
		virsh -q undefine "ivshm-$role" >/dev/null 2>&1 || true
	done
	system_ivshmd_stop
}

guest_log() {
	tr -d '\r' <"/var/log/ivshm/ivshm-$1.log"
}

guest_done() {
	guest_log "$1" 2>/dev/null | grep -q '^IVSHM-GUEST-EXIT status='
}

# run_exchange_round: start the server domain, then the client once the server
# waits, and wait for both to power off.
run_exchange_round() {
	virsh -q start ivshm-server
	wait_for 60 eval "guest_log server 2>/dev/null | grep -q 'waiting for a client'"
	virsh -q start ivshm-client
	wait_for 90 guest_done server
	wait_for 90 guest_done client
	wait_for 30 eval "[ \"\$(virsh -q domstate ivshm-server)\" = 'shut off' ]"
	wait_for 30 eval "[ \"\$(virsh -q domstate ivshm-client)\" = 'shut off' ]"
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

# assert_no_ivshmd_left: no system ivshmd, socket or pidfile survives the demo.
assert_no_ivshmd_left() {
	run ivshmd --list -S "$SYS_SOCK"
	assert_failure
	assert_file_not_exists "$SYS_SOCK"
	assert_file_not_exists "$SYS_SOCK.server"
	assert_file_not_exists "$SYS_SOCK.client"
	assert_file_not_exists /run/ivshm/ivshmd.pid
	# Only the demo's daemon: other test files may run private ivshmds.
	run pgrep -f -- '--pidfile /run/ivshm/ivshmd.pid'
	assert_failure
}
