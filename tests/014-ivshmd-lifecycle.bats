#!/usr/bin/env bats
# Sockets and process life: 0660 sockets with a chosen group that only the
# group can use, never world-accessible, a live server's socket never taken
# over, stale sockets replaced, symlinks and other files never touched, no
# socket or pidfile in a directory another user can write or under a name
# another user planted; fds 0-2 closed at start or fds inherited by accident
# change nothing; SIGTERM/SIGINT clean-up, daemon mode, pidfile lock and
# sd_notify readiness.

load helpers/ivshmd-hardening

setup_file() {
	srv_dir_create
	# Other users must reach the sockets to show that the mode, not the directory, guards them.
	chmod 0755 "$SRV_DIR"
}

teardown_file() {
	srv_dir_remove
}

teardown() {
	srvs_stop_all
}

@test "sockets are 0660 by default and take --group; pinned and control sockets too" {
	srv_start modes -n 1 --group kvm --peer vm=5
	local s
	for s in "" .vm .ctl; do
		run -0 stat -c '%a %U %G %F' "$(srv_sock modes)$s"
		assert_output "660 root kvm socket"
	done
	srv_start numeric -n 1 --group 1 --mode 0600
	run -0 stat -c '%a %G' "$(srv_sock numeric)"
	assert_output "600 daemon"
}

@test "the group can connect (QEMU as libvirt-qemu:kvm), others cannot" {
	getent passwd libvirt-qemu >/dev/null || skip "no libvirt-qemu user"
	srv_start access -n 1 --group kvm
	run -0 timeout 10 setpriv --reuid=libvirt-qemu --regid=kvm --init-groups \
		"$IVSHMD_BIN/ivshm-peer" -S "$(srv_sock access)" -q
	run -1 timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$IVSHMD_BIN/ivshm-peer" -S "$(srv_sock access)" -q
	assert_output "error connect $(srv_sock access): Permission denied"
}

@test "world-accessible or malformed modes are refused" {
	local mode
	for mode in 0666 0662 0604 0661; do
		run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" --mode "$mode"
		assert_output "ivshmd: error: --mode '$mode': sockets are never accessible to others"
	done
	for mode in 0960 abc 01660 "" " 660" -660; do
		run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" --mode "$mode"
		assert_output "ivshmd: error: --mode '$mode': expected an octal mode such as 0660"
	done
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" --group no-such-group-$$
	assert_output --partial "--group 'no-such-group-$$'"
	assert_not_exists "$SRV_DIR/bad.sock"
}

@test "a second server on a live socket is refused and the first one is undisturbed" {
	srv_start live -n 1
	peer_stay w "$(srv_sock live)"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -v -S "$(srv_sock live)"
	assert_output --partial "$(srv_sock live): another server is listening there"
	run -0 peer -S "$(srv_sock live)" -q
	run -0 cat "$(peer_out w)"
	assert_line "join peer=1"
	assert_equal "$(grep -c '^join' "$(peer_out w)")" 1
	run -0 grep -c 'joined' "$(srv_log live)"
	assert_output 2
}

@test "another program's live socket is not taken over either" {
	local sock=$SRV_DIR/foreign.sock pid
	timeout 60 socat "UNIX-LISTEN:$sock,fork" EXEC:cat 3>&- 4>&- &
	pid=$!
	wait_for 5 test -S "$sock"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock"
	assert_output "ivshmd: $sock: another server is listening there"
	assert_equal "$(printf ping | timeout 5 socat -t 2 - "UNIX-CONNECT:$sock")" ping
	kill_wait "$pid"
}

@test "a stale socket (server killed with SIGKILL) is replaced" {
	srv_start stale -n 1 --peer vm=3
	srv_stop stale KILL
	assert_exists "$(srv_sock stale)"
	srv_start stale -n 1 --peer vm=3
	run -0 cat "$(srv_log stale)"
	assert_line "ivshmd: removed stale socket $(srv_sock stale)"
	assert_line "ivshmd: removed stale socket $(srv_sock stale).vm"
	run -0 peer -S "$(srv_sock stale).vm"
	assert_line --regexp '^ready id=3 '
}

@test "symlinks, files and directories at the socket path are never touched" {
	local sock=$SRV_DIR/occupied.sock
	echo precious >"$SRV_DIR/target"
	ln -s "$SRV_DIR/target" "$sock"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock"
	assert_output "ivshmd: $sock exists and is not a socket; refusing to touch it"
	assert_link_exists "$sock"
	assert_file_contains "$SRV_DIR/target" '^precious$'
	# A symlink to a stale socket is still a symlink.
	srv_start dead -n 1
	srv_stop dead KILL
	rm "$sock"
	ln -s "$(srv_sock dead)" "$sock"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock"
	assert_output --partial "exists and is not a socket"
	assert_link_exists "$sock"
	rm "$sock"
	mkdir "$sock"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock"
	assert_output --partial "exists and is not a socket"
	rmdir "$sock"
	echo data >"$sock"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$sock"
	assert_file_contains "$sock" '^data$'
	rm "$sock"
}

