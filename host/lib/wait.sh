# Sourced by the host scripts: waiting on a condition with a deadline, never a fixed sleep.

# wait_until SECONDS CMD...: run CMD every 20 ms until it succeeds; non-zero at the deadline.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}
