#!/usr/bin/env bats
# libivshm's host backend (issue 13) against the real ivshmd: the vector count
# (0 takes the server's, another is refused at once), memory not sealed against
# shrinking, the server going away, the server's leave notices, and host peers
# that attack the eventfds every peer shares (one open file description, one
# O_NONBLOCK flag for all).
#
#   host-probe (libivshm host handle, commands on a FIFO) --+
#   efd-attack (hostile host peer) -------------------------+--> ivshmd
#   ivshm-peer (a plain client, pinned or not) -------------+
#
# IVSHM_HOST_PROBE runs another build of host-probe (the proof that a test
# fails on the code before the fix).

load helpers/ivshmd

setup_file() {
	srv_dir_create
	export SHM_NAME="ivshm-host-peer-test-$$"
}

teardown_file() {
	srv_dir_remove
	rm -f "/dev/shm/$SHM_NAME"
}

setup() {
	PROBE=${IVSHM_HOST_PROBE:-$IVSHM_BUILD/tests/tools/host-probe}
	ATTACK=$IVSHM_BUILD/tests/tools/efd-attack
	CHAN=$IVSHM_BUILD/guest-apps/bin/ivshm-chan
}

teardown() {
	local f
	for f in "$SRV_DIR"/*.apid; do
		[ -f "$f" ] && kill_wait "$(cat "$f")" KILL
		rm -f "$f"
	done
	peers_stop_all
	srvs_stop_all
}

# probe SOCKET VECTORS [OPTIONS...]: open, then quit; the outcome on stdout.
probe() {
	local sock=$1 v=$2
	shift 2
	echo quit | timeout 20 "$PROBE" "$@" "$sock" "$v"
}

# probe_stay NAME SOCKET VECTORS: a host-probe in the background reading commands
# from the FIFO NAME.in, writing NAME.out (peer_cmd and peers_stop_all drive it).
probe_stay() {
	local name=$1 sock=$2 v=$3
	rm -f "$SRV_DIR/$name.in" "$SRV_DIR/$name.out"
	mkfifo "$SRV_DIR/$name.in"
	timeout 300 "$PROBE" "$sock" "$v" <>"$SRV_DIR/$name.in" >"$SRV_DIR/$name.out" 2>&1 3>&- 4>&- &
	echo $! >"$SRV_DIR/$name.ppid"
	wait_for_line 15 "$SRV_DIR/$name.out" '^open ' && grep -q '^open id=' "$SRV_DIR/$name.out"
}

probe_id() {
	sed -n 's/^open id=\([0-9]*\) .*/\1/p' "$(peer_out "$1")"
}

# attack NAME SOCKET VECTORS SECONDS MODE [ID]: efd-attack in the background; returns
# once it holds the eventfds and acted; its ID in ATTACKER.
attack() {
	local name=$1
	shift
	timeout 120 "$ATTACK" "$@" >"$SRV_DIR/$name.aout" 2>&1 3>&- 4>&- &
	echo $! >"$SRV_DIR/$name.apid"
	wait_for_line 15 "$SRV_DIR/$name.aout" '^ready id=' || { cat "$SRV_DIR/$name.aout"; return 1; }
	ATTACKER=$(sed -n 's/^ready id=//p' "$SRV_DIR/$name.aout")
}

# result NAME PATTERN SECONDS: wait for the probe's result line matching PATTERN.
result() {
	wait_for_line "$3" "$(peer_out "$1")" "$2" || { cat "$(peer_out "$1")"; return 1; }
	grep -E "$2" "$(peer_out "$1")" | tail -1
}

# ms_of LINE: the ms=N field.
ms_of() {
	sed -n 's/.* ms=\([0-9]*\).*/\1/p' <<<"$1"
}

