# shellcheck shell=bash
# Waiting with a deadline, never a fixed sleep: for a condition, for a process to end.
# Part of host/lib/ivshm.sh.

# wait_for SECONDS CMD...: run CMD every 20 ms until it succeeds. At the deadline,
# says what it waited for on stderr and returns non-zero.
wait_for() {
	local deadline=$((SECONDS + $1)) timeout=$1
	shift
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_for: timed out after ${timeout}s: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# alive PID: the process exists and is not a zombie (orphans may never be reaped here).
alive() {
	local state
	state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

gone() {
	! alive "$1"
}

# kill_wait PID [SIGNAL]: signal PID (TERM by default) and wait until it is gone (10 s).
kill_wait() {
	kill "-${2:-TERM}" "$1" 2>/dev/null || true
	wait_for 10 gone "$1"
}
