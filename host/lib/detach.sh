# Sourced by the host scripts that start daemons.

# detached CMD...: run CMD (a daemon that forks itself away) with stdio on /dev/null
# and every other inherited fd closed. A daemon holding a caller's pipe (a test
# runner's fd 3, a `$(...)` capture) would keep that caller waiting for EOF forever.
detached() (
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec "$@" </dev/null >/dev/null 2>&1
)
