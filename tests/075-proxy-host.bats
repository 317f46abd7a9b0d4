#!/usr/bin/env bats
# ivshm-proxy between two host peers of a private ivshmd: every semantic a socket
# program relies on, in seconds, without a guest (078 repeats the essentials in VMs).
#
#   sockload clients --> a (imports, listens) == one channel == b (exports) --> sockload servers
#                        proxy-a                                proxy-b
#   servers: echo (Unix, TCP), seqpacket echo, source (a stream on request), collect
#   (answers once the client's end came), reverse (ends first, then keeps reading)

load helpers/proxy

setup_file() {
	px_world_start
	local techo collect rev
	sl_serve echo "unix:$SCRATCH/echo.sock" --mode echo >/dev/null
	techo=$(sl_serve techo tcp:127.0.0.1:0 --mode echo)
	sl_serve seq "seqpacket:$SCRATCH/seq.sock" --mode echo >/dev/null
	sl_serve src "unix:$SCRATCH/src.sock" --mode source >/dev/null
	collect=$(sl_serve collect tcp:127.0.0.1:0 --mode collect)
	rev=$(sl_serve rev tcp:127.0.0.1:0 --mode reverse --bytes 1000000)
	# A TCP port nobody listens on: one the kernel gave and took back.
	export CLOSED_PORT
	CLOSED_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	px_start b "$SOCK" \
		--export "echo unix:$SCRATCH/echo.sock allow proxy-a" \
		--export "techo $techo allow proxy-a,proxy-other" \
		--export "seq seqpacket:$SCRATCH/seq.sock allow proxy-a" \
		--export "src unix:$SCRATCH/src.sock allow *" \
		--export "collect $collect allow proxy-a" \
		--export "reverse $rev allow proxy-a" \
		--export "dead unix:$SCRATCH/nobody.sock allow proxy-a" \
		--export "closed tcp:127.0.0.1:$CLOSED_PORT allow proxy-a" \
		--export "denied unix:$SCRATCH/echo.sock allow proxy-nobody"
	# connect-timeout: a refusal that never came would leave a client waiting longer than
	# sockload probe waits (30 s), so "closed at once" cannot pass by a timeout.
	px_start a "$SOCK" --conn-buffer 64K --connect-timeout 60000 \
		--import "echo@proxy-b tcp:127.0.0.1:0" \
		--import "techo@proxy-b unix:$SCRATCH/a-techo.sock" \
		--import "seq@proxy-b seqpacket:$SCRATCH/a-seq.sock" \
		--import "src@proxy-b unix:$SCRATCH/a-src.sock" \
		--import "collect@proxy-b tcp:127.0.0.1:0" \
		--import "reverse@proxy-b tcp:127.0.0.1:0" \
		--import "dead@proxy-b tcp:127.0.0.1:0" \
		--import "closed@proxy-b tcp:127.0.0.1:0" \
		--import "denied@proxy-b tcp:127.0.0.1:0" \
		--import "nosuch@proxy-b tcp:127.0.0.1:0" \
		--import "echo@proxy-missing tcp:127.0.0.1:0"
	# a links to b as soon as it sees it, before any client.
	wait_for 10 eval '[ "$(px_field a proxy links)" = 1 ]'
}

teardown_file() {
	px_world_stop a b
}

# idle: no connection left on either proxy.
idle() {
	wait_for 10 eval '[ "$(px_conns a)" = 0 ] && [ "$(px_conns b)" = 0 ]'
}

@test "1000 concurrent connections, each with its own stream, arrive intact and in order" {
	run -0 sockload clients "$(px_listen a echo proxy-b)" -n 1000 --bytes 20000
	assert_output "clients n=1000 ok=1000 failed=0 bytes=20000000"
	idle
	# One link carried them all.
	assert_equal "$(px_field a proxy links)" 1
	assert_equal "$(px_field a link bad_frames)" 0
}

@test "TCP targets and Unix listeners: bytes both ways, large and small writes" {
	run -0 sockload clients "unix:$SCRATCH/a-techo.sock" -n 20 --bytes 3000000
	assert_output "clients n=20 ok=20 failed=0 bytes=60000000"
	run -0 sockload cycles "unix:$SCRATCH/a-techo.sock" -n 200
	assert_output "cycles n=200 ok=200"
	idle
}

