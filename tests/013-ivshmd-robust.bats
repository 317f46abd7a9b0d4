#!/usr/bin/env bats
# One bad or slow client never stalls the server: garbage gets a client
# dropped, a client that stops reading is dropped when its bounded queue
# overflows or stops draining, 1000 connect/disconnect cycles leak neither fds
# nor memory, and running out of fds costs a refused connection, not the server.

bats_require_minimum_version 1.5.0

setup_file() {
	load helpers/common
	load helpers/ivshmd
	srv_dir_create
	srv_start main -n 1
	# 64 vectors make every join 64 messages, so a stuck client fills up fast.
	srv_start overflow -n 64 --max-peers 4 --queue-limit 300 --send-timeout 600000
	srv_start slow -n 64 --max-peers 4 --queue-limit 100000 --send-timeout 300
	srv_start churn -n 4
}

teardown_file() {
	load helpers/common
	load helpers/ivshmd
	srv_dir_remove
}

setup() {
	load helpers/common
	load helpers/ivshmd
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
	scenario_staller slow 64 'stopped reading \(send timeout\)$'
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
	[ "$n" -ge 1 ] && [ "$n" -le 4 ]
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
	assert_equal "$(peer_id again)" 0
}
