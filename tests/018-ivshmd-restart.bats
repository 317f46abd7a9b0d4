#!/usr/bin/env bats
# A restart of ivshmd leaves running VMs sharing and ringing each other: the
# memory, the listening sockets and the connected peers with their eventfds
# survive a kill -9 (the daemon's supervisor restarts the server with what it
# stored, as systemd does with FDSTORE=1) and an upgrade in place (SIGUSR2
# re-executes the binary). A peer whose stream was mid-update at the crash is
# the one dropped, and the peers kept hear it left.
#
#   ivshmd (supervisor: pidfile, fd store) --fork/exec--> ivshmd (server) -- peers, QEMU
#                 ^ FDSTORE=1 FDNAME=... (memory, sockets, peers, eventfds, record)

load helpers/ivshmd-hardening

setup_file() {
	srv_dir_create
}

teardown_file() {
	qemus_stop_all
	srv_dir_remove
}

teardown() {
	peers_stop_all
	qemus_stop_all
	srvs_stop_all
}

# new_server NAME OLD_PID: wait until the supervisor runs a server other than OLD_PID.
new_server() {
	wait_for 10 eval "p=\$(daemon_server $1); [ -n \"\$p\" ] && [ \"\$p\" != $2 ]"
}

shm_line() {
	grep '^shm ' "$(peer_out "$1")"
}

@test "kill -9 of the server: restarted with the same memory, sockets, peers and eventfds" {
	local sock old a b c
	daemon_start rs -n 4 --peer vm=7
	sock=$(srv_sock rs)
	peer_stay a "$sock" -n 4
	peer_stay b "$sock.vm" -n 4
	a=$(peer_id a)
	b=$(peer_id b)
	peer_cmd a "write 100 before-the-crash"
	wait_for_line 5 "$(peer_out a)" '^wrote offset=100 len=16$'
	old=$(daemon_server rs)
	kill -KILL "$old"
	# Connecting meanwhile is fine: the listening socket never went away.
	run -0 peer -S "$sock" -n 4 -q
	new_server rs "$old"
	# Nobody noticed: no EOF, no departure.
	run -0 cat "$(peer_out a)" "$(peer_out b)"
	refute_line --regexp '^(eof|hangup|leave peer=('"$a|$b"'))$'
	# Doorbells between the peers kept, both ways.
	peer_cmd a "ring $b 2"
	wait_for_line 10 "$(peer_out b)" '^got vector=2 count=1$'
	peer_cmd b "ring $a 3"
	wait_for_line 10 "$(peer_out a)" '^got vector=3 count=1$'
	# A newcomer gets the same memory, sees both, and they see it.
	peer_stay c "$sock" -n 4
	c=$(peer_id c)
	assert_equal "$(shm_line c)" "$(shm_line a)"
	[ "$c" -gt "$a" ]
	run -0 grep '^ready' "$(peer_out c)"
	assert_output --regexp "peers=.*$a"
	assert_output --regexp "peers=.*$b"
	peer_cmd c "read 100 16"
	wait_for_line 5 "$(peer_out c)" "^read offset=100 hex=$(hex before-the-crash)$"
	wait_for_line 10 "$(peer_out a)" "^join peer=$c$"
	peer_cmd c "ring $b 0"
	wait_for_line 10 "$(peer_out b)" '^got vector=0 count=1$'
	peer_cmd b "ring $c 1"
	wait_for_line 10 "$(peer_out c)" '^got vector=1 count=1$'
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$sock"
	assert_line --regexp "^$b +[0-9]+ .* vm$"
	assert_equal "${#lines[@]}" 4
	# The pinned ID is still held: a second VM on the pin is refused.
	run -1 peer -S "$sock.vm" -n 4
	assert_line eof
	# A departure after the restart is announced as ever.
	peer_stop c
	wait_for_line 10 "$(peer_out a)" "^leave peer=$c$"
}

