# Shared by the ivshmd test files (tests/01*-ivshmd-*.bats): servers and peers
# run under `timeout` in a private directory short enough for UNIX socket
# paths, and the scenarios both the normal and the ASan+UBSan files run.
# Loads helpers/common. IVSHMD_BIN picks the build (default $IVSHM_BIN;
# 016-ivshmd-asan points it at its sanitizer build in setup_file).

load helpers/common

: "${IVSHMD_BIN:=$IVSHM_BIN}"
export IVSHMD_BIN

# srv_dir_create: $SRV_DIR for this test file (call in setup_file).
srv_dir_create() {
	SRV_DIR=$(mktemp -d "/tmp/ivshmd-$(basename "$BATS_TEST_FILENAME" .bats)-$$.XXXXXX")
	export SRV_DIR
}

# srv_dir_remove: stop whatever the file started and remove $SRV_DIR; its
# logs go to the scratch directory first when IVSHM_KEEP_LOGS=1.
srv_dir_remove() {
	[ -n "${SRV_DIR:-}" ] && [ -d "$SRV_DIR" ] || return 0
	srvs_stop_all
	if [ "${IVSHM_KEEP_LOGS:-0}" = 1 ]; then
		cp "$SRV_DIR"/*.log "$SRV_DIR"/*.out "$(scratch_dir)/" 2>/dev/null || true
	fi
	rm -rf "$SRV_DIR"
}

# srvs_stop_all: stop every peer and server the file started.
srvs_stop_all() {
	peers_stop_all
	local f
	for f in "$SRV_DIR"/*.pid; do
		[ -s "$f" ] && kill_wait "$(cat "$f")"
		rm -f "$f"
	done
}

# srv_start NAME [IVSHMD OPTIONS...]: ivshmd -F -v on $SRV_DIR/NAME.sock, log in
# NAME.log, pid in NAME.pid; returns once the control socket (made last) and
# the pidfile exist.
srv_start() {
	local name=$1
	shift
	rm -f "$SRV_DIR/$name.pid"
	timeout 900 "$IVSHMD_BIN/ivshmd" -F -v -S "$SRV_DIR/$name.sock" -p "$SRV_DIR/$name.pid" \
		"$@" 2>"$SRV_DIR/$name.log" >&2 3>&- 4>&- &
	wait_for 10 test -S "$SRV_DIR/$name.sock.ctl" && wait_for 10 test -s "$SRV_DIR/$name.pid"
}

srv_sock() {
	echo "$SRV_DIR/$1.sock"
}

srv_log() {
	echo "$SRV_DIR/$1.log"
}

srv_pid() {
	cat "$SRV_DIR/$1.pid"
}

# srv_stop NAME [SIGNAL]
srv_stop() {
	kill_wait "$(srv_pid "$1")" "${2:-TERM}"
}

# srv_peers NAME: number of peers the server lists as connected.
srv_peers() {
	timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$(srv_sock "$1")" | tail -n +2 | wc -l
}

# srv_wait_peers NAME COUNT: until the server has handled every join and leave.
srv_wait_peers() {
	wait_for 10 eval "[ \"\$(srv_peers $1)\" = $2 ]"
}

# srv_fds NAME / srv_rss_kib NAME: the server's open fds and resident memory.
srv_fds() {
	ls "/proc/$(srv_pid "$1")/fd" | wc -l
}

srv_rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$(srv_pid "$1")/status"
}

# peer ARGS...: a one-shot ivshm-peer.
peer() {
	timeout 60 "$IVSHMD_BIN/ivshm-peer" "$@"
}

# others_peer: the path of a copy of ivshm-peer that other users (nobody,
# libvirt-qemu) can run wherever the checkout sits: a clone in root's home (0700)
# is out of their reach. The copy lives in $SRV_DIR/others; $SRV_DIR must be
# searchable by them (the files that run other users make it 0755).
others_peer() {
	local d=$SRV_DIR/others
	if [ ! -x "$d/ivshm-peer" ]; then
		mkdir -p "$d"
		cp "$IVSHMD_BIN/ivshm-peer" "$d/ivshm-peer"
		chmod 0755 "$d" "$d/ivshm-peer"
	fi
	echo "$d/ivshm-peer"
}

# peer_load ARGS...: the test-only client that stalls (--no-read) or churns
# (--repeat N) a server (tests/tools/peer-load.c).
PEER_LOAD=$IVSHM_BUILD/tests/tools/peer-load
peer_load() {
	timeout 120 "$PEER_LOAD" "$@"
}

# peer_stay NAME SOCKET [ARGS...]: ivshm-peer --stay in the background, reading
# commands from the FIFO NAME.in (opened read-write: it never sees EOF) and
# writing NAME.out; returns once its setup is complete.
peer_stay() {
	local name=$1 sock=$2
	shift 2
	rm -f "$SRV_DIR/$name.in" "$SRV_DIR/$name.out"
	mkfifo "$SRV_DIR/$name.in"
	timeout 600 "$IVSHMD_BIN/ivshm-peer" --stay -S "$sock" "$@" <>"$SRV_DIR/$name.in" \
		>"$SRV_DIR/$name.out" 2>&1 3>&- 4>&- &
	echo $! >"$SRV_DIR/$name.ppid"
	wait_for_line 10 "$SRV_DIR/$name.out" '^(ready|error|eof)' &&
		grep -q '^ready' "$SRV_DIR/$name.out"
}

peer_out() {
	echo "$SRV_DIR/$1.out"
}

# peer_id NAME: the ID a staying peer got.
peer_id() {
	sed -n 's/^ready id=\([0-9]*\) .*/\1/p' "$(peer_out "$1")"
}

