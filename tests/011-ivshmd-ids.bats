#!/usr/bin/env bats
# Peer IDs: the lowest free ID is reused, pinned names keep their ID across
# reconnects on their own socket, a second connection to a live pin and peers
# beyond --max-peers are refused, and --list shows who is connected.

bats_require_minimum_version 1.5.0

setup_file() {
	load helpers/common
	load helpers/ivshmd
	srv_dir_create
	srv_start plain -n 2
	srv_start pinned -n 4 --peer server=1 --peer client=2 --max-peers 4
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

@test "the lowest free ID is reused" {
	local sock
	sock=$(srv_sock plain)
	peer_stay a "$sock" -n 2
	peer_stay b "$sock" -n 2
	peer_stay c "$sock" -n 2
	assert_equal "$(peer_id a) $(peer_id b) $(peer_id c)" "0 1 2"
	peer_stop b
	srv_wait_peers plain 2
	peer_stay d "$sock" -n 2
	assert_equal "$(peer_id d)" 1
	peer_stop a
	srv_wait_peers plain 2
	peer_stay e "$sock" -n 2
	assert_equal "$(peer_id e)" 0
	peer_stay f "$sock" -n 2
	assert_equal "$(peer_id f)" 3
}

@test "pinned names get their ID on their socket; others skip pinned IDs" {
	local sock
	sock=$(srv_sock pinned)
	peer_stay u0 "$sock" -n 4
	peer_stay u1 "$sock" -n 4
	assert_equal "$(peer_id u0) $(peer_id u1)" "0 3"
	peer_stay client "$sock.client" -n 4
	assert_equal "$(peer_id client)" 2
	peer_stay server "$sock.server" -n 4
	assert_equal "$(peer_id server)" 1
	run -0 grep '^ready' "$(peer_out server)"
	assert_output "ready id=1 vectors=4 peers=0,2,3"
	wait_for_line 5 "$(srv_log pinned)" "^ivshmd: peer 1 joined \\(pid [0-9]+, uid [0-9]+, gid [0-9]+, pinned 'server'\\)$"
}

@test "a restarted pinned VM gets its ID back" {
	local sock
	sock=$(srv_sock pinned)
	peer_stay u0 "$sock" -n 4
	peer_stay server "$sock.server" -n 4
	peer_stop server
	srv_wait_peers pinned 1
	peer_stay u3 "$sock" -n 4
	assert_equal "$(peer_id u3)" 3
	peer_stay server "$sock.server" -n 4
	assert_equal "$(peer_id server)" 1
}

@test "a second connection to a pinned ID is refused while the first is connected" {
	scenario_pinned_refusal pinned 4 client 2
}

@test "unpinned peers are refused beyond --max-peers minus the pins; pins still connect" {
	local sock
	sock=$(srv_sock pinned)
	peer_stay u0 "$sock" -n 4
	peer_stay u1 "$sock" -n 4
	run -1 peer -S "$sock" -n 4
	assert_line eof
	wait_for_line 5 "$(srv_log pinned)" 'refused pid [0-9]+ uid [0-9]+: 2 peers connected, the maximum \(4 slots, 2 reserved for pinned peers\)'
	peer_stay server "$sock.server" -n 4
	peer_stay client "$sock.client" -n 4
	srv_wait_peers pinned 4
}

@test "--list prints ID, PID, UID, GID, VECTORS, QUEUED and the pinned name" {
	local sock pid
	sock=$(srv_sock pinned)
	peer_stay u0 "$sock" -n 4
	peer_stay client "$sock.client" -n 4
	srv_wait_peers pinned 2
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$sock"
	assert_line --index 0 --regexp '^ID +PID +UID +GID +VECTORS +QUEUED +NAME$'
	pid=$(cat "$SRV_DIR/client.ppid")
	pid=$(pgrep -P "$pid" ivshm-peer)
	assert_line --index 2 --regexp "^2 +$pid +$(id -u) +$(id -g) +4 +0 +client$"
	assert_line --index 1 --regexp "^0 +[0-9]+ +$(id -u) +$(id -g) +4 +0 +-$"
	assert_equal "${#lines[@]}" 3
}

@test "--list without a server says so" {
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$SRV_DIR/nothing.sock"
	assert_output --partial "$SRV_DIR/nothing.sock.ctl: No such file or directory (is ivshmd running?)"
}

@test "bad --peer values are refused at start-up" {
	local sock=$SRV_DIR/bad.sock
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock" --peer server
	assert_output --partial "expected NAME=ID"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock" --peer vm=65536
	assert_output --partial "ID must be 0 to 65535"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock" --peer ctl=1
	assert_output --partial "pinned peer name 'ctl'"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock" --peer 'a/b=1'
	assert_output --partial "pinned peer name 'a/b'"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock" --peer a=1 --peer b=1
	assert_output --partial "pinned peers 'a' and 'b' share a name or an ID"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock" --peer a=1 --peer a=2
	assert_output --partial "share a name or an ID"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock" --max-peers 1 --peer a=1 --peer b=2
	assert_output --partial "no more than --max-peers"
	run -0 ls "$SRV_DIR"
	refute_output --partial bad.sock
}
