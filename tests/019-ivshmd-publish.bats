#!/usr/bin/env bats
# ivshmd's server page (issues 8 and 13): contracts/ivshm-shm.h at offset 2048
# (magic "ISRV", seq even between rewrites, nr_ids 8192, the vector count, a
# bitmap of connected IDs, and since layout 1.1 a tick every 100 ms), rewritten
# whole on every join and leave and at start, so libivshm sees a killed peer as
# dead at once instead of when its heartbeat stops. On by default
# (--no-publish-peers turns it off: heartbeats then); withdrawn (magic 0,
# tick_ms 0) at a clean exit.
#
#   ivshm-chan serve (victim) --+                  +--> server page @2048
#   ivshm-chan peers -----------+--> ivshmd -------+
#   peer-watch (kills, times) --+   (default)

load helpers/ivshmd-hardening

setup_file() {
	srv_dir_create
	make -s -C "$IVSHM_TOP/tests/tools" >&2
	export SHM_NAME="ivshmd-publish-test-$$"
}

teardown_file() {
	srv_dir_remove
	rm -f "/dev/shm/$SHM_NAME"
}

setup() {
	CHAN=$IVSHM_BUILD/guest-apps/bin/ivshm-chan
	WATCH=$IVSHM_BUILD/tests/tools/peer-watch
}

teardown() {
	peers_stop_all
	srvs_stop_all
}

# victim_start SERVER: an ivshm-chan host peer published as "victim"; its pid in victim.ppid.
victim_start() {
	timeout 120 "$CHAN" --host "$(srv_sock "$1")" -r victim serve >"$SRV_DIR/victim.out" 2>&1 3>&- 4>&- &
	echo $! >"$SRV_DIR/victim.ppid"
	wait_for 10 eval "chan_peers $1 | grep -q 'role=victim state=live'" || { cat "$SRV_DIR/victim.out"; chan_peers "$1"; return 1; }
}

victim_pid() {
	pgrep -P "$(cat "$SRV_DIR/victim.ppid")" ivshm-chan
}

chan_peers() {
	timeout 10 "$CHAN" --host "$(srv_sock "$1")" -r lister peers
}

# page SERVER LEN: LEN bytes of the server page as hex, read by a peer.
page() {
	peer -S "$(srv_sock "$1")" -n 4 -r "2048:$2" | sed -n 's/^read offset=2048 hex=//p'
}