@test "vectors 0 takes the server's count: from the server page, else from the setup" {
	srv_start pg -n 3 -l 1M
	run -0 probe "$(srv_sock pg)" 0
	assert_line --regexp '^open id=0 vectors=3 ms=[0-9]+$'
	refute_line --partial 'log '
	srv_start np -n 3 -l 1M --no-publish-peers
	run -0 probe "$(srv_sock np)" 0
	assert_line --regexp '^open id=0 vectors=3 '
	# Another peer's group in the setup tells it too.
	peer_stay other "$(srv_sock np)" -n 3
	run -0 probe "$(srv_sock np)" 0
	assert_line --regexp '^open id=[0-9]+ vectors=3 '
	run -0 probe "$(srv_sock np)" 3
	assert_line --regexp '^open id=[0-9]+ vectors=3 '
}

@test "a count that differs from the server's is refused at once, saying both" {
	local sock line
	srv_start pg -n 3 -l 1M
	srv_start np -n 3 -l 1M --no-publish-peers
	for sock in "$(srv_sock pg)" "$(srv_sock np)"; do
		for want in 2 4; do
			run -1 probe "$sock" "$want"
			assert_line "log $sock: the server has 3 vectors, you asked for $want"
			line=$(grep '^open ' <<<"$output")
			assert_regex "$line" '^open error=EINVAL ms=[0-9]+$'
			[ "$(ms_of "$line")" -lt 1000 ]
		done
	done
}

@test "memory not sealed against shrinking is refused unless the caller accepts it" {
	rm -f "/dev/shm/$SHM_NAME"
	srv_start us -n 1 -l 1M -M "$SHM_NAME"
	run -1 probe "$(srv_sock us)" 1
	assert_line --regexp '^open error=EPERM '
	assert_line --regexp '^log .*not sealed with F_SEAL_SHRINK.*IVSHM_OPEN_UNSEALED'
	run -0 probe "$(srv_sock us)" 1 -u
	assert_line --regexp '^open id=[0-9]+ vectors=1 '
	# The programs' way to pass the flag.
	run -1 timeout 20 "$CHAN" --host "$(srv_sock us)" -n 1 peers
	assert_output --partial "not sealed against shrinking (--unsealed accepts it)"
	run -0 timeout 20 "$CHAN" --host "$(srv_sock us)" -n 1 --unsealed peers
	# A sealed memfd (the default) needs nothing.
	srv_start sealed -n 1 -l 1M
	run -0 probe "$(srv_sock sealed)" 1
}

@test "the server stopped: the handle's fd turns readable and every call says ENOLINK" {
	srv_start gone -n 2 -l 1M
	probe_stay p "$(srv_sock gone)" 2
	peer_cmd p "pollfd 0"
	run -0 result p '^pollfd ' 5
	assert_output "pollfd readable=0 ms=0"
	peer_cmd p "ring $(probe_id p) 1"
	result p '^ring result=ok' 5
	# ivshmd -F has no supervisor: SIGTERM ends the server and its connections.
	srv_stop gone
	peer_cmd p "pollfd 5000"
	run -0 result p '^pollfd readable=1 ' 10
	[ "$(ms_of "$output")" -lt 5000 ]
	peer_cmd p "ring $(probe_id p) 1"
	result p '^ring result=ENOLINK' 5
	peer_cmd p "wait 1000"
	result p '^wait result=ENOLINK' 5
	peer_cmd p "ack"
	result p '^ack result=ENOLINK' 5
	run -0 grep -c '^log .*the doorbell server closed the connection' "$(peer_out p)"
	assert_output 1
	# The fd stays readable: a poll loop keeps being told.
	peer_cmd p "pollfd 1000"
	wait_for 5 eval "[ \$(grep -c '^pollfd readable=1 ' \"$(peer_out p)\") = 2 ]"
}