@test "seqpacket: every message arrives whole, in order, never merged or split" {
	run -0 sockload clients "seqpacket:$SCRATCH/a-seq.sock" -n 50 --bytes 400000
	assert_output "clients n=50 ok=50 failed=0 bytes=20000000"
	idle
}

@test "a stalled reader stalls only itself: ten others finish meanwhile, its buffer stays bounded" {
	rm -f "$SCRATCH/go"
	timeout 120 "$SOCKLOAD" fetch "unix:$SCRATCH/a-src.sock" --seed 99 --bytes 30000000 \
		--stall-file "$SCRATCH/go" >"$SCRATCH/stalled.out" 3>&- 4>&- &
	local stalled=$! i pids=()
	wait_for 10 grep -q '^fetch started' "$SCRATCH/stalled.out"
	# The stalled connection fills its window, and stops: credit 0 at b, a's buffer full.
	wait_for 10 eval 'px_status b | grep -q "^conn .* service=src .* credit=0$"'
	for i in $(seq 10); do
		timeout 120 "$SOCKLOAD" fetch "unix:$SCRATCH/a-src.sock" --seed "$i" --bytes 20000000 \
			>"$SCRATCH/fetch$i.out" 3>&- 4>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run -0 cat "$SCRATCH"/fetch*.out
	assert_equal "$(grep -c '^fetch ok bytes=20000000$' <<<"$output")" 10
	# All the while the stalled one waited, holding at most its 64 KiB (conn-buffer).
	alive "$stalled"
	run -0 px_status a
	assert_line --regexp "^conn id=[0-9]+ peer=[0-9]+ service=src side=import kind=stream state=open tx=8 rx=[0-9]+ buffered=65536 credit=[0-9]+$"
	assert_equal "$(grep -c '^conn ' <<<"$output")" 1
	touch "$SCRATCH/go"
	wait "$stalled"
	run -0 cat "$SCRATCH/stalled.out"
	assert_line "fetch ok bytes=30000000"
	idle
}

@test "10,000 connect/close cycles: file descriptors and memory of both proxies stay put" {
	local ep=$(px_listen a echo proxy-b) a b fa fb ra rb
	a=$(px_pid a)
	b=$(px_pid b)
	run -0 sockload cycles "$ep" -n 500
	idle
	fa=$(fds_of "$a") fb=$(fds_of "$b") ra=$(rss_kib_of "$a") rb=$(rss_kib_of "$b")
	run -0 timeout 300 "$SOCKLOAD" cycles "$ep" -n 10000
	assert_output "cycles n=10000 ok=10000"
	idle
	echo "fds $fa/$fb -> $(fds_of "$a")/$(fds_of "$b"), rss $ra/$rb -> $(rss_kib_of "$a")/$(rss_kib_of "$b") KiB" >&3
	assert_equal "$(fds_of "$a")" "$fa"
	assert_equal "$(fds_of "$b")" "$fb"
	# A connection kept per cycle would be 10,000 of them: megabytes. (Not under ASan,
	# whose quarantine keeps freed memory; LeakSanitizer checks at exit instead.)
	if ! nm "$PROXY" | grep -q __asan_init; then
		[ $(($(rss_kib_of "$a") - ra)) -lt 512 ]
		[ $(($(rss_kib_of "$b") - rb)) -lt 512 ]
	fi
}

@test "half-close: the client's end reaches the server, whose answer still comes back" {
	local ep=$(px_listen a collect proxy-b)
	run -0 timeout 20 socat -t 10 - "TCP:${ep#tcp:}" <<<"twelve bytes"
	assert_output "got 13"
	idle
}

@test "half-close the other way: the server's end reaches the client, who keeps sending" {
	run -0 sockload reverse "$(px_listen a reverse proxy-b)" --bytes 1000000 --send 500000
	assert_output "reverse got=1000000 sent=500000"
	wait_for 10 grep -q '^reverse received=500000$' "$SCRATCH/rev.out"
	idle
}