@test "socket paths too long or in a missing directory are clear errors" {
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/$(printf 'x%.0s' {1..120})"
	assert_output --partial "socket path too long"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/no-dir/s.sock"
	assert_output --partial "directory of $SRV_DIR/no-dir/s.sock: No such file or directory"
}

@test "with stderr on the journal (JOURNAL_STREAM=dev:ino), lines carry priorities, not the name" {
	local log="$SRV_DIR/journal.log" id bad rc=0
	: >"$log"
	id=$(stat -c '%d:%i' "$log")
	JOURNAL_STREAM=$id timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/no-dir/s.sock" \
		2>"$log" || rc=$?
	assert_equal "$rc" 1
	run -0 cat "$log"
	assert_output "<3>directory of $SRV_DIR/no-dir/s.sock: No such file or directory"
	# Another file, or a malformed value: plain lines.
	for bad in "${id%%:*}:1" "${id}x" "x$id" ":${id#*:}" "${id%%:*}:" "${id/:/::}" " $id"; do
		rc=0
		JOURNAL_STREAM=$bad timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/no-dir/s.sock" \
			2>"$log" || rc=$?
		assert_equal "$rc" 1
		run -0 cat "$log"
		assert_output "ivshmd: directory of $SRV_DIR/no-dir/s.sock: No such file or directory"
	done
}

@test "SIGTERM: peers see EOF, sockets and pidfile are removed, exit status 0" {
	local pid sock
	sock=$(srv_sock term)
	timeout 60 "$IVSHMD_BIN/ivshmd" -F -v -S "$sock" -p "$SRV_DIR/term.pid" --peer vm=7 \
		2>"$SRV_DIR/term.log" 3>&- 4>&- &
	pid=$!
	wait_for 10 test -s "$SRV_DIR/term.pid"
	peer_stay t1 "$sock"
	peer_stay t2 "$sock.vm"
	kill -TERM "$(cat "$SRV_DIR/term.pid")"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	wait_for_line 5 "$(peer_out t1)" '^eof$'
	wait_for_line 5 "$(peer_out t2)" '^eof$'
	assert_not_exists "$sock"
	assert_not_exists "$sock.vm"
	assert_not_exists "$sock.ctl"
	assert_not_exists "$SRV_DIR/term.pid"
	run -0 cat "$SRV_DIR/term.log"
	assert_line "ivshmd: Terminated: shutting down"
	assert_line "ivshmd: disconnecting 2 peers"
}

@test "SIGINT shuts down the same way" {
	local pid
	timeout 60 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/int.sock" -p "$SRV_DIR/int.pid" \
		2>"$SRV_DIR/int.log" 3>&- 4>&- &
	pid=$!
	wait_for 10 test -s "$SRV_DIR/int.pid"
	kill -INT "$(cat "$SRV_DIR/int.pid")"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_not_exists "$SRV_DIR/int.sock"
	assert_not_exists "$SRV_DIR/int.sock.ctl"
	assert_not_exists "$SRV_DIR/int.pid"
}

@test "without -F: returns once serving, the pidfile names the daemon, SIGTERM cleans up" {
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" -S "$SRV_DIR/daemon.sock" -p "$SRV_DIR/daemon.pid" -n 2
	assert_output ""
	# Ready when the parent returned: no waiting needed.
	run -0 peer -S "$SRV_DIR/daemon.sock" -n 2 -q
	local pid
	pid=$(cat "$SRV_DIR/daemon.pid")
	alive "$pid"
	assert_equal "$(readlink "/proc/$pid/cwd")" /
	assert_equal "$(readlink "/proc/$pid/fd/2")" /dev/null
	kill_wait "$pid"
	assert_not_exists "$SRV_DIR/daemon.sock"
	assert_not_exists "$SRV_DIR/daemon.pid"
}

@test "without -F: a failed start returns non-zero with the reason" {
	srv_start busy -n 1
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -S "$(srv_sock busy)"
	assert_output --partial "another server is listening there"
	# A pidfile held by a running server fails after the fork: the parent still says so.
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -S "$SRV_DIR/other.sock" -p "$SRV_DIR/busy.pid"
	assert_output --partial "pidfile $SRV_DIR/busy.pid: locked by a running server"
	assert_not_exists "$SRV_DIR/other.sock"
	assert_equal "$(cat "$SRV_DIR/busy.pid")" "$(srv_pid busy)"
}