# le32 HEX OFFSET: the little-endian 32-bit word at byte OFFSET of HEX, in decimal.
le32() {
	local w=${1:$(($2 * 2)):8}
	echo $((16#${w:6:2}${w:4:2}${w:2:2}${w:0:2}))
}

@test "by default a host peer killed with SIGKILL is dead at once for ivshm-chan peers" {
	srv_start pub -n 4 -l 4M
	victim_start pub
	kill -KILL "$(victim_pid)"
	# As soon as ivshmd has seen the connection close, the next reader knows.
	srv_wait_peers pub 0
	run -0 chan_peers pub
	assert_line --regexp '^peer id=[0-9]+ role=victim state=dead vector=[0-9]+ generation=[0-9]+$'
}

@test "--no-publish-peers: a host reader hears the leave; a stopped peer dies by its heartbeat, in about a second" {
	local ms
	srv_start nopub -n 4 -l 4M --no-publish-peers
	victim_start nopub
	kill -KILL "$(victim_pid)"
	srv_wait_peers nopub 0
	# No page: the server's leave notice told the host reader.
	assert_equal "$(page nopub 20)" "$(hexz 20)"
	run -0 chan_peers nopub
	assert_line --regexp '^peer id=[0-9]+ role=victim state=dead vector=[0-9]+ generation=[0-9]+$'
	# Stopped, it keeps its connection: only its heartbeat can tell (fresh memory,
	# so the dead victim's publication is not the one watched).
	srv_start nopub2 -n 4 -l 4M --no-publish-peers
	victim_start nopub2
	run -0 timeout 20 "$WATCH" "$(srv_sock nopub2)" 4 victim "$(victim_pid)" 10000 STOP
	kill -KILL "$(victim_pid)"
	ms=$(sed -n 's/^dead after \([0-9]*\) ms$/\1/p' <<<"$output")
	echo "# with --no-publish-peers: a stopped peer dead after $ms ms" >&3
	[ "$ms" -ge 500 ] || fail "dead after only $ms ms: before the heartbeat bound"
	[ "$ms" -le 3000 ] || fail "dead after $ms ms"
}

@test "without a server page, a host peer opens while others join and leave faster than its quiet gap" {
	# A scripted server greets it alone, then has a peer join or leave every 20 ms:
	# never 50 ms of quiet, so only the greeting's order (ours last) can tell that
	# its own group of eventfds is whole.
	local churn victim rc=0
	"$IVSHM_TOP/tests/tools/churn-server" "$SRV_DIR/churn.sock" 4 victim 20 >"$SRV_DIR/churn.out" 2>&1 3>&- 4>&- &
	churn=$!
	wait_for 10 test -S "$SRV_DIR/churn.sock"
	timeout 30 "$CHAN" --host "$SRV_DIR/churn.sock" -r victim serve >"$SRV_DIR/victim.out" 2>&1 3>&- 4>&- &
	victim=$!
	wait "$churn" || rc=$?
	kill "$victim" 2>/dev/null || true
	cat "$SRV_DIR/churn.out" "$SRV_DIR/victim.out"
	assert_equal "$rc" 0
}

@test "by default a watching peer sees the kill within milliseconds" {
	local ms
	srv_start pub -n 4 -l 4M
	victim_start pub
	run -0 timeout 20 "$WATCH" "$(srv_sock pub)" 4 victim "$(victim_pid)" 10000
	ms=$(sed -n 's/^dead after \([0-9]*\) ms$/\1/p' <<<"$output")
	echo "# by default: dead after $ms ms" >&3
	[ "$ms" -le 200 ]
}

@test "the page: magic, even seq, 8192 IDs, vectors, the bitmap of connected IDs, rewritten on join and leave" {
	local p a b c
	srv_start pub -n 4 -l 1M
	peer_stay a "$(srv_sock pub)" -n 4
	peer_stay b "$(srv_sock pub)" -n 4
	peer_stay c "$(srv_sock pub)" -n 4
	assert_equal "$(peer_id a) $(peer_id b) $(peer_id c)" "0 1 2"
	peer_stop b
	srv_wait_peers pub 2
	# The reading peer is ID 3 and connected while it reads.
	p=$(page pub 20)
	assert_equal "${p:0:8}" "$(hex ISRV)"
	assert_equal $(($(le32 "$p" 4) % 2)) 0
	assert_equal "$(le32 "$p" 8)" 8192
	# The server's vector count (layout 1.1), then the bitmap.
	assert_equal "$(le32 "$p" 12)" 4
	assert_equal "$(le32 "$p" 16)" $(((1 << 0) | (1 << 2) | (1 << 3)))
	# The rest of the bitmap (IDs 32 to 8191) is clear.
	p=$(page pub 1040)
	assert_equal "${p:40}" "$(hexz 1020)"
}

# Peers can write the page; ivshmd never reads it back, it writes its own table over it.
@test "a peer scribbling on the page is overwritten by the next change" {
	local p
	srv_start pub -n 4 -l 1M
	peer_stay a "$(srv_sock pub)" -n 4
	run -0 peer -S "$(srv_sock pub)" -n 4 -w "2048:XXXXYYYYZZZZWWWWVVVV"
	p=$(page pub 20)
	assert_equal "${p:0:8}" "$(hex ISRV)"
	assert_equal "$(le32 "$p" 8)" 8192
	assert_equal "$(le32 "$p" 16)" $(((1 << 0) | (1 << 2)))
}

@test "memory below 1 MiB: the page is still at 2048; --no-publish-peers leaves it alone" {
	local p
	srv_start small -n 4 -l 16K
	peer_stay a "$(srv_sock small)" -n 4
	p=$(page small 20)
	assert_equal "${p:0:8}" "$(hex ISRV)"
	assert_equal "$(le32 "$p" 16)" $(((1 << 0) | (1 << 1)))
	srv_start off -n 4 -l 1M --no-publish-peers
	peer_stay b "$(srv_sock off)" -n 4
	assert_equal "$(page off 20)" "$(hexz 20)"
}

@test "a clean exit withdraws the page; a start rewrites whatever was there" {
	local obj=/dev/shm/$SHM_NAME p
	rm -f "$obj"
	truncate -s 1M "$obj"
	chmod 0600 "$obj"
	# Left over from anything: a bitmap claiming every ID, a stale magic.
	printf 'ISRV\0\0\0\0\0\040\0\0\0\0\0\0\377\377\377\377' |
		dd of="$obj" bs=1 seek=2048 conv=notrunc status=none
	srv_start kept -n 4 -l 1M -M "$SHM_NAME" --shm-reuse --publish-peers
	p=$(page kept 24)
	assert_equal "$(le32 "$p" 16)" $((1 << 0))
	assert_equal "$(le32 "$p" 20)" 0
	srv_stop kept
	p=$(od -An -tx1 -j 2048 -N 20 "$obj" | tr -d ' \n')
	assert_equal "$(le32 "$p" 0)" 0
	assert_equal $(($(le32 "$p" 4) % 2)) 0
	assert_equal "$(le32 "$p" 16)" 0
}

# tick SERVER: the server page's tick and tick_ms (offsets 1040 and 1044 of the page).
tick() {
	local p
	p=$(page "$1" 1048)
	echo "$(le32 "$p" 1040) $(le32 "$p" 1044)"
}

@test "the tick grows every 100 ms while ivshmd runs; tick_ms 100; both withdrawn at exit" {
	local t0 t1 ms p obj=/dev/shm/$SHM_NAME
	srv_start tk -n 4 -l 1M
	read -r t0 ms < <(tick tk)
	assert_equal "$ms" 100
	[ "$t0" -ge 1 ]
	wait_for 5 eval '[ "$(tick tk | cut -d" " -f1)" -ge $((t0 + 5)) ]'
	srv_stop tk
	# The memfd died with the server: an object it did not create shows what is left.
	rm -f "$obj"
	truncate -s 1M "$obj"
	chmod 0600 "$obj"
	srv_start tk -n 4 -l 1M -M "$SHM_NAME" --shm-reuse
	read -r t1 ms < <(tick tk)
	assert_equal "$ms" 100
	srv_stop tk
	p=$(od -An -tx1 -j $((2048 + 1040)) -N 8 "$obj" | tr -d ' \n')
	[ "$(le32 "$p" 0)" -ge "$t1" ]
	assert_equal "$(le32 "$p" 4)" 0
	rm -f "$obj"
}
