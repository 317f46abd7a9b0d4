#!/usr/bin/env bats
# ivshm-proxy as systemd runs it, without systemd as PID 1: socket activation through
# systemd-socket-activate (the sockets matched to imports by address, clients that
# connected before the proxy ran served), the readiness protocol on a NOTIFY_SOCKET of
# the test's (READY=1 only once published: a proxy started before its ivshmd waits for
# it), and what make install ships: the unit (systemd-analyze verify), the example
# configuration, the groups. 097 runs the packaged unit under a real systemd.
#
#   client --> socket of systemd-socket-activate --> proxy a ==== proxy b --> sockload echo

load helpers/proxy

setup_file() {
	export SCRATCH="$(scratch_dir)/$$"
	mkdir -p "$SCRATCH"
	export SOCK="$SCRATCH/ivshmd.sock"
	ivshmd_private_start "$SOCK" "$SCRATCH/ivshmd.log" -l 4M -n 1
	sl_serve echo "unix:$SCRATCH/echo.sock" --mode echo >/dev/null
	sl_serve seq "seqpacket:$SCRATCH/seq.sock" --mode echo >/dev/null
	px_start b "$SOCK" --export "echo unix:$SCRATCH/echo.sock allow *" \
		--export "seq seqpacket:$SCRATCH/seq.sock allow *"
}

teardown_file() {
	local f
	for f in "$SCRATCH"/*.tpid; do
		kill_wait "$(cat "$f")" || true
	done
	[ -z "${LATE_PID:-}" ] || kill_wait "$LATE_PID" || true
	scratch_teardown
}

# free_port: a TCP port nobody listens on (one the kernel gave and took back).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# activate NAME ACTIVATE_ARGS -- PROXY_SETTINGS...: proxy NAME behind
# systemd-socket-activate, which listens now and execs the proxy at the first client;
# like px_start otherwise, but returns at once (nothing runs the proxy yet).
activate() {
	local name=$1 args=()
	shift
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	timeout 120 systemd-socket-activate "${args[@]}" "$PROXY" -v --name "$name" \
		--server "$SOCK" --control "$SCRATCH/$name.ctl" "$@" >"$SCRATCH/$name.log" 2>&1 3>&- 4>&- &
	echo $! >"$SCRATCH/$name.tpid"
	wait_for 10 grep -q '^Listening on ' "$SCRATCH/$name.log"
}

@test "socket activation: clients that connect before the proxy runs are served on the sockets passed" {
	local port own
	port=$(free_port)
	activate a -l "127.0.0.1:$port" -l "$SCRATCH/act.sock" -- \
		--import "echo@proxy-b tcp:127.0.0.1:$port" \
		--import "echo@proxy-b unix:$SCRATCH/own.sock" \
		--import "echo@proxy-b unix:$SCRATCH/act.sock" \
		--import "echo@proxy-b tcp:127.0.0.1:0"
	# Nothing runs the proxy yet; this client's connection starts it and waits for it.
	assert_not_exists "$SCRATCH/a.ctl"
	run -0 sockload clients "tcp:127.0.0.1:$port" -n 3 --bytes 200000
	assert_output "clients n=3 ok=3 failed=0 bytes=600000"
	run -0 sockload clients "unix:$SCRATCH/act.sock" -n 3 --bytes 200000
	assert_output "clients n=3 ok=3 failed=0 bytes=600000"
	# The imports without a socket of systemd's listen by themselves.
	run -0 sockload clients "unix:$SCRATCH/own.sock" -n 1 --bytes 1000
	own=$(px_status a | sed -n 's/^import service=echo .* listen=\(tcp:127\.0\.0\.1:[0-9]*\) .*/\1/p' |
		grep -v ":$port\$")
	run -0 sockload clients "$own" -n 1 --bytes 1000
	run -0 cat "$SCRATCH/a.log"
	assert_line "ivshm-proxy: import echo from proxy-b on tcp:127.0.0.1:$port (socket activation)"
	assert_line "ivshm-proxy: import echo from proxy-b on unix:$SCRATCH/act.sock (socket activation)"
	assert_line "ivshm-proxy: import echo from proxy-b on unix:$SCRATCH/own.sock"
	assert_line --regexp '^ivshm-proxy: ready: proxy-a: peer [0-9]+, 0 exports, 4 imports \(2 on sockets from systemd\)$'
	# The file of a socket it was passed is its owner's to remove; its own goes.
	px_stop a
	assert_exists "$SCRATCH/act.sock"
	assert_not_exists "$SCRATCH/own.sock"
}

@test "socket activation of a seqpacket import: messages arrive whole" {
	activate s --seqpacket -l "$SCRATCH/act-seq.sock" -- \
		--import "seq@proxy-b seqpacket:$SCRATCH/act-seq.sock"
	run -0 sockload clients "seqpacket:$SCRATCH/act-seq.sock" -n 2 --bytes 100000
	assert_output "clients n=2 ok=2 failed=0 bytes=200000"
	run -0 grep -c '(socket activation)$' "$SCRATCH/s.log"
	assert_output 1
	px_stop s
}