@test "leave notices: a pinned peer that left and came back gets our doorbells" {
	srv_start pin -n 1 -l 1M --peer vm=5
	probe_stay p "$(srv_sock pin)" 1
	run -0 peer -S "$(srv_sock pin).vm" -n 1 -q
	srv_wait_peers pin 1
	# ID 5 again, a new incarnation with new eventfds: the old ones were announced gone.
	peer_stay vm "$(srv_sock pin).vm" -n 1
	assert_equal "$(peer_id vm)" 5
	peer_cmd p "ring 5 0"
	result p '^ring result=ok' 5
	wait_for_line 10 "$(peer_out vm)" '^got vector=0 count=1$'
	peer_cmd p "ring 5 0"
	wait_for_line 10 "$(peer_out vm)" '^got vector=0 count=1$'
	run -0 grep -c '^got vector=0' "$(peer_out vm)"
	assert_output 2
}

@test "a host peer that clears O_NONBLOCK on our receive eventfds cannot block our wait" {
	srv_start rx -n 2 -l 1M
	probe_stay p "$(srv_sock rx)" 2
	attack a "$(srv_sock rx)" 2 30 clear-recv "$(probe_id p)"
	peer_cmd p "wait 300"
	run -0 result p '^wait ' 10
	assert_output --regexp '^wait result=ETIMEDOUT fired=0x0 ms=[0-9]+$'
	[ "$(ms_of "$output")" -lt 1000 ]
	# Doorbells still arrive: RWF_NOWAIT reads whatever the flag says.
	peer_cmd p "ring $(probe_id p) 1"
	peer_cmd p "wait 2000"
	wait_for_line 10 "$(peer_out p)" '^wait result=ok fired=0x2 '
	peer_cmd p "ack"
	result p '^ack result=EAGAIN' 5
}

@test "a full eventfd without O_NONBLOCK: our doorbell to it returns at once" {
	srv_start tx -n 1 -l 1M
	probe_stay p "$(srv_sock tx)" 1
	attack a "$(srv_sock tx)" 1 30 fill-own
	# Take in the attacker's join (its eventfds) first, whatever reads the socket when.
	peer_cmd p "ack"
	result p '^ack ' 5
	peer_cmd p "ring $ATTACKER 0"
	run -0 result p '^ring ' 10
	assert_output --regexp '^ring result=ok us=[0-9]+$'
	peer_cmd p "rings $ATTACKER 0 1000"
	run -0 result p '^rings ' 10
	assert_output --regexp '^rings n=1000 errors=0 max_us=[0-9]+ total_us=[0-9]+$'
	run -0 grep -c '^log another host peer cleared O_NONBLOCK' "$(peer_out p)"
	assert_output 1
	# The handle still rings an honest peer.
	peer_stay honest "$(srv_sock tx)" -n 1
	peer_cmd p "ring $(peer_id honest) 0"
	wait_for_line 10 "$(peer_out honest)" '^got vector=0 count=1$'
}

@test "a racing attacker (flag and counter flipped around our check) cannot block doorbells" {
	local us
	srv_start race -n 1 -l 1M
	probe_stay p "$(srv_sock race)" 1
	attack a "$(srv_sock race)" 1 5 race
	peer_cmd p "ack"
	result p '^ack ' 5
	peer_cmd p "rings $ATTACKER 0 300000"
	run -0 result p '^rings ' 30
	assert_output --regexp '^rings n=300000 errors=0 max_us=[0-9]+ total_us=[0-9]+$'
	us=$(sed -n 's/.*max_us=\([0-9]*\).*/\1/p' <<<"$output")
	echo "# 300000 doorbells against the racer: the slowest took $us us" >&3
	# Never held up by a write: the caller at most takes the ringer's lock.
	[ "$us" -lt 100000 ]
	# The race over, the racer leaves the counter full and the flag cleared: a write
	# that the race blocked would stay blocked, and so would the next one.
	wait_for_line 15 "$SRV_DIR/a.aout" '^done rounds='
	peer_cmd p "rings $ATTACKER 0 1000"
	run -0 result p '^rings n=1000 ' 10
	assert_output --regexp '^rings n=1000 errors=0 max_us=[0-9]+ total_us=[0-9]+$'
	peer_stay honest "$(srv_sock race)" -n 1
	peer_cmd p "ring $(peer_id honest) 0"
	wait_for_line 10 "$(peer_out honest)" '^got vector=0 count=1$'
}