# peer_cmd NAME LINE: send a command to a staying peer.
peer_cmd() {
	timeout 5 sh -c 'printf "%s\n" "$2" >"$1"' - "$SRV_DIR/$1.in" "$2"
}

# peer_stop NAME: quit a staying peer and wait until it has exited. It gets
# `quit`, not a signal through `timeout`: timeout follows a signal with
# SIGCONT, which can cancel the SIGSTOP of LeakSanitizer's exit-time ptrace
# attach and hang an ASan build forever.
peer_stop() {
	local pid
	pid=$(cat "$SRV_DIR/$1.ppid")
	if alive "$pid"; then
		peer_cmd "$1" quit || true
		wait_for 10 gone "$pid" || kill_wait "$pid" KILL
	fi
	rm -f "$SRV_DIR/$1.ppid"
}

peers_stop_all() {
	local f
	for f in "$SRV_DIR"/*.ppid; do
		[ -f "$f" ] || continue
		peer_stop "$(basename "$f" .ppid)"
	done
}

# expected_setup VECTORS NEW_ID EXISTING_IDS...: the trace QEMU's device must see.
expected_setup() {
	local v=$1 id=$2 p i
	shift 2
	echo "msg 0 -"
	echo "msg $id -"
	echo "msg -1 fd"
	for p in "$@" "$id"; do
		for ((i = 0; i < v; i++)); do
			echo "msg $p fd"
		done
	done
}

# scenario_setup_sequence SERVER VECTORS PEERS: with PEERS-1 peers connected,
# the next one receives exactly the protocol's setup, in order.
scenario_setup_sequence() {
	local srv=$1 v=$2 n=$3 i ids=()
	for ((i = 0; i < n - 1; i++)); do
		peer_stay "seq$i" "$(srv_sock "$srv")" -n "$v"
		ids+=("$(peer_id "seq$i")")
	done
	assert_equal "${ids[*]}" "$(seq -s ' ' 0 $((n - 2)))"
	run -0 peer -S "$(srv_sock "$srv")" -n "$v" --trace
	assert_equal "$(grep '^msg ' <<<"$output")" "$(expected_setup "$v" $((n - 1)) "${ids[@]}")"
	assert_line "ready id=$((n - 1)) vectors=$v peers=$(IFS=,; echo "${ids[*]:--}")"
	peers_stop_all
	srv_wait_peers "$srv" 0
}

# scenario_join_leave SERVER VECTORS: a present peer is told of a newcomer's
# vectors and of its departure.
scenario_join_leave() {
	local srv=$1 v=$2 i
	peer_stay watcher "$(srv_sock "$srv")" -n "$v" --trace
	peer_stay newcomer "$(srv_sock "$srv")" -n "$v"
	wait_for_line 10 "$(peer_out watcher)" '^join peer=1$'
	run -0 grep -c '^msg 1 fd$' "$(peer_out watcher)"
	assert_output "$v"
	for ((i = 0; i < v; i++)); do
		grep -qx "vector peer=1 index=$i" "$(peer_out watcher)"
	done
	peer_stop newcomer
	wait_for_line 10 "$(peer_out watcher)" '^leave peer=1$'
	run -0 grep -c '^msg 1 -$' "$(peer_out watcher)"
	assert_output 1
	peers_stop_all
	srv_wait_peers "$srv" 0
}

# scenario_wiring SERVER (8 vectors): A rings B's vector 3; only that eventfd fires.
scenario_wiring() {
	local srv=$1 b
	peer_stay wa "$(srv_sock "$srv")" -n 8
	peer_stay wb "$(srv_sock "$srv")" -n 8
	peer_stay wc "$(srv_sock "$srv")" -n 8
	b=$(peer_id wb)
	peer_cmd wa "ring $b 3"
	wait_for_line 10 "$(peer_out wa)" "^rang peer=$b vector=3$"
	wait_for_line 10 "$(peer_out wb)" '^got vector=3 count=1$'
	peer_stop wa
	peer_stop wb
	peer_stop wc
	run -0 grep '^counts ' "$(peer_out wb)"
	assert_output "counts 0,0,0,1,0,0,0,0"
	run -0 grep '^counts ' "$(peer_out wa)"
	assert_output "counts 0,0,0,0,0,0,0,0"
	run -0 grep '^counts ' "$(peer_out wc)"
	assert_output "counts 0,0,0,0,0,0,0,0"
	srv_wait_peers "$srv" 0
}

# scenario_garbage SERVER: a client that sends bytes is dropped and announced
# as gone; the server keeps serving.
scenario_garbage() {
	local srv=$1 sock
	sock=$(srv_sock "$srv")
	peer_stay gw "$sock"
	head -c 4096 /dev/urandom >"$SRV_DIR/garbage"
	# Joins like a peer (reads version, ID and memory), then talks back.
	run timeout 10 socat -t 2 "UNIX-CONNECT:$sock" \
		"SYSTEM:head -c 24 >/dev/null && cat '$SRV_DIR/garbage'"
	wait_for_line 10 "$(srv_log "$srv")" '^ivshmd: peer 1 left .*: sent data; the protocol is server to client only$'
	wait_for_line 10 "$(peer_out gw)" '^leave peer=1$'
	run -0 peer -S "$sock" -q -r 0:1
	peers_stop_all
	srv_wait_peers "$srv" 0
}

# scenario_staller SERVER VECTORS REASON: a client that never reads is dropped
# for REASON (an ERE) while peers come and go, and the others hear it left;
# meanwhile newcomers still get their setup at once.
scenario_staller() {
	local srv=$1 v=$2 reason=$3 sock stalled
	sock=$(srv_sock "$srv")
	peer_stay sw "$sock" -n "$v"
	rm -f "$SRV_DIR/staller.in"
	mkfifo "$SRV_DIR/staller.in"
	timeout 120 "$PEER_LOAD" --no-read -S "$sock" -n "$v" <>"$SRV_DIR/staller.in" \
		>"$SRV_DIR/staller.out" 2>&1 3>&- 4>&- &
	echo $! >"$SRV_DIR/staller.ppid"
	wait_for_line 10 "$(peer_out sw)" '^join peer=1$'
	wait_for_line 10 "$(srv_log "$srv")" '^ivshmd: peer 1 joined '
	stalled=1
	# Each churn cycle queues vectors + 1 messages for the staller.
	run -0 peer_load -S "$sock" -n "$v" --repeat 40
	wait_for_line 15 "$(srv_log "$srv")" "^ivshmd: peer $stalled left \\(pid [0-9]+\\): $reason"
	wait_for_line 10 "$(peer_out sw)" "^leave peer=$stalled$"
	wait_for_line 10 "$SRV_DIR/staller.out" '^hangup$'
	run -0 peer -S "$sock" -n "$v" -q
	peers_stop_all
	srv_wait_peers "$srv" 0
}

# scenario_churn SERVER CYCLES [rss]: connect/disconnect CYCLES times next to a
# staying peer; the server's fd count returns to where it was and, with rss,
# its RSS stays put (not under ASan, whose quarantine keeps freed memory).
scenario_churn() {
	local srv=$1 cycles=$2 check_rss=${3:-} fds0 rss0 fds1 rss1
	if nm "$IVSHMD_BIN/ivshmd" | grep -q __asan_init; then
		check_rss=
	fi
	peer_stay cw "$(srv_sock "$srv")" -n 4
	run -0 peer_load -S "$(srv_sock "$srv")" -n 4 --repeat 50
	srv_wait_peers "$srv" 1
	fds0=$(srv_fds "$srv")
	rss0=$(srv_rss_kib "$srv")
	run -0 peer_load -S "$(srv_sock "$srv")" -n 4 --repeat "$cycles"
	assert_output "cycles $cycles"
	srv_wait_peers "$srv" 1
	fds1=$(srv_fds "$srv")
	rss1=$(srv_rss_kib "$srv")
	echo "fds $fds0 -> $fds1, rss $rss0 -> $rss1 KiB" >&3
	assert_equal "$fds1" "$fds0"
	# One leaked client or queue per cycle would be hundreds of KiB.
	[ "$check_rss" != rss ] || [ $((rss1 - rss0)) -lt 128 ]
	wait_for 10 eval "[ \$(grep -c '^leave peer=' '$(peer_out cw)') = $((cycles + 50)) ]"
	peers_stop_all
	srv_wait_peers "$srv" 0
}

# scenario_pinned_refusal SERVER VECTORS NAME ID: a second connection to a
# pinned ID is refused while the first lives; after it leaves, the name gets
# ID again.
scenario_pinned_refusal() {
	local srv=$1 v=$2 name=$3 id=$4 sock
	sock="$(srv_sock "$srv").$name"
	peer_stay first "$sock" -n "$v"
	assert_equal "$(peer_id first)" "$id"
	run -1 peer -S "$sock" -n "$v"
	assert_line eof
	refute_line --regexp '^ready'
	wait_for_line 5 "$(srv_log "$srv")" "refused pid [0-9]+ uid [0-9]+ on $sock: pinned peer '$name' \\(ID $id\\) is still connected"
	run -0 cat "$(peer_out first)"
	refute_line --regexp '^(leave|eof)'
	peer_stop first
	srv_wait_peers "$srv" 0
	run -0 peer -S "$sock" -n "$v"
	assert_line --regexp "^ready id=$id "
	srv_wait_peers "$srv" 0
}