@test "a socket passed for no import: the proxy refuses to start and names it" {
	local port other
	port=$(free_port)
	other=$(free_port)
	activate w -l "127.0.0.1:$port" -- --import "echo@proxy-b tcp:127.0.0.1:$other"
	# The client that starts it is not served: the proxy exits.
	run -0 sockload probe "tcp:127.0.0.1:$port"
	assert_output --regexp '^probe (eof|reset)$'
	local tpid
	tpid=$(cat "$SCRATCH/w.tpid")
	wait_for 10 gone "$tpid"
	run -1 wait "$tpid"
	run -0 cat "$SCRATCH/w.log"
	assert_line "ivshm-proxy: socket activation: fd 3 (tcp:127.0.0.1:$port) is no import's address"
	refute_line --partial "ready"
}

@test "READY=1 only once published: a proxy started before its ivshmd waits for it; STOPPING=1 at the end" {
	local late="$SCRATCH/late.sock" notify="$SCRATCH/notify.sock"
	# systemd's end of the protocol: each datagram a line of notify.txt.
	timeout 120 python3 -c $'import socket, sys\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nwith open(sys.argv[2], "a", buffering=1) as f:\n    while True:\n        f.write(s.recv(4096).decode() + "\\n")' \
		"$notify" "$SCRATCH/notify.txt" 3>&- 4>&- &
	echo $! >"$SCRATCH/notify.tpid"
	wait_for 10 test -S "$notify"
	NOTIFY_SOCKET=$notify timeout 120 "$PROXY" -v --name c --server "$late" \
		--control "$SCRATCH/c.ctl" --export "echo unix:$SCRATCH/echo.sock allow *" \
		>"$SCRATCH/c.log" 2>&1 3>&- 4>&- &
	echo $! >"$SCRATCH/c.tpid"
	wait_for_line 10 "$SCRATCH/c.log" "waiting for $late: No such file or directory; trying again"
	wait_for_line 10 "$SCRATCH/notify.txt" "^STATUS=waiting for $late: No such file or directory"
	# It runs and answers, but has not said it is ready.
	run -0 px_status c
	assert_line --regexp '^proxy role=proxy-c peer=-1 .* published=no '
	run -0 cat "$SCRATCH/notify.txt"
	refute_line READY=1
	"$IVSHM_BIN/ivshmd" -F -S "$late" -l 4M -n 1 >"$SCRATCH/late.log" 2>&1 3>&- 4>&- &
	LATE_PID=$!
	wait_for_line 10 "$SCRATCH/notify.txt" '^READY=1$'
	assert_file_contains "$SCRATCH/notify.txt" '^STATUS=proxy-c: peer 0, 1 exports, 0 imports$'
	run -0 px_status c
	assert_line --regexp '^proxy role=proxy-c peer=0 .* published=yes '
	# A peer of the late server reaches its export.
	px_start d "$late" --import "echo@proxy-c unix:$SCRATCH/d-echo.sock"
	run -0 sockload clients "unix:$SCRATCH/d-echo.sock" -n 2 --bytes 10000
	assert_output "clients n=2 ok=2 failed=0 bytes=20000"
	px_stop d
	px_stop c
	wait_for_line 10 "$SCRATCH/notify.txt" '^STOPPING=1$'
	# Only a device or server that is not there yet is waited for: a bad value is not.
	run -1 timeout 10 "$PROXY" --name e --server "$SOCK" --vectors 3 --control "$SCRATCH/e.ctl"
	assert_output --partial "Invalid argument"
	# A configuration it refuses: status 2, which the unit does not restart for.
	run -2 timeout 10 "$PROXY" --name e --wait sometimes
	assert_output --partial "wait: 'sometimes' is not interrupt, hybrid or poll"
}

