# Shared by the ivshm-proxy test files (tests/07[5-8]-proxy-*.bats): proxies as host
# peers of a private ivshmd, sockload servers and clients, the proxies' status.
# Loads helpers/common; px_world_start makes SCRATCH (a private directory, short
# enough for Unix socket paths) and a private ivshmd, or set SCRATCH yourself.

load helpers/common

# PROXY picks the build (an ASan+UBSan one: PROXY=.../ivshm-proxy tests/run ...).
: "${PROXY:=$IVSHM_BIN/ivshm-proxy}"
SOCKLOAD="$IVSHM_BUILD/tests/tools/sockload"

# px_world_start: a private scratch directory ($SCRATCH) and ivshmd ($SOCK, one
# vector, 64 MiB) for a file's proxies; px_world_stop [NAMES...] stops those proxies,
# then every process a helper started (its *.tpid), and removes the directory.
px_world_start() {
	export SCRATCH
	SCRATCH="$(scratch_dir)/$$"
	mkdir -p "$SCRATCH"
	export SOCK="$SCRATCH/ivshmd.sock"
	ivshmd_private_start "$SOCK" "$SCRATCH/ivshmd.log" -l 64M -n 1
}

px_world_stop() {
	local name f
	for name in "$@"; do
		px_stop "$name"
	done
	for f in "$SCRATCH"/*.tpid; do
		kill_wait "$(cat "$f")" || true
	done
	scratch_teardown
}

# px_start NAME SOCKET [SETTINGS...]: ivshm-proxy -v as host peer NAME (role proxy-NAME)
# on the ivshmd at SOCKET, control socket $SCRATCH/NAME.ctl, log $SCRATCH/NAME.log;
# returns once it has published. Its `timeout` pid is in NAME.tpid (px_pid: the proxy).
px_start() {
	local name=$1 sock=$2
	shift 2
	rm -f "$SCRATCH/$name.ctl"
	timeout 900 "$PROXY" -v --name "$name" --server "$sock" --vectors 1 \
		--control "$SCRATCH/$name.ctl" "$@" >"$SCRATCH/$name.log" 2>&1 3>&- 4>&- &
	echo $! >"$SCRATCH/$name.tpid"
	wait_for 10 eval "px_status $name 2>/dev/null | grep -q '^proxy .* published=yes'"
}

# px_pid NAME: the proxy's own pid (its .tpid is `timeout`'s).
px_pid() {
	pgrep -P "$(cat "$SCRATCH/$1.tpid")" -x ivshm-proxy
}

# px_stop NAME [SIGNAL]: end the proxy and wait until it is gone.
px_stop() {
	local pid
	pid=$(px_pid "$1") || return 0
	kill_wait "$pid" "${2:-TERM}"
}

px_status() {
	timeout 10 "$PROXY" status --control "$SCRATCH/$1.ctl"
}

# px_listen NAME SERVICE PEER: the address proxy NAME listens on for SERVICE@PEER.
px_listen() {
	px_status "$1" | sed -n "s/^import service=$2 peer=$3 listen=\([^ ]*\) .*/\1/p"
}

# px_conns NAME: the connections proxy NAME carries.
px_conns() {
	px_status "$1" | grep -c '^conn ' || true
}

# px_field NAME KIND KEY: KEY's value on proxy NAME's first status line of KIND.
px_field() {
	px_status "$1" | awk -v kind="$2" -v key="$3" '$1 == kind {
		for (i = 2; i <= NF; i++) if (index($i, key "=") == 1) { print substr($i, length(key) + 2); exit } }'
}

# sl_serve NAME ADDR [OPTIONS...]: a sockload server in the background, output in
# $SCRATCH/NAME.out; prints the address it listens on (a port 0's real port).
sl_serve() {
	local name=$1 addr=$2
	shift 2
	timeout 900 "$SOCKLOAD" serve "$addr" "$@" >"$SCRATCH/$name.out" 2>&1 3>&- 4>&- &
	echo $! >"$SCRATCH/$name.tpid"
	wait_for 10 grep -q '^listening ' "$SCRATCH/$name.out"
	sed -n 's/^listening //p' "$SCRATCH/$name.out"
}

# sockload ARGS...: a sockload client, bounded.
sockload() {
	timeout 120 "$SOCKLOAD" "$@"
}

# fds_of PID / rss_kib_of PID
fds_of() {
	ls "/proc/$1/fd" | wc -l
}

rss_kib_of() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