@test "readiness and shutdown are reported through sd_notify (Type=notify)" {
	local pid listener rc=0
	# Datagrams land back to back in notify.out: the messages carry no final newline.
	timeout 30 socat -u "UNIX-RECV:$SRV_DIR/notify" "OPEN:$SRV_DIR/notify.out,creat,append" 3>&- 4>&- &
	listener=$!
	wait_for 5 test -S "$SRV_DIR/notify"
	NOTIFY_SOCKET=$SRV_DIR/notify timeout 60 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/sd.sock" -n 4 \
		-l 8M 2>"$SRV_DIR/sd.log" 3>&- 4>&- &
	pid=$!
	# Datagrams are not separated in the file: READY=1 ends a line (STATUS follows).
	wait_for_line 5 "$SRV_DIR/notify.out" 'READY=1$'
	# READY comes once the socket accepts peers.
	run -0 peer -S "$SRV_DIR/sd.sock" -n 4 -q
	wait_for_line 5 "$SRV_DIR/notify.out" "^STATUS=Serving 8388608 bytes, 4 vectors on $SRV_DIR/sd.sock"
	kill -TERM "$(pgrep -P "$pid" ivshmd)"
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	wait_for_line 5 "$SRV_DIR/notify.out" 'STOPPING=1$'
	kill_wait "$listener"
}

@test "the fds a restart keeps go to the fd store (FDSTORE=1) before READY" {
	local pid listener rc=0
	timeout 30 socat -u "UNIX-RECV:$SRV_DIR/store" "OPEN:$SRV_DIR/store.out,creat,append" 3>&- 4>&- &
	listener=$!
	wait_for 5 test -S "$SRV_DIR/store"
	NOTIFY_SOCKET=$SRV_DIR/store timeout 60 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/st.sock" -n 2 \
		--peer vm=4 2>"$SRV_DIR/st.log" 3>&- 4>&- &
	pid=$!
	wait_for_line 5 "$SRV_DIR/store.out" 'READY=1$'
	run -0 peer -S "$SRV_DIR/st.sock" -n 2 -q
	kill -TERM "$(pgrep -P "$pid" ivshmd)"
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	kill_wait "$listener"
	run -0 cat "$SRV_DIR/store.out"
	assert_output --regexp "FDSTORE=1.FDNAME=record.*FDSTORE=1.FDNAME=shm.*FDSTORE=1.FDNAME=listen.*FDNAME=listen.vm.*FDNAME=ctl.*READY=1"
	# The peer was stored with its eventfds, and removed when it left.
	assert_output --regexp "FDNAME=peer.0.*FDNAME=peer.0.v0.*FDNAME=peer.0.v1.*FDSTOREREMOVE=1.FDNAME=peer.0"
}

# The issue: with fd 2 closed, ivshmd -F got the memfd as fd 2 and logged into the VMs' memory.
@test "started with fds 0, 1 and 2 closed (-F): they become /dev/null, the log stays out of the memory" {
	local pid fd
	timeout 60 "$IVSHMD_BIN/ivshmd" -F -v -S "$SRV_DIR/closed.sock" -p "$SRV_DIR/closed.pid" -n 1 \
		<&- >&- 2>&- 3>&- 4>&- &
	wait_for 10 test -s "$SRV_DIR/closed.pid"
	pid=$(cat "$SRV_DIR/closed.pid")
	run -0 peer -S "$SRV_DIR/closed.sock" -r 0:64
	assert_line "read offset=0 hex=$(hexz 64)"
	for fd in 0 1 2; do
		assert_equal "$(readlink "/proc/$pid/fd/$fd")" /dev/null
	done
	kill_wait "$pid"
	# Only stderr closed: the first thing ivshmd opens would have become fd 2.
	timeout 60 "$IVSHMD_BIN/ivshmd" -F -v -S "$SRV_DIR/closed.sock" -p "$SRV_DIR/closed.pid" -n 1 \
		2>&- 3>&- 4>&- &
	wait_for 10 test -s "$SRV_DIR/closed.pid"
	pid=$(cat "$SRV_DIR/closed.pid")
	run -0 peer -S "$SRV_DIR/closed.sock" -r 0:64
	assert_line "read offset=0 hex=$(hexz 64)"
	assert_equal "$(readlink "/proc/$pid/fd/2")" /dev/null
	kill_wait "$pid"
}

