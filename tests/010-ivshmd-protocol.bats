#!/usr/bin/env bats
# ivshmd speaks QEMU's ivshmem server protocol: the setup sequence for 1, 2 and
# 3 peers with 1 and 8 vectors, join and leave notices, eventfd wiring and the
# order of every peer's vectors, and what is logged with and without -v.
# Each test gets fresh servers: IDs go upward, so a test sees the IDs it
# expects only on a server no earlier test used.
#
#   ivshm-peer --trace --+
#   ivshm-peer --stay ---+--> ivshmd (-n 1 | -n 8) --> sealed memfd
#   ivshm-peer --stay ---+

load helpers/ivshmd-hardening

setup_file() {
	srv_dir_create
}

teardown_file() {
	srv_dir_remove
}

setup() {
	srv_start v1 -n 1
	srv_start v8 -n 8
}

teardown() {
	srvs_stop_all
}

@test "setup for a lone peer, 1 vector: version, ID 0, memory, own eventfd" {
	scenario_setup_sequence v1 1 1
}

@test "setup for the second peer, 1 vector: peer 0's eventfd before its own" {
	scenario_setup_sequence v1 1 2
}

@test "setup for the third peer, 1 vector" {
	scenario_setup_sequence v1 1 3
}

@test "setup for a lone peer, 8 vectors: own ID 8 times, in vector order" {
	scenario_setup_sequence v8 8 1
}

@test "setup for the second peer, 8 vectors" {
	scenario_setup_sequence v8 8 2
}

@test "setup for the third peer, 8 vectors" {
	scenario_setup_sequence v8 8 3
}

@test "a present peer gets a newcomer's vectors and its departure, 1 vector" {
	scenario_join_leave v1 1
}

@test "a present peer gets a newcomer's vectors and its departure, 8 vectors" {
	scenario_join_leave v8 8
}

@test "peer A rings B's vector 3: only B's vector-3 eventfd fires" {
	scenario_wiring v8
}

@test "the memory is the sealed memfd the server owns (64 MiB by default), the same for every peer" {
	peer_stay mem "$(srv_sock v1)"
	local shm
	shm=$(grep '^shm ' "$(peer_out mem)")
	assert_regex "$shm" '^shm size=67108864 seals=seal,shrink,grow(,exec)? dev=[0-9a-f]+:[0-9a-f]+ ino=[0-9]+$'
	run -0 peer -S "$(srv_sock v1)"
	assert_line "$shm"
	run -0 ls -l "/proc/$(srv_pid v1)/fd"
	assert_output --partial "/memfd:ivshmd (deleted)"
}

@test "joins and leaves are logged with the peer's credentials" {
	run -0 peer -S "$(srv_sock v1)" -q
	srv_wait_peers v1 0
	run -0 cat "$(srv_log v1)"
	assert_line --regexp "^ivshmd: peer 0 joined \\(pid [0-9]+, uid $(id -u), gid $(id -g)\\)$"
	assert_line --regexp '^ivshmd: peer 0 left \(pid [0-9]+\): closed the connection$'
}

@test "a peer that expects fewer vectors than the server sends sees a protocol error" {
	run -1 peer -S "$(srv_sock v8)" -n 4
	assert_line 'ready id=0 vectors=4 peers=-'
	assert_line 'error protocol: own eventfd after the setup (message 0)'
	srv_wait_peers v8 0
}

# Counts 1, 2, ..., 8 only if every vector's eventfd went where its index says.
@test "each peer's eventfds arrive in vector order, in the setup and in the join notice" {
	local sock a b v k
	sock=$(srv_sock v8)
	peer_stay old "$sock" -n 8
	peer_stay new "$sock" -n 8
	a=$(peer_id old)
	b=$(peer_id new)
	for ((v = 0; v < 8; v++)); do
		for ((k = 0; k <= v; k++)); do
			# old holds new's eventfds from the join notice, new holds old's from its setup.
			peer_cmd old "ring $b $v"
			peer_cmd new "ring $a $v"
		done
	done
	wait_for 10 eval "[ \$(grep -c '^rang ' '$(peer_out old)') = 36 ]"
	wait_for 10 eval "[ \$(grep -c '^rang ' '$(peer_out new)') = 36 ]"
	peer_stop old
	peer_stop new
	run -0 grep '^counts ' "$(peer_out new)"
	assert_output "counts 1,2,3,4,5,6,7,8"
	run -0 grep '^counts ' "$(peer_out old)"
	assert_output "counts 1,2,3,4,5,6,7,8"
}

@test "without -v only abnormal departures are logged; joins and hang-ups need -v" {
	local sock
	srv_start_quiet quiet -n 1
	sock=$(srv_sock quiet)
	run -0 peer -S "$sock" -q
	head -c 64 /dev/urandom >"$SRV_DIR/garbage"
	run timeout 10 socat -t 2 "UNIX-CONNECT:$sock" \
		"SYSTEM:head -c 24 >/dev/null && cat '$SRV_DIR/garbage'"
	wait_for_line 10 "$(srv_log quiet)" '^ivshmd: peer [0-9]+ left \(pid [0-9]+\): sent data; the protocol is server to client only$'
	run -0 cat "$(srv_log quiet)"
	refute_output --partial "joined"
	refute_output --partial "closed the connection"
	refute_output --partial "listening on"
	assert_equal "${#lines[@]}" 1
}