@test "make install: daemon, pages, unit, example configuration kept once edited; SYSTEM=1 adds the groups" {
	local d=$SCRATCH/destdir
	run -0 make -C "$IVSHM_TOP/proxy" install BUILD="$IVSHM_BUILD" DESTDIR="$d" PREFIX=/usr SYSTEM=1
	assert_file_executable "$d/usr/sbin/ivshm-proxy"
	assert_file_exists "$d/usr/share/man/man8/ivshm-proxy.8"
	assert_file_exists "$d/usr/share/man/man5/ivshm-proxy.conf.5"
	run -0 cmp "$d/etc/ivshm/proxy.conf" "$IVSHM_TOP/proxy/systemd/proxy.conf"
	run -0 cat "$d/usr/lib/sysusers.d/ivshm-proxy.conf"
	assert_line 'g ivshm - -'
	assert_line 'g kvm - -'
	local unit=$d/usr/lib/systemd/system/ivshm-proxy.service
	assert_equal "$(stat -c %a "$unit")" 644
	run -0 cat "$unit"
	assert_line "Type=notify"
	assert_line "ExecStart=/usr/sbin/ivshm-proxy run -c /etc/ivshm/proxy.conf"
	assert_line "RuntimeDirectory=ivshm-proxy"
	assert_line "RestartPreventExitStatus=2"
	assert_line "DynamicUser=yes"
	assert_line "SupplementaryGroups=ivshm kvm"
	local key
	for key in "CapabilityBoundingSet=" NoNewPrivileges=yes ProtectSystem=strict \
		ProtectKernelTunables=yes RestrictNamespaces=yes MemoryDenyWriteExecute=yes \
		SystemCallFilter=@system-service "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"; do
		assert_line "$key"
	done
	echo 'name edited' >"$d/etc/ivshm/proxy.conf"
	run -0 make -C "$IVSHM_TOP/proxy" install BUILD="$IVSHM_BUILD" DESTDIR="$d" PREFIX=/usr SYSTEM=1
	assert_file_contains "$d/etc/ivshm/proxy.conf" '^name edited$'
	# Under a PREFIX alone: the unit names that PREFIX's file; no sysusers.d file.
	local p=$SCRATCH/prefix
	run -0 make -C "$IVSHM_TOP/proxy" install BUILD="$IVSHM_BUILD" DESTDIR="$p" PREFIX=/opt/ivshm
	assert_file_exists "$p/opt/ivshm/etc/ivshm/proxy.conf"
	run -0 grep '^ExecStart=' "$p/opt/ivshm/lib/systemd/system/ivshm-proxy.service"
	assert_output "ExecStart=/opt/ivshm/sbin/ivshm-proxy run -c /opt/ivshm/etc/ivshm/proxy.conf"
	run -0 find "$p" -name '*sysusers*'
	assert_output ''
}

@test "the installed unit passes systemd-analyze verify" {
	local d=$SCRATCH/verify
	# No DESTDIR: the unit's ExecStart must exist for verify.
	run -0 make -C "$IVSHM_TOP/proxy" install BUILD="$IVSHM_BUILD" PREFIX="$d/usr" SYSCONFDIR="$d/etc"
	# Its Documentation= pages are looked up: the installed ones.
	MANPATH=$d/usr/share/man run -0 systemd-analyze verify "$d/usr/lib/systemd/system/ivshm-proxy.service"
	refute_output --partial "Unknown"
	refute_output --partial "ivshm-proxy.service:"
	# The check sees a key systemd does not know.
	sed 's/^DynamicUser=yes$/DynamicUsr=yes/' "$d/usr/lib/systemd/system/ivshm-proxy.service" \
		>"$d/usr/lib/systemd/system/broken-proxy.service"
	MANPATH=$d/usr/share/man run systemd-analyze verify "$d/usr/lib/systemd/system/broken-proxy.service"
	assert_output --partial "Unknown key 'DynamicUsr' in section [Service]"
}

@test "the shipped proxy.conf sets nothing, and each of its examples is a valid setting" {
	local conf=$IVSHM_TOP/proxy/systemd/proxy.conf
	run -2 "$PROXY" check -c "$conf"
	assert_output --partial "no name"
	local n=0 key value
	while read -r key value; do
		run -0 "$PROXY" check --name x "--$key" "$value"
		n=$((n + 1))
	done < <(sed -n 's/^#\([a-z-]*\) \(.*\)$/\1 \2/p' "$conf" | grep -E "^($(sed -n \
		'/^const char \*const config_keys\[\] = {$/,/^};$/p' "$IVSHM_TOP/proxy/src/config.c" |
		grep -oE '"[a-z-]+"' | tr -d '"' | paste -sd'|')) ")
	[ "$n" -ge 6 ]
}

@test "the unit's groups and runtime directory are the udev rule's, ivshmd's and the proxy's own" {
	local unit=$IVSHM_TOP/proxy/systemd/ivshm-proxy.service.in
	run -0 grep -E '^GROUP="[a-z]+"' "$IVSHM_TOP/guest-apps/udev/60-ivshm.rules"
	assert_output --partial 'GROUP="ivshm"'
	run -0 cat "$IVSHM_TOP/host/ivshmd/systemd/ivshmd.default"
	assert_output --partial -- "--group kvm "
	run -0 grep '^SupplementaryGroups=' "$unit"
	assert_output "SupplementaryGroups=ivshm kvm"
	run -0 sed -n 's/^g \([a-z]*\) .*/\1/p' "$IVSHM_TOP/proxy/systemd/ivshm-proxy.sysusers"
	assert_equal "$(tr '\n' ' ' <<<"$output")" "ivshm kvm "
	# The default control socket lies in the unit's runtime directory.
	run -0 "$PROXY" check --name x
	assert_line "control /run/ivshm-proxy/x.ctl"
	run -0 grep '^RuntimeDirectory=' "$unit"
	assert_output "RuntimeDirectory=ivshm-proxy"
}