# The issue: daemonizing dup2'ed /dev/null over the memfd, epoll and reserve fds.
@test "started with fds 0, 1 and 2 closed (daemon): it serves after reporting success" {
	local sup rc=0
	# Not through `run`, which would give the command its own stdout and stderr.
	timeout 10 "$IVSHMD_BIN/ivshmd" -S "$SRV_DIR/dclosed.sock" -p "$SRV_DIR/dclosed.pid" -n 2 \
		<&- >&- 2>&- 3>&- 4>&- || rc=$?
	assert_equal "$rc" 0
	sup=$(cat "$SRV_DIR/dclosed.pid")
	peer_stay a "$SRV_DIR/dclosed.sock" -n 2
	run -0 peer -S "$SRV_DIR/dclosed.sock" -n 2 -R "$(peer_id a):1" -w 0:alive -r 0:5
	assert_line "read offset=0 hex=$(printf alive | od -An -tx1 | tr -d ' \n')"
	wait_for_line 5 "$(peer_out a)" '^got vector=1 count=1$'
	alive "$sup"
	peer_stop a
	kill_wait "$sup"
	assert_not_exists "$SRV_DIR/dclosed.sock"
}

@test "fds inherited by accident are closed at start" {
	local pid
	(
		exec 7<"$BATS_TEST_FILENAME" 8>"$SRV_DIR/stray"
		exec timeout 60 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/inh.sock" -p "$SRV_DIR/inh.pid" -n 1 \
			2>"$SRV_DIR/inh.log" 3>&- 4>&-
	) &
	wait_for 10 test -s "$SRV_DIR/inh.pid"
	pid=$(cat "$SRV_DIR/inh.pid")
	run -0 find "/proc/$pid/fd" -lname "$BATS_TEST_FILENAME" -o -lname "$SRV_DIR/stray"
	assert_output ""
	kill_wait "$pid"
}

@test "no socket or pidfile in a directory others can write; sticky (as /tmp) and root's are fine" {
	local d=$SRV_DIR/open
	mkdir -m 0777 "$d"
	chmod 0777 "$d"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$d/s.sock"
	assert_output "ivshmd: directory $d of the socket is writable by group or others without the sticky bit (uid 0, mode 0777): another user could replace the socket; refusing"
	assert_not_exists "$d/s.sock"
	chmod 0775 "$d"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$d/s.sock"
	assert_output --partial "is writable by group or others"
	# A parent directory counts too.
	chmod 0755 "$d"
	mkdir -p "$d/sub"
	chmod 0777 "$d"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$d/sub/s.sock"
	assert_output --partial "directory $d of the socket is writable"
	chown nobody "$d"
	chmod 0755 "$d"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$d/s.sock"
	assert_output --partial "directory $d of the socket belongs to another user (uid 65534, mode 0755)"
	chown root "$d"
	chmod 0755 "$d"
	chmod 0777 "$d/sub"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/p.sock" -p "$d/sub/p.pid"
	assert_output --partial "directory $d/sub of the pidfile is writable"
	assert_not_exists "$SRV_DIR/p.sock"
	chmod 1777 "$d/sub"
	timeout 60 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/sticky.sock" -p "$d/sub/sticky.pid" \
		2>"$SRV_DIR/sticky.log" 3>&- 4>&- &
	wait_for 10 test -s "$d/sub/sticky.pid"
	kill_wait "$(cat "$d/sub/sticky.pid")"
}

# Another user in a sticky directory (as /tmp) can create names before ivshmd does.
@test "names another user planted (pidfile, socket path, -M object) are refused, not used" {
	local d=$SRV_DIR/tmp
	mkdir "$d"
	chmod 1777 "$d"
	as_user nobody nogroup sh -c 'echo 1 >"$1/ivshmd.pid"' - "$d"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/pl.sock" -p "$d/ivshmd.pid"
	assert_output --partial "pidfile $d/ivshmd.pid belongs to another user (uid 65534"
	assert_equal "$(cat "$d/ivshmd.pid")" 1
	# Daemonized, the parent says so too.
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -S "$SRV_DIR/pl.sock" -p "$d/ivshmd.pid"
	assert_output --partial "belongs to another user"
	assert_not_exists "$SRV_DIR/pl.sock"
	# A listening socket another user put at the path is never taken over.
	timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		socat "UNIX-LISTEN:$d/s.sock,fork" EXEC:cat 3>&- 4>&- &
	echo $! >"$SRV_DIR/planted.qpid"
	wait_for 5 test -S "$d/s.sock"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$d/s.sock"
	assert_output --partial "$d/s.sock: another server is listening there"
	run -0 stat -c %U "$d/s.sock"
	assert_output nobody
	kill_wait "$(cat "$SRV_DIR/planted.qpid")"
	# A symlink another user put there points wherever they like: never followed.
	rm -f "$d/s.sock"
	as_user nobody nogroup ln -s /etc/passwd "$d/s.sock"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$d/s.sock"
	assert_output "ivshmd: $d/s.sock exists and is not a socket; refusing to touch it"
	run -0 stat -c %F /etc/passwd
	assert_output "regular file"
}
