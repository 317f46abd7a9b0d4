#!/usr/bin/env bats
# The core scenarios again, against ivshmd and ivshm-peer built with
# AddressSanitizer and UBSan (make -C host SANITIZE=1): any memory error,
# leak at exit or undefined behaviour aborts the process and fails the test.

load helpers/ivshmd

setup_file() {
	export IVSHMD_BIN="$IVSHM_BUILD/asan/bin"
	make -s -C "$IVSHM_TOP/host" SANITIZE=1 BUILD="$IVSHM_BUILD/asan" >&2
	# Abort on the first report; detect_leaks checks every exit, also of the peers.
	export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:halt_on_error=1"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
	srv_dir_create
}

teardown_file() {
	srv_dir_remove
}

# Fresh servers per test: IDs go upward, and the scenarios expect them from 0.
setup() {
	srv_start v8 -n 8 --peer vm=5 --max-peers 8
	srv_start stall -n 64 --max-peers 4 --queue-limit 300
}

teardown() {
	peers_stop_all
	srvs_stop_all
}

# sanitizers_quiet NAME: the server's log holds no sanitizer report.
sanitizers_quiet() {
	run -0 cat "$(srv_log "$1")"
	refute_output --regexp 'AddressSanitizer|LeakSanitizer|runtime error|UndefinedBehaviorSanitizer'
}

@test "the sanitizer build is what runs" {
	run -0 nm "$IVSHMD_BIN/ivshmd"
	assert_output --partial "__asan_init"
	assert_output --partial "__ubsan_handle"
}

@test "asan: setup sequence for three peers with 8 vectors" {
	scenario_setup_sequence v8 8 3
	sanitizers_quiet v8
}

@test "asan: join and leave notices" {
	scenario_join_leave v8 8
	sanitizers_quiet v8
}

@test "asan: eventfd wiring" {
	scenario_wiring v8
	sanitizers_quiet v8
}

@test "asan: pinned ID refusal and reuse" {
	scenario_pinned_refusal v8 8 vm 5
	sanitizers_quiet v8
}

@test "asan: garbage from a client" {
	srv_start garbage -n 1
	scenario_garbage garbage
	srv_stop garbage
	sanitizers_quiet garbage
}

@test "asan: a client that never reads" {
	scenario_staller stall 64 'send queue overflow \(not reading\)$'
	sanitizers_quiet stall
}

@test "asan: 300 connect/disconnect cycles" {
	srv_start churn -n 4
	scenario_churn churn 300
	srv_stop churn
	run -0 cat "$(srv_log churn)"
	assert_line "ivshmd: Terminated: shutting down"
	sanitizers_quiet churn
}

@test "asan: --list while peers come and go" {
	peer_stay l1 "$(srv_sock v8)" -n 8
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$(srv_sock v8)"
	assert_line --regexp '^0 +'
	sanitizers_quiet v8
}

@test "asan: SIGTERM with peers connected exits 0 without leaks" {
	local pid rc=0
	timeout 60 "$IVSHMD_BIN/ivshmd" -F -v -S "$SRV_DIR/term.sock" -p "$SRV_DIR/term.pid" -n 4 \
		--peer a=3 2>"$SRV_DIR/term.log" 3>&- 4>&- &
	pid=$!
	wait_for 10 test -s "$SRV_DIR/term.pid"
	peer_stay t1 "$SRV_DIR/term.sock" -n 4
	peer_stay t2 "$SRV_DIR/term.sock.a" -n 4
	run -0 peer -S "$SRV_DIR/term.sock" -n 4 -q -w 0:x
	# To ivshmd itself: through timeout the signal would come with a SIGCONT (see peer_stop).
	kill -TERM "$(cat "$SRV_DIR/term.pid")"
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	wait_for_line 5 "$(peer_out t1)" '^eof$'
	sanitizers_quiet term
}

@test "asan: a kill -9 of the supervised server: restarted with its peers, no reports" {
	local sup old
	# Daemonized, stderr is /dev/null: reports go to files.
	ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$SRV_DIR/sup-report" \
		UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$SRV_DIR/sup-report" \
		run -0 timeout 10 "$IVSHMD_BIN/ivshmd" -S "$SRV_DIR/sup.sock" -p "$SRV_DIR/sup.pid" -n 4
	sup=$(cat "$SRV_DIR/sup.pid")
	peer_stay r1 "$SRV_DIR/sup.sock" -n 4
	peer_stay r2 "$SRV_DIR/sup.sock" -n 4
	old=$(pgrep -P "$sup")
	kill -KILL "$old"
	wait_for 10 eval "[ -n \"\$(pgrep -P $sup)\" ] && [ \"\$(pgrep -P $sup)\" != $old ]"
	peer_cmd r1 "ring $(peer_id r2) 2"
	wait_for_line 10 "$(peer_out r2)" '^got vector=2 count=1$'
	run -0 peer -S "$SRV_DIR/sup.sock" -n 4 -q
	peers_stop_all
	# To the supervisor itself: through timeout the signal would come with a SIGCONT.
	kill_wait "$sup"
	assert_not_exists "$SRV_DIR/sup.sock"
	run -0 find "$SRV_DIR" -name 'sup-report*'
	assert_output ""
}

@test "asan: the shared servers shut down without reports" {
	srv_stop v8
	srv_stop stall
	run -0 tail -n 1 "$(srv_log v8)"
	assert_output "ivshmd: Terminated: shutting down"
	sanitizers_quiet v8
	sanitizers_quiet stall
}

@test "asan: start-up errors unwind without leaks" {
	srv_start busy -n 2
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$(srv_sock busy)"
	assert_output --partial "another server is listening there"
	refute_output --regexp 'AddressSanitizer|LeakSanitizer|runtime error'
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/x.sock" -l 2K
	assert_output --partial "must be from 4K to 512G"
	refute_output --regexp 'AddressSanitizer|LeakSanitizer|runtime error'
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/x.sock" -m "$SRV_DIR/none"
	refute_output --regexp 'AddressSanitizer|LeakSanitizer|runtime error'
}
