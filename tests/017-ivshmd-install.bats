#!/usr/bin/env bats
# Building, installing and invoking the host tools: outputs stay in BUILD,
# make install honours DESTDIR/PREFIX and installs a valid Type=notify unit
# whose default settings start a working server, and the command lines are
# QEMU ivshmem-server's plus long options, with bad values refused.

load helpers/ivshmd

setup_file() {
	srv_dir_create
}

teardown_file() {
	srv_dir_remove
}

teardown() {
	srvs_stop_all
}

@test "a build elsewhere leaves the source tree alone; V=1 shows the commands" {
	local before
	before=$(git -C "$IVSHM_TOP" status --porcelain --ignored host)
	run -0 make -C "$IVSHM_TOP/host" BUILD="$SRV_DIR/build"
	assert_output --regexp '  CC      ivshmd/server\.c'
	assert_output --regexp '  LD      ivshmd'
	assert_file_executable "$SRV_DIR/build/bin/ivshmd"
	assert_file_executable "$SRV_DIR/build/bin/ivshm-peer"
	assert_file_exists "$SRV_DIR/build/obj/host/ivshmd/server.o"
	assert_equal "$(git -C "$IVSHM_TOP" status --porcelain --ignored host)" "$before"
	# A plain build makes no unit test, sanitized or not (make unit / make check do).
	assert_not_exists "$SRV_DIR/build/tests"
	assert_not_exists "$SRV_DIR/build/obj/host/asan"
	rm "$SRV_DIR/build/obj/host/ivshmd/sendq.o"
	run -0 make -C "$IVSHM_TOP/host" BUILD="$SRV_DIR/build" V=1
	assert_output --regexp 'cc .*-Wall -Wextra -Werror.* -c -o [^ ]*/obj/host/ivshmd/sendq\.o ivshmd/sendq\.c'
	assert_output --regexp "cc .*-o [^ ]*/bin/ivshmd .*/obj/host/ivshmd/sendq\.o"
	# Other flags into the same BUILD rebuild everything rather than mixing objects.
	run -0 make -C "$IVSHM_TOP/host" BUILD="$SRV_DIR/build" CC=gcc
	assert_output --partial "CC      ivshmd/server.c"
	run -0 make -C "$IVSHM_TOP/host" BUILD="$SRV_DIR/build"
	assert_output --partial "CC      ivshmd/server.c"
	# Unchanged flags: the stamp is not rewritten and nothing is rebuilt.
	local stamp
	stamp=$(stat -c %y "$SRV_DIR/build/obj/host/flags")
	run -0 make -C "$IVSHM_TOP/host" BUILD="$SRV_DIR/build"
	refute_output --partial "CC "
	refute_output --partial "LD "
	assert_equal "$(stat -c %y "$SRV_DIR/build/obj/host/flags")" "$stamp"
	# Parsing the Makefile alone writes nothing.
	rm "$SRV_DIR/build/obj/host/flags"
	run -0 make -C "$IVSHM_TOP/host" BUILD="$SRV_DIR/build" -n
	assert_not_exists "$SRV_DIR/build/obj/host/flags"
}

@test "make install SYSTEM=1 honours DESTDIR and PREFIX and keeps an edited /etc/default/ivshmd" {
	local d=$SRV_DIR/destdir
	run -0 make -C "$IVSHM_TOP/host" install SYSTEM=1 BUILD="$SRV_DIR/build" DESTDIR="$d" PREFIX=/usr
	assert_file_executable "$d/usr/sbin/ivshmd"
	assert_file_executable "$d/usr/bin/ivshm-peer"
	assert_file_exists "$d/usr/lib/systemd/system/ivshmd.service"
	assert_file_exists "$d/etc/default/ivshmd"
	assert_equal "$(stat -c %a "$d/usr/lib/systemd/system/ivshmd.service")" 644
	run -0 cat "$d/usr/lib/systemd/system/ivshmd.service"
	assert_line "Type=notify"
	assert_line "ExecStart=/usr/sbin/ivshmd --foreground \$IVSHMD_OPTS"
	assert_line "EnvironmentFile=-/etc/default/ivshmd"
	assert_line "RuntimeDirectory=ivshm"
	# Restarts keep the memory, sockets and peers; a reload re-executes in place.
	assert_line --regexp '^FileDescriptorStoreMax=[1-9][0-9]+$'
	assert_line "ExecReload=/bin/kill -USR2 \$MAINPID"
	echo 'IVSHMD_OPTS="--vectors 2"' >"$d/etc/default/ivshmd"
	run -0 make -C "$IVSHM_TOP/host" install SYSTEM=1 BUILD="$SRV_DIR/build" DESTDIR="$d" PREFIX=/usr
	assert_file_contains "$d/etc/default/ivshmd" '^IVSHMD_OPTS="--vectors 2"$'
}

