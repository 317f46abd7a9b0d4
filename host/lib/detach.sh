# shellcheck shell=bash
# Starting daemons that fork themselves away. Part of host/lib/ivshm.sh.
#
# A daemon holding a caller's pipe (a test runner's fd 3, a `$(...)` capture) would
# keep that caller waiting for EOF forever, so it must inherit no fd beyond stdio.

# closing_fds CMD...: run CMD with every inherited fd above 2 closed; stdio stays, so
# a daemon that reports start-up errors before detaching is still heard.
closing_fds() (
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec "$@"
)

# detached CMD...: closing_fds with stdio on /dev/null too, for daemons that keep theirs.
detached() {
	closing_fds "$@" </dev/null >/dev/null 2>&1
}
