# shellcheck shell=bash
# The shm-server/shm-client exchange between two guests, whatever boots them
# (libvirt domains, ivshm-vm). Part of host/lib/ivshm.sh.
#
#   guest "server": shm-server writes its greeting, then waits for a client
#   guest "client": started only then; reads, replies, rings the server
#
# The caller passes two commands: START ROLE boots guest ROLE (server, client) in the
# background, non-zero if it cannot; LOG_OF ROLE prints that guest's serial log.

# exchange_run TIMEOUT START LOG_OF: boot the server guest, then the client guest once
# shm-server waits for it, then wait until both guests have exited, or until one exits
# non-zero (the other may then wait for nothing). Each wait ends after TIMEOUT seconds.
# Returns 0 when both exited with status 0; otherwise non-zero with the reason in
# EXCHANGE_ERROR. Leaves the guests running: stopping them is the caller's.
exchange_run() {
	local timeout=$1 start=$2 log_of=$3 log status role failed='' unfinished=''
	EXCHANGE_ERROR=
	"$start" server || {
		EXCHANGE_ERROR="cannot start ivshm-server"
		return 1
	}
	log=$("$log_of" server)
	if ! wait_for "$timeout" exchange_server_waits "$log" 2>/dev/null; then
		EXCHANGE_ERROR="shm-server did not come up within ${timeout}s"
		return 1
	fi
	if status=$(ivshm_console_exit_status "$log"); then
		EXCHANGE_ERROR="ivshm-server exited with status $status before it waited for a client"
		return 1
	fi
	"$start" client || {
		EXCHANGE_ERROR="cannot start ivshm-client"
		return 1
	}
	wait_for "$timeout" exchange_over "$log_of" 2>/dev/null || true
	for role in server client; do
		if ! status=$(ivshm_console_exit_status "$("$log_of" "$role")"); then
			unfinished+="${unfinished:+ and }ivshm-$role"
		elif [ "$status" != 0 ]; then
			failed+="${failed:+, }ivshm-$role exited with status $status"
		fi
	done
	# A guest left waiting for a failed peer has nothing to say of its own.
	if [ -n "$failed" ]; then
		EXCHANGE_ERROR=$failed
	elif [ -n "$unfinished" ]; then
		EXCHANGE_ERROR="$unfinished did not finish within ${timeout}s"
	fi
	[ -z "$EXCHANGE_ERROR" ]
}

# exchange_server_waits LOG: shm-server waits for a client, or the guest has already exited.
exchange_server_waits() {
	ivshm_console_has_exited "$1" ||
		ivshm_console_text "$1" | grep '^shm-server: .*waiting for a client' >/dev/null
}

# exchange_over LOG_OF: both guests have exited, or one of them with a non-zero status.
exchange_over() {
	local role status done=0
	for role in server client; do
		status=$(ivshm_console_exit_status "$("$1" "$role")") || continue
		[ "$status" = 0 ] || return 0
		done=$((done + 1))
	done
	[ "$done" = 2 ]
}
