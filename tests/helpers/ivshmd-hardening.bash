# For the ivshmd test files: peers under other users, servers without -v,
# the daemon (supervisor) and its server, floods of connections. Loads
# helpers/ivshmd (and so helpers/common) and the QEMU helpers (helpers/qemu);
# uses $SRV_DIR and $IVSHMD_BIN like them.

load helpers/ivshmd
load helpers/qemu

# as_user USER GROUP CMD...: run CMD as USER with only GROUP (e.g. nobody nogroup).
as_user() {
	local user=$1 group=$2
	shift 2
	setpriv --reuid="$user" --regid="$group" --clear-groups "$@"
}

# peer_stay_as USER GROUP NAME SOCKET [ARGS...]: peer_stay as another user.
peer_stay_as() {
	local user=$1 group=$2 name=$3 sock=$4
	shift 4
	rm -f "$SRV_DIR/$name.in" "$SRV_DIR/$name.out"
	mkfifo "$SRV_DIR/$name.in"
	timeout 600 setpriv --reuid="$user" --regid="$group" --clear-groups \
		"$(others_peer)" --stay -S "$sock" "$@" <>"$SRV_DIR/$name.in" \
		>"$SRV_DIR/$name.out" 2>&1 3>&- 4>&- &
	echo $! >"$SRV_DIR/$name.ppid"
	wait_for_line 10 "$SRV_DIR/$name.out" '^(ready|error|eof)' &&
		grep -q '^ready' "$SRV_DIR/$name.out"
}

# peer_proc NAME: the pid of a staying peer's ivshm-peer (its .ppid is `timeout`'s).
peer_proc() {
	local parent
	parent=$(cat "$SRV_DIR/$1.ppid")
	pgrep -P "$parent" | head -n 1
}

# srv_start_quiet NAME [IVSHMD OPTIONS...]: srv_start without -v.
srv_start_quiet() {
	local name=$1
	shift
	rm -f "$SRV_DIR/$name.pid"
	timeout 900 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/$name.sock" -p "$SRV_DIR/$name.pid" \
		"$@" 2>"$SRV_DIR/$name.log" >&2 3>&- 4>&- &
	wait_for 10 test -S "$SRV_DIR/$name.sock.ctl" && wait_for 10 test -s "$SRV_DIR/$name.pid"
}

# daemon_start NAME [IVSHMD OPTIONS...]: ivshmd without -F (the supervisor and its
# server) on $SRV_DIR/NAME.sock, pidfile NAME.pid naming the supervisor; returns
# once it answers. Its start-up output goes to NAME.log.
daemon_start() {
	local name=$1
	shift
	rm -f "$SRV_DIR/$name.pid"
	timeout 30 "$IVSHMD_BIN/ivshmd" -v -S "$SRV_DIR/$name.sock" -p "$SRV_DIR/$name.pid" "$@" \
		>"$SRV_DIR/$name.log" 2>&1 3>&- 4>&- &&
		wait_for 10 test -s "$SRV_DIR/$name.pid"
}

# daemon_server NAME: the pid of the supervised server (the supervisor's only child).
daemon_server() {
	pgrep -P "$(srv_pid "$1")" | head -n 1
}

# flood SOCKET CONNECTIONS: that many connections, four at a time, each until the server
# closes it.
flood() {
	local sock=$1 n=$2 j pids=()
	for j in 1 2 3 4; do
		(
			local i
			for ((i = 0; i < n / 4; i++)); do
				timeout 5 socat -u "UNIX-CONNECT:$sock" /dev/null 2>/dev/null || true
			done
		) 3>&- 4>&- &
		pids+=($!)
	done
	for j in "${pids[@]}"; do
		wait "$j"
	done
}

# hexz LEN: LEN zero bytes as ivshm-peer prints them.
hexz() {
	printf '%0*d' $(($1 * 2)) 0
}

