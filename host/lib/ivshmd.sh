# shellcheck shell=bash
# The system ivshmd that the libvirt domains connect to, on $IVSHM_SOCKET, started
# directly (where systemd does not run it) with the options of /etc/default/ivshmd.
# Part of host/lib/ivshm.sh. SYSTEM_IVSHMD names the binary (default: ivshmd on PATH).

# ivshmd_system_answers: an ivshmd serves $IVSHM_SOCKET.
ivshmd_system_answers() {
	"${SYSTEM_IVSHMD:-ivshmd}" --list -S "$IVSHM_SOCKET" >/dev/null 2>&1
}

# ivshmd_system_start PIDFILE [OPTION...]: ivshmd with /etc/default/ivshmd's options,
# then OPTIONs (later options win), daemonized with its pid in PIDFILE; returns once
# it answers (10 s). Its start-up errors go to our stderr, our other fds stay ours.
ivshmd_system_start() {
	local pidfile=$1 IVSHMD_OPTS=
	shift
	if [ ! -r /etc/default/ivshmd ]; then
		echo "/etc/default/ivshmd missing: run 'make install SYSTEM=1'" >&2
		return 1
	fi
	# shellcheck disable=SC1091
	. /etc/default/ivshmd
	install -d -m 0755 "$(dirname "$IVSHM_SOCKET")" || return
	# shellcheck disable=SC2086 # IVSHMD_OPTS is a word list, as in the systemd unit
	closing_fds "${SYSTEM_IVSHMD:-ivshmd}" $IVSHMD_OPTS "$@" --pidfile "$pidfile" || return
	wait_for 10 ivshmd_system_answers
}

# ivshmd_system_stop PIDFILE: stop the ivshmd whose pid PIDFILE holds, if there is
# one, and wait until it is gone. Non-zero when it needed SIGKILL.
ivshmd_system_stop() {
	local pid
	pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] || return 0
	kill_wait "$pid" && return 0
	kill_wait "$pid" KILL
	return 1
}