# tick SERVER: the server page's tick (contracts/ivshm-shm.h: offset 2048 + 1040).
tick() {
	local w
	w=$(peer -S "$(srv_sock "$1")" -n 4 -q -r 3088:4 | sed -n 's/^read offset=3088 hex=//p')
	echo $((16#${w:6:2}${w:4:2}${w:2:2}${w:0:2}))
}

@test "kill -9 of the server: the server page's tick goes on from where it was" {
	local old t0 t1
	daemon_start tk -n 4 -l 1M
	# A second of ticks (100 ms each), so a fresh start from 1 cannot pass for going on.
	wait_for 10 eval '[ "$(tick tk)" -ge 10 ]'
	old=$(daemon_server tk)
	t0=$(tick tk)
	kill -KILL "$old"
	new_server tk "$old"
	wait_for 10 eval '[ "$(tick tk)" -gt '"$t0"' ]'
	t1=$(tick tk)
	echo "# tick $t0 before the kill, $t1 after the restart" >&3
	[ "$t1" -lt $((t0 + 100)) ]
}

@test "SIGUSR2 re-executes the binary in place: an upgrade keeps memory, sockets and peers" {
	local sock pid a b
	cp "$IVSHMD_BIN/ivshmd" "$SRV_DIR/ivshmd-old"
	timeout 120 "$SRV_DIR/ivshmd-old" -F -v -S "$SRV_DIR/up.sock" -p "$SRV_DIR/up.pid" -n 2 \
		2>"$SRV_DIR/up.log" 3>&- 4>&- &
	wait_for 10 test -s "$SRV_DIR/up.pid"
	pid=$(cat "$SRV_DIR/up.pid")
	sock=$SRV_DIR/up.sock
	peer_stay a "$sock" -n 2
	peer_stay b "$sock" -n 2
	a=$(peer_id a)
	b=$(peer_id b)
	# The upgrade: a new binary under the same name (the running one is a deleted inode now).
	cp "$IVSHMD_BIN/ivshmd" "$SRV_DIR/ivshmd-new"
	mv "$SRV_DIR/ivshmd-new" "$SRV_DIR/ivshmd-old"
	kill -USR2 "$pid"
	wait_for_line 10 "$SRV_DIR/up.log" '^ivshmd: re-executing .* with [0-9]+ fds$'
	wait_for 10 eval "[ \"\$(stat -L -c %i /proc/$pid/exe)\" = \"\$(stat -c %i '$SRV_DIR/ivshmd-old')\" ]"
	wait_for_line 10 "$SRV_DIR/up.log" "^ivshmd: restart: kept 2 peers with their connections and eventfds; dropped 0"
	alive "$pid"
	assert_equal "$(cat "$SRV_DIR/up.pid")" "$pid"
	peer_cmd a "ring $b 1"
	wait_for_line 10 "$(peer_out b)" '^got vector=1 count=1$'
	run -0 peer -S "$sock" -n 2 -q -R "$a:0"
	wait_for_line 10 "$(peer_out a)" '^got vector=0 count=1$'
	run -0 cat "$(peer_out a)" "$(peer_out b)"
	refute_line --regexp '^(eof|hangup)$'
	kill_wait "$pid"
	assert_not_exists "$sock"
	assert_not_exists "$SRV_DIR/up.pid"
	wait_for_line 10 "$(peer_out a)" '^eof$'
}

# The record says which peers had every message: the rest cannot be kept consistently.
@test "a peer mid-update when the server dies is dropped and announced; the others are kept" {
	local sock old s v
	daemon_start mid -n 64 --queue-limit 100000 --send-timeout 600000
	sock=$(srv_sock mid)
	peer_stay steady "$sock" -n 64
	peer_stay stuck "$sock" -n 64
	s=$(peer_id steady)
	v=$(peer_id stuck)
	kill -STOP "$(peer_proc stuck)"
	# Its socket fills and its queue holds the rest: it is mid-update.
	run -0 peer_load -S "$sock" -n 64 --repeat 30
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$sock"
	[ "$(awk -v id="$v" '$1 == id { print $6 }' <<<"$output")" -gt 0 ]
	old=$(daemon_server mid)
	kill -KILL "$old"
	new_server mid "$old"
	wait_for_line 10 "$(peer_out steady)" "^leave peer=$v$"
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$sock"
	assert_line --regexp "^$s "
	refute_line --regexp "^$v "
	kill -CONT "$(peer_proc stuck)"
	wait_for_line 20 "$(peer_out stuck)" '^(eof|hangup|error .*)$'
	run -0 peer -S "$sock" -n 64 -q -R "$s:63"
	wait_for_line 10 "$(peer_out steady)" '^got vector=63 count=1$'
}

@test "a real QEMU keeps its connection and memory across a kill -9 of the server" {
	local sock old addr q
	daemon_start qemu -n 4 -l 1M
	sock=$(srv_sock qemu)
	qemu_start vm "$sock" 4
	wait_for 20 eval "timeout 5 '$IVSHMD_BIN/ivshmd' --list -S '$sock' | grep -q ' $(cat "$SRV_DIR/vm.qpid") '"
	q=$(timeout 5 "$IVSHMD_BIN/ivshmd" --list -S "$sock" | awk 'NR == 2 { print $1 }')
	wait_for 30 bar2_assigned vm
	addr=$(bar2_addr vm)
	old=$(daemon_server qemu)
	kill -KILL "$old"
	new_server qemu "$old"
	# Still connected (listed, with its pid) and sharing: a peer after the restart writes, QEMU reads.
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$sock"
	assert_line --regexp "^$q +$(cat "$SRV_DIR/vm.qpid") "
	run -0 peer -S "$sock" -n 4 -q -w "64:after-restart" -R "$q:1"
	assert_equal "$(xp_hex vm "$(printf '0x%x' $((addr + 64)))" 13)" "$(hex after-restart)"
	alive "$(cat "$SRV_DIR/vm.qpid")"
	run -0 cat "$SRV_DIR/vm.qemu.log"
	assert_output ""
}

@test "the supervisor gives up after 5 restarts in 10 s: peers see EOF, a new start takes over" {
	local sup sock i old
	daemon_start crash -n 1
	sup=$(srv_pid crash)
	sock=$(srv_sock crash)
	peer_stay p "$sock" -n 1
	for i in 1 2 3 4 5; do
		old=$(daemon_server crash)
		kill -KILL "$old"
		new_server crash "$old"
	done
	kill -KILL "$(daemon_server crash)"
	wait_for 10 gone "$sup"
	wait_for_line 10 "$(peer_out p)" '^eof$'
	assert_not_exists "$SRV_DIR/crash.pid"
	# The killed server left its socket files; nobody listens there, so the next start replaces them.
	run -1 peer -S "$sock" -n 1
	assert_output "error connect $sock: Connection refused"
	daemon_start crash -n 1
	run -0 peer -S "$sock" -n 1 -q
}

@test "SIGTERM to the supervisor: the server stops cleanly first, peers see EOF" {
	local sup srv
	daemon_start term -n 1 --peer vm=3
	sup=$(srv_pid term)
	srv=$(daemon_server term)
	peer_stay t "$(srv_sock term).vm" -n 1
	kill -TERM "$sup"
	wait_for 20 gone "$sup"
	gone "$srv"
	wait_for_line 10 "$(peer_out t)" '^eof$'
	assert_not_exists "$(srv_sock term)"
	assert_not_exists "$(srv_sock term).vm"
	assert_not_exists "$(srv_sock term).ctl"
	assert_not_exists "$SRV_DIR/term.pid"
}

# The daemon sits in / once started; its server must still find relative paths after a restart.
@test "relative socket and pidfile paths survive a restart of the daemon's server" {
	local sup old
	(cd "$SRV_DIR" && timeout 30 "$IVSHMD_BIN/ivshmd" -S rel.sock -p rel.pid -n 1 3>&- 4>&-)
	sup=$(cat "$SRV_DIR/rel.pid")
	peer_stay r "$SRV_DIR/rel.sock" -n 1
	old=$(pgrep -P "$sup")
	kill -KILL "$old"
	wait_for 10 eval "p=\$(pgrep -P $sup); [ -n \"\$p\" ] && [ \"\$p\" != $old ]"
	run -0 peer -S "$SRV_DIR/rel.sock" -n 1 -q
	assert_not_exists /rel.sock
	assert_equal "$(readlink "/proc/$(pgrep -P "$sup")/cwd")" /
	peer_stop r
	kill_wait "$sup"
	assert_not_exists "$SRV_DIR/rel.sock"
	assert_not_exists "$SRV_DIR/rel.pid"
}
