# For the ivshmd test files: peers under other users, servers without -v,
# the daemon (supervisor) and its server, floods of connections. Load after
# helpers/common and helpers/ivshmd; uses $SRV_DIR and $IVSHMD_BIN like them.

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
		"$IVSHMD_BIN/ivshm-peer" --stay -S "$sock" "$@" <>"$SRV_DIR/$name.in" \
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

# qemu_start NAME SOCKET VECTORS: a q35 machine whose only device is an
# ivshmem-doorbell on SOCKET; HMP monitor on NAME.mon, pid in NAME.qpid (as 015).
qemu_start() {
	rm -f "$SRV_DIR/$1.mon" "$SRV_DIR/$1.qpid"
	timeout 300 qemu-system-x86_64 -accel tcg -M q35 -m 64 -nodefaults -display none \
		-serial none -name "ivshmd-test-$$-$1" \
		-chardev "socket,id=ivs,path=$2" -device "ivshmem-doorbell,chardev=ivs,vectors=$3" \
		-monitor "unix:$SRV_DIR/$1.mon,server=on,wait=off" -pidfile "$SRV_DIR/$1.qpid" \
		>"$SRV_DIR/$1.qemu.log" 2>&1 3>&- 4>&- &
	wait_for 20 test -s "$SRV_DIR/$1.qpid"
	wait_for 20 test -S "$SRV_DIR/$1.mon"
}

# hmp NAME COMMAND: a monitor command's output without the echo.
hmp() {
	printf '%s\n' "$2" | timeout 10 socat -t 1 - "UNIX-CONNECT:$SRV_DIR/$1.mon" |
		tr -d '\r' | grep -v -e '^QEMU .* monitor' -e '^(qemu)'
}

# bar2_addr NAME: BAR2's guest-physical address once firmware has assigned it.
bar2_addr() {
	hmp "$1" "info pci" | sed -n 's/^ *BAR2: 64 bit prefetchable memory at \(0x[0-9a-f]*\) .*/\1/p' |
		grep -v '^0xffffffffffffffff$'
}

bar2_assigned() {
	[ -n "$(bar2_addr "$1")" ]
}

# xp_hex NAME ADDR LEN: LEN bytes of guest-physical memory at ADDR as one hex string.
xp_hex() {
	hmp "$1" "xp /$3xb $2" | sed -n 's/^[0-9a-f]*: //p' | tr -d ' \n' | sed 's/0x//g'
}

# qemus_stop_all: stop every QEMU the file started.
qemus_stop_all() {
	local f
	for f in "$SRV_DIR"/*.qpid; do
		[ -s "$f" ] && kill_wait "$(cat "$f")"
		rm -f "$f"
	done
}

# hex TEXT: TEXT as ivshm-peer prints bytes.
hex() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}