@test "an unknown service, a refusing target, a role not allowed, no such peer: closed at once" {
	local svc peer
	for svc in nosuch dead closed denied; do
		run -0 sockload probe "$(px_listen a "$svc" proxy-b)"
		# TCP clients see a reset, never a hang (probe says "hang" after 30 s).
		assert_output "probe reset"
	done
	run -0 sockload probe "$(px_listen a echo proxy-missing)"
	assert_output "probe reset"
	wait_for 5 grep -q "asked for service 'nosuch', which is not exported" "$SCRATCH/b.log"
	wait_for 5 grep -q "export denied: role proxy-a (peer [0-9]*) is not allowed; refused" "$SCRATCH/b.log"
	assert_equal "$(px_status b | sed -n 's/^export service=dead .* refused=\([0-9]*\)$/\1/p')" 1
	assert_equal "$(px_status b | sed -n 's/^export service=closed .* refused=\([0-9]*\)$/\1/p')" 1
	run -0 px_status a
	assert_line --regexp '^import service=echo peer=proxy-missing .* accepted=1 refused=1$'
	idle
}

@test "a peer that never answers a link: the loop serves on while the link waits, then gives it up" {
	# Published as a proxy, but accepting channels on another port only.
	timeout 60 "$IVSHM_BUILD/guest-apps/bin/ivshm-chan" --host "$SOCK" -n 0 -r proxy-mute -t 60000 \
		serve -p 1 >"$SCRATCH/mute.out" 2>&1 3>&- 4>&- &
	echo $! >"$SCRATCH/mute.tpid"
	px_start other "$SOCK" --import "techo@proxy-b unix:$SCRATCH/o-techo.sock" \
		--import "svc@proxy-mute tcp:127.0.0.1:0"
	# The open does not block: the control socket answers while it waits, and says so.
	wait_for 10 eval "px_status other | grep -q '^link peer=[0-9]* role=proxy-mute .* state=connecting\$'" || { px_status other; cat "$SCRATCH/other.log" "$SCRATCH/mute.out"; false; }
	run -0 sockload cycles "unix:$SCRATCH/o-techo.sock" -n 20
	assert_output "cycles n=20 ok=20"
	run -0 px_status other
	assert_line --regexp '^link peer=[0-9]+ role=proxy-b .* state=up$'
	wait_for 10 grep -q 'link to peer [0-9]* (proxy-mute) down: the peer did not answer' "$SCRATCH/other.log"
	px_stop other
	kill_wait "$(cat "$SCRATCH/mute.tpid")"
}

@test "a client killed mid-transfer: the target's connection is closed" {
	local before client
	before=$(grep -c '^close ' "$SCRATCH/techo.out" || true)
	timeout 120 "$SOCKLOAD" clients "unix:$SCRATCH/a-techo.sock" -n 1 --bytes 10000000000 \
		>/dev/null 3>&- 4>&- &
	client=$!
	wait_for 10 eval 'px_status b | grep -q "^conn .* service=techo .* rx=[1-9]"'
	kill -KILL "$(pgrep -P "$client")"
	wait_for 10 eval '[ "$(grep -c "^close " "$SCRATCH/techo.out")" -gt "$before" ]'
	idle
}

@test "status: services, links and connections with bytes each way" {
	rm -f "$SCRATCH/go2"
	timeout 60 "$SOCKLOAD" fetch "unix:$SCRATCH/a-src.sock" --seed 7 --bytes 1000000 \
		--stall-file "$SCRATCH/go2" >"$SCRATCH/st.out" 3>&- 4>&- &
	local f=$!
	wait_for 10 eval 'px_status a | grep -q "^conn .* service=src .* rx=[1-9]"'
	run -0 px_status a
	assert_line --regexp '^proxy role=proxy-a peer=[0-9]+ wait=interrupt device=.*/ivshmd.sock links=1 published=yes conns_total=[0-9]+ bad_frames=0$'
	assert_line --regexp '^import service=src peer=proxy-b listen=unix:.*/a-src.sock conns=1 accepted=[0-9]+ refused=0$'
	assert_line --regexp '^link peer=[0-9]+ role=proxy-b conns=1 ring=262144 peer_ring=262144 .* bytes_out=[0-9]+ bytes_in=[0-9]+ bad_frames=0 doorbells=[0-9]+ '
	assert_line --regexp '^conn id=[0-9]+ peer=[0-9]+ service=src side=import kind=stream state=open tx=8 rx=[0-9]+ buffered=[0-9]+ credit=[0-9]+$'
	assert_line end
	run -0 px_status b
	assert_line --regexp '^export service=src target=unix:.*/src.sock allow=\* conns=1 opened=[0-9]+ refused=0$'
	assert_line --regexp '^conn id=[0-9]+ peer=[0-9]+ service=src side=export kind=stream state=open tx=[0-9]+ rx=8 '
	touch "$SCRATCH/go2"
	wait "$f"
	idle
}