@test "the installed unit passes systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	local d=$SRV_DIR/prefix
	# No DESTDIR: the unit's ExecStart must exist for verify.
	run -0 make -C "$IVSHM_TOP/host" install BUILD="$SRV_DIR/build" PREFIX="$d/usr" \
		SYSCONFDIR="$d/etc"
	run -0 systemd-analyze verify "$d/usr/lib/systemd/system/ivshmd.service"
	refute_output --partial "Unknown"
	refute_output --partial "ivshmd.service:"
}

@test "the default settings start a server with the pinned sockets the VM configs use" {
	local opts
	opts=$(. "$IVSHM_TOP/host/ivshmd/systemd/ivshmd.default" && echo "$IVSHMD_OPTS")
	assert_regex "$opts" '--socket /run/ivshm/ivshmd\.sock'
	# The same options, on a socket of ours instead of /run/ivshm.
	# shellcheck disable=SC2086
	srv_start defaults ${opts//\/run\/ivshm\/ivshmd.sock/$SRV_DIR\/defaults.sock}
	local s
	for s in "" .server .client .ctl; do
		run -0 stat -c '%a %G' "$(srv_sock defaults)$s"
		assert_output "660 kvm"
	done
	run -0 peer -S "$(srv_sock defaults).server" -n 4
	assert_line --regexp '^ready id=1 vectors=4 '
	run -0 peer -S "$(srv_sock defaults).client" -n 4
	assert_line --regexp '^ready id=2 vectors=4 '
	wait_for_line 5 "$(srv_log defaults)" "^ivshmd: peer 2 joined .*pinned 'client'"
	# The pins are libvirt's QEMU's: another member of the group cannot take them.
	chmod 0755 "$SRV_DIR"
	run -1 setpriv --reuid=nobody --regid=kvm --clear-groups timeout 10 \
		"$(others_peer)" -S "$(srv_sock defaults).server" -n 4
	assert_line eof
	if getent passwd libvirt-qemu >/dev/null; then
		run -0 setpriv --reuid=libvirt-qemu --regid=kvm --clear-groups timeout 10 \
			"$(others_peer)" -S "$(srv_sock defaults).server" -n 4 -q
	fi
}

@test "--help covers QEMU ivshmem-server's options and the long ones" {
	run -0 "$IVSHMD_BIN/ivshmd" --help
	local opt
	for opt in "-S, --socket" "-l, --size" "-n, --vectors" "-M, --shm-name" "-m, --shm-dir" \
		"-F, --foreground" "-p, --pidfile" "-v, --verbose" "-h, --help" "-g, --group" \
		"--mode" "-P, --peer" "--max-peers" "--queue-limit" "--send-timeout" "--list" \
		"--peer-allow" "--uid-quota" "--shm-reuse" "--publish-peers" "--no-publish-peers"; do
		assert_output --partial "  $opt "
	done
	run -0 "$IVSHMD_BIN/ivshmd" -h
	assert_line --index 0 --partial "Usage: ivshmd"
	run -0 "$IVSHMD_BIN/ivshm-peer" --help
	assert_output --partial "ready id=ID vectors=N peers=ID,...|-"
}

@test "QEMU's short options work as they do there" {
	srv_start short -l 64K -n 3 -v
	run -0 peer -S "$(srv_sock short)" -n 3
	assert_line --regexp '^shm size=65536 '
	assert_line "ready id=0 vectors=3 peers=-"
	run -0 cat "$(srv_log short)"
	assert_line --regexp '^ivshmd: peer 0 joined'
}

@test "-n is read as QEMU's server reads it: 010 is octal, 0x4 hexadecimal" {
	local n
	for n in 010:8 0x4:4 0X10:16 00:0; do
		srv_start base -n "${n%%:*}"
		run -0 peer -S "$(srv_sock base)" -n "${n##*:}" --trace
		assert_equal "$(grep -c '^msg 0 fd$' <<<"$output")" "${n##*:}"
		assert_line "ready id=0 vectors=${n##*:} peers=-"
		srv_stop base
	done
}

@test "-n 0, as QEMU's server allows: memory only, no eventfds, departures still announced" {
	srv_start none -n 0 -l 1M
	run -0 cat "$(srv_log none)"
	assert_line --regexp "^ivshmd: 0 vectors: peers get the memory but no doorbells"
	peer_stay n1 "$(srv_sock none)" -n 0 --trace
	run -0 cat "$(peer_out n1)"
	assert_equal "$(grep '^msg ' <<<"$output")" "$(printf 'msg 0 -\nmsg 0 -\nmsg -1 fd')"
	assert_line "ready id=0 vectors=0 peers=-"
	run -0 peer -S "$(srv_sock none)" -n 0 -w 8:shared -r 8:6
	assert_line "ready id=1 vectors=0 peers=-"
	assert_line "read offset=8 hex=$(printf shared | od -An -tx1 | tr -d ' \n')"
	assert_line "counts -"
	wait_for_line 10 "$(peer_out n1)" '^leave peer=1$'
	run -0 grep -c '^msg 1 ' "$(peer_out n1)"
	assert_output 1
	run -0 timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$(srv_sock none)"
	assert_line --regexp '^0 +[0-9]+ +[0-9]+ +[0-9]+ +0 +0 +0 +-$'
	run -1 peer -S "$(srv_sock none)" -n 0 -R 0:0
	assert_line "error ring peer=0 vector=0: no such peer or vector"
	peers_stop_all
	srv_wait_peers none 0
}

@test "ivshm-peer exit status: 2 for usage, 3 for a timeout, 1 for errors" {
	srv_start st -n 1
	run -2 "$IVSHMD_BIN/ivshm-peer" --bogus
	run -2 "$IVSHMD_BIN/ivshm-peer" -n 65
	# The load modes are a test tool's (peer-load), not the product's.
	run -2 "$IVSHMD_BIN/ivshm-peer" --repeat 2
	run -2 "$IVSHMD_BIN/ivshm-peer" --no-read
	run -2 "$PEER_LOAD" --no-read --repeat 2 -S "$(srv_sock st)"
	# Nobody rings: the wait times out.
	run -3 peer -S "$(srv_sock st)" -t 1 -W 0
	assert_line "timeout vector=0"
	assert_line "counts 0"
	# Expecting 2 vectors from a 1-vector server: the setup never completes.
	run -3 peer -S "$(srv_sock st)" -n 2 -t 1
	assert_line "error timeout waiting for the setup"
	run -3 peer_load -S "$(srv_sock st)" -n 2 -t 1 --repeat 3
	assert_line "error cycle 1: Connection timed out"
	run -1 peer -S "$SRV_DIR/nothing.sock"
	run -0 "$IVSHMD_BIN/ivshm-peer" --help
	assert_output --partial "2 usage, 3 timeout"
}

@test "bad options and values are refused with the reason" {
	local args
	while IFS='|' read -r args msg; do
		# shellcheck disable=SC2086
		run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" $args
		assert_output --partial "$msg"
	done <<'EOF2'
-n 65|ivshmd: error: --vectors '65': must be 0 to 64
-n 0x41|--vectors '0x41': must be 0 to 64
-n 08|--vectors '08': must be 0 to 64
-n x|--vectors 'x': must be 0 to 64
--max-peers 0|--max-peers '0': must be 1 to 65536
--max-peers 65537|--max-peers '65537': must be 1 to 65536
--send-timeout 0|--send-timeout '0': must be 1 to 3600000 ms
--queue-limit 10 -n 4 --max-peers 4|queue limit 10: a full setup needs 19 messages
--bogus|unrecognized option '--bogus'
-Z|invalid option -- 'Z'
extra|unexpected argument 'extra'
EOF2
	assert_not_exists "$SRV_DIR/bad.sock"
	run -2 "$IVSHMD_BIN/ivshm-peer" -n 65
	assert_output "ivshm-peer: error: invalid --vectors '65'"
	run -2 "$IVSHMD_BIN/ivshm-peer" -w nocolon
	assert_output "ivshm-peer: error: invalid action argument 'nocolon'"
	run -2 "$IVSHMD_BIN/ivshm-peer" -r 0:0
	assert_output "ivshm-peer: error: invalid action argument '0:0'"
	run -1 "$IVSHMD_BIN/ivshm-peer" -S "$SRV_DIR/nothing.sock"
	assert_output "error connect $SRV_DIR/nothing.sock: No such file or directory"
}
