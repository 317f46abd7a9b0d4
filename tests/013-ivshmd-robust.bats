#!/usr/bin/env bats
# One bad or slow client never stalls the server: garbage gets a client
# dropped, a client that stops reading is dropped when its bounded queue
# overflows or stops draining (a stopped QEMU: warned, shown in --list, then
# dropped for good), 1000 connect/disconnect cycles leak neither fds nor
# memory, and running out of fds costs a refused connection, not the server.

load helpers/ivshmd-hardening

setup_file() {
	srv_dir_create
	srv_start main -n 1
	# 64 vectors make every join 64 messages, so a stuck client fills up fast.
	srv_start overflow -n 64 --max-peers 4 --queue-limit 300 --send-timeout 600000
	srv_start slow -n 64 --max-peers 4 --queue-limit 100000 --send-timeout 300
	srv_start churn -n 4
}

teardown_file() {
	srv_dir_remove
}

teardown() {
	peers_stop_all
}

@test "a client that sends bytes is dropped and announced as gone" {
	scenario_garbage main
}

@test "a client that never reads is dropped when its queue overflows" {
	scenario_staller overflow 64 'send queue overflow \(not reading\)$'
}

@test "a client whose queue stops draining is dropped after --send-timeout" {
	scenario_staller slow 64 'stopped reading for 300 ms \(--send-timeout\); dropped for good: a QEMU that was stopped \(SIGSTOP, a debugger, heavy swapping\) does not reconnect$'
}

@test "1000 connect/disconnect cycles: no fd or memory growth" {
	scenario_churn churn 1000 rss
}

@test "out of fds: connections are refused, the server keeps serving" {
	local sock n
	# ulimit -n lowers the hard limit too, so ivshmd cannot raise it back.
	(
		ulimit -n 24
		exec timeout 300 "$IVSHMD_BIN/ivshmd" -F -v -S "$SRV_DIR/fds.sock" -p "$SRV_DIR/fds.pid" \
			-n 4 2>"$SRV_DIR/fds.log" 3>&- 4>&-
	) &
	wait_for 10 test -S "$SRV_DIR/fds.sock.ctl"
	wait_for 10 test -s "$SRV_DIR/fds.pid"
	sock=$(srv_sock fds)
	# Each peer costs the server a socket and 4 eventfds.
	for n in 0 1 2 3 4 5; do
		peer_stay "f$n" "$sock" -n 4 || break
	done
	[ "$n" -ge 1 ] || fail "not even the first peer joined"
	[ "$n" -le 4 ] || fail "peer f$n joined beyond the fd limit"
	run -0 cat "$(peer_out "f$n")"
	assert_line eof
	wait_for_line 5 "$(srv_log fds)" 'Too many open files'
	# More refusals: no busy loop, no crash.
	run -1 peer -S "$sock" -n 4
	assert_line eof
	alive "$(srv_pid fds)"
	peer_stop f0
	srv_wait_peers fds $((n - 1))
	peer_stay again "$sock" -n 4
}

# A QEMU stopped (SIGSTOP, a debugger, swapping) while others come and go stops
# reading; the drop bounds ivshmd's memory, and it is said loudly.
@test "a SIGSTOPped peer during churn: STALL_MS grows, warned at half the timeout, dropped for good" {
	local sock victim stall
	srv_start stop -n 64 --max-peers 8 --queue-limit 100000 --send-timeout 4000
	sock=$(srv_sock stop)
	peer_stay watcher "$sock" -n 64
	peer_stay victim "$sock" -n 64
	victim=$(peer_id victim)
	kill -STOP "$(peer_proc victim)"
	# Each cycle queues 65 messages, each with an fd, for the stopped peer: its socket fills.
	run -0 peer_load -S "$sock" -n 64 --repeat 30
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$sock"
	stall=$(awk -v id="$victim" '$1 == id { print $7 }' <<<"$output")
	[ "$stall" -gt 0 ]
	wait_for_line 10 "$(srv_log stop)" "^ivshmd: peer $victim \\(pid [0-9]+\\) has not read for [0-9]+ ms: it is dropped for good unless it reads within [0-9]+ ms \\(--send-timeout\\)$"
	wait_for_line 10 "$(srv_log stop)" "^ivshmd: peer $victim left \\(pid [0-9]+\\): stopped reading for 4000 ms \\(--send-timeout\\); dropped for good"
	wait_for_line 10 "$(peer_out watcher)" "^leave peer=$victim$"
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$sock"
	refute_output --regexp "^$victim "
	# Resumed, it finds its connection gone: nothing brings it back.
	kill -CONT "$(peer_proc victim)"
	wait_for_line 10 "$(peer_out victim)" '^(eof|hangup)$'
	srv_wait_peers stop 1
}