@test "check prints the configuration it read, and names the file and line of a mistake" {
	printf 'name vm1\nserver /run/ivshm/ivshmd.sock\nexport web tcp:127.0.0.1:80 allow *\nimport db@proxy-vm2 unix:/run/db.sock\n' \
		>"$SCRATCH/good.conf"
	run -0 "$PROXY" check -c "$SCRATCH/good.conf"
	assert_line "name vm1"
	assert_line "export web tcp:127.0.0.1:80 allow *"
	assert_line "import db@proxy-vm2 unix:/run/db.sock"
	assert_line "control /run/ivshm-proxy/vm1.ctl"
	printf 'name vm1\n\nexport web tcp:localhost:80 allow *\n' >"$SCRATCH/bad.conf"
	run -2 "$PROXY" check -c "$SCRATCH/bad.conf"
	assert_output --partial "bad.conf:3: export web: 'tcp:localhost:80': the host is not a numeric IPv4 or IPv6 address"
	# The same settings on the command line.
	run -0 "$PROXY" check --name vm1 --export "web tcp:127.0.0.1:80 allow proxy-x"
	assert_line "export web tcp:127.0.0.1:80 allow proxy-x"
	run -2 "$PROXY" check --export "web tcp:127.0.0.1:80 allow proxy-x"
	assert_output --partial "no name"
}

# Short: two proxies spinning on a loaded 2-core machine can starve everything else
# past libivshm's 1 s liveness bound (that is why interrupt is the default).
@test "hybrid and poll modes carry the same traffic, both ways and after idle spells" {
	local mode
	for mode in hybrid poll; do
		px_start "x$mode" "$SOCK" --wait "$mode" \
			--export "src unix:$SCRATCH/src.sock allow proxy-y$mode" \
			--export "echo unix:$SCRATCH/echo.sock allow proxy-y$mode"
		px_start "y$mode" "$SOCK" --wait "$mode" \
			--import "src@proxy-x$mode unix:$SCRATCH/$mode-src.sock" \
			--import "echo@proxy-x$mode unix:$SCRATCH/$mode-echo.sock"
		wait_for 10 eval '[ "$(px_field y'"$mode"' proxy links)" = 1 ]'
		run -0 sockload fetch "unix:$SCRATCH/$mode-src.sock" --seed 3 --bytes 20000000
		assert_line "fetch ok bytes=20000000"
		run -0 sockload clients "unix:$SCRATCH/$mode-echo.sock" -n 10 --bytes 200000
		assert_output "clients n=10 ok=10 failed=0 bytes=2000000"
		run -0 sockload rtt "unix:$SCRATCH/$mode-echo.sock" -n 500 --bytes 64
		assert_output --regexp '^rtt n=500 bytes=64 '
		px_stop "y$mode"
		px_stop "x$mode"
	done
}

# cpu_ticks PID: user + system clock ticks the process used so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

@test "idle proxies in interrupt mode burn no CPU" {
	local a b ta tb
	idle
	a=$(px_pid a)
	b=$(px_pid b)
	ta=$(cpu_ticks "$a")
	tb=$(cpu_ticks "$b")
	# The window to measure over: a link is up and nothing moves.
	sleep 2
	[ $(($(cpu_ticks "$a") - ta)) -le 10 ] || fail "proxy-a used $(($(cpu_ticks "$a") - ta)) ticks in 2 s"
	[ $(($(cpu_ticks "$b") - tb)) -le 10 ] || fail "proxy-b used $(($(cpu_ticks "$b") - tb)) ticks in 2 s"
}
