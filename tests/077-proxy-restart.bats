#!/usr/bin/env bats
# ivshm-proxy across the deaths and restarts around it: the far proxy killed (every
# connection through it reset within libivshm's liveness bound, new ones refused at
# once, and served again once it is back), the near one stopped and started again,
# and ivshmd killed and restarted by its supervisor while connections flow (they
# finish intact: the memory and the doorbells outlive the server).
#
#   sockload --> proxy-a == ivshmd == proxy-b --> sockload source (a stream on request)
#
# And a proxy that lost its directory slot (stopped past the liveness bound while
# another peer needed the slot) publishes again, and serves, once there is room.

load helpers/proxy

setup_file() {
	px_world_start
	sl_serve src "unix:$SCRATCH/src.sock" --mode source >/dev/null
	sl_serve echo "unix:$SCRATCH/echo.sock" --mode echo >/dev/null
}

teardown_file() {
	[ ! -s "$SCRATCH/sup.pid" ] || kill_wait "$(cat "$SCRATCH/sup.pid")" || true
	[ ! -s "$SCRATCH/small.pid" ] || kill_wait "$(cat "$SCRATCH/small.pid")" || true
	px_world_stop
}

teardown() {
	px_stop a || true
	px_stop b || true
}

# start_b / start_a SOCKET: the exporting and the importing proxy.
start_b() {
	px_start b "$1" --export "src unix:$SCRATCH/src.sock allow proxy-a" \
		--export "echo unix:$SCRATCH/echo.sock allow proxy-a"
}

start_a() {
	px_start a "$1" --import "src@proxy-b unix:$SCRATCH/a-src.sock" \
		--import "echo@proxy-b unix:$SCRATCH/a-echo.sock"
}

linked() {
	wait_for 10 eval '[ "$(px_field a proxy links)" = 1 ]'
}

# streaming N: N fetches through proxy-a that would take minutes, reading all the while.
streaming() {
	local i
	for i in $(seq "$1"); do
		timeout 120 "$SOCKLOAD" fetch "unix:$SCRATCH/a-src.sock" --seed "$i" --bytes 100000000000 \
			>"$SCRATCH/stream$i.out" 3>&- 4>&- &
	done
	wait_for 10 eval '[ "$(px_status b | grep -c "^conn .* service=src .* tx=[1-9]")" = '"$1"' ]'
}

# stalled N: N fetches through proxy-a that read one byte and wait for $SCRATCH/go.
stalled() {
	local i
	rm -f "$SCRATCH/go"
	for i in $(seq "$1"); do
		timeout 60 "$SOCKLOAD" fetch "unix:$SCRATCH/a-src.sock" --seed "$i" --bytes 100000000 \
			--stall-file "$SCRATCH/go" >"$SCRATCH/stalled$i.out" 3>&- 4>&- &
	done
	wait_for 10 eval '[ "$(px_status b | grep -c "^conn .* service=src")" = '"$1"' ]'
}

@test "the far proxy killed: every connection through it reset, new ones refused at once, served once it is back" {
	start_b "$SOCK"
	start_a "$SOCK"
	linked
	streaming 3
	local t0=$SECONDS
	px_stop b KILL
	# libivshm's liveness bound is a second; the deadline only guards against a hang.
	wait_for 5 eval '[ "$(cat "$SCRATCH"/stream*.out | grep -c "^fetch failed")" = 3 ]'
	echo "reset after $((SECONDS - t0)) s" >&3
	wait_for 5 eval '[ "$(px_conns a)" = 0 ] && [ "$(px_field a proxy links)" = 0 ]'
	grep -q 'link to peer [0-9]* (proxy-b) down: .*; resetting 3 connections' "$SCRATCH/a.log"
	run -0 sockload probe "unix:$SCRATCH/a-echo.sock"
	assert_output "probe eof"
	start_b "$SOCK"
	linked
	run -0 sockload fetch "unix:$SCRATCH/a-src.sock" --seed 5 --bytes 10000000
	assert_line "fetch ok bytes=10000000"
}

@test "the near proxy stopped: the far one closes its targets' connections; restarted, it links again" {
	start_b "$SOCK"
	start_a "$SOCK"
	linked
	stalled 2
	local before
	before=$(grep -c '^close ' "$SCRATCH/src.out" || true)
	px_stop a
	wait_for 5 eval '[ "$(px_conns b)" = 0 ]'
	wait_for 5 eval '[ "$(grep -c "^close " "$SCRATCH/src.out")" -ge $((before + 2)) ]'
	touch "$SCRATCH/go"
	start_a "$SOCK"
	linked
	run -0 sockload cycles "unix:$SCRATCH/a-echo.sock" -n 100
	assert_output "cycles n=100 ok=100"
}

@test "ivshmd killed and restarted by its supervisor while connections flow: they finish intact" {
	local sock="$SCRATCH/sup.sock" old new links
	timeout 30 "$IVSHM_BIN/ivshmd" -v -S "$sock" -p "$SCRATCH/sup.pid" -l 64M -n 1 \
		>"$SCRATCH/sup.log" 2>&1 3>&- 4>&-
	wait_for 10 test -s "$SCRATCH/sup.pid"
	start_b "$sock"
	start_a "$sock"
	linked
	links=$(px_status a | grep '^link ' | cut -d' ' -f2)
	timeout 120 "$SOCKLOAD" clients "unix:$SCRATCH/a-echo.sock" -n 20 --bytes 50000000 \
		>"$SCRATCH/flow.out" 3>&- 4>&- &
	local flow=$!
	wait_for 10 eval 'px_status b | grep -q "^conn .* service=echo .* rx=[1-9]"'
	old=$(pgrep -P "$(cat "$SCRATCH/sup.pid")")
	kill -KILL "$old"
	wait_for 10 eval 'new=$(pgrep -P "$(cat "$SCRATCH/sup.pid")"); [ -n "$new" ] && [ "$new" != '"$old"' ]'
	local rc=0
	wait "$flow" || rc=$?
	run -0 cat "$SCRATCH/flow.out"
	assert_output "clients n=20 ok=20 failed=0 bytes=1000000000"
	assert_equal "$rc" 0
	# The same link carried on, and new connections are served.
	assert_equal "$(px_status a | grep '^link ' | cut -d' ' -f2)" "$links"
	run -0 sockload cycles "unix:$SCRATCH/a-echo.sock" -n 100
	assert_output "cycles n=100 ok=100"
}

# filler NAME SOCKET: a host peer that publishes as NAME and waits (ivshm-chan serve).
filler() {
	timeout 120 "$IVSHM_BUILD/guest-apps/bin/ivshm-chan" --host "$2" -n 1 -r "$1" serve -p 99 \
		-t 100000 >"$SCRATCH/$1.out" 2>&1 3>&- 4>&- &
	echo $! >"$SCRATCH/$1.tpid"
}

# published ROLE SOCKET: ROLE is live in the directory.
published() {
	timeout 5 "$IVSHM_BUILD/guest-apps/bin/ivshm-chan" --host "$2" -n 1 peers |
		grep -q "role=$1 state=live"
}

@test "a proxy that lost its directory slot publishes again once there is room, and serves" {
	# 1 MiB: four slots, for proxy-a, proxy-b and two others.
	local sock="$SCRATCH/small.sock" pid
	ivshmd_private_start "$sock" "$SCRATCH/small.log" -l 1M -n 1
	echo "$IVSHMD_PID" >"$SCRATCH/small.pid"
	start_b "$sock"
	start_a "$sock"
	linked
	filler f1 "$sock"
	filler f2 "$sock"
	wait_for 10 published f2 "$sock"
	# proxy-b stops past the liveness bound; a newcomer needs a slot and takes its.
	pid=$(px_pid b)
	kill -STOP "$pid"
	filler f3 "$sock"
	wait_for 10 published f3 "$sock"
	kill -CONT "$pid"
	wait_for 10 grep -q 'this peer lost its directory slot; publishing again' "$SCRATCH/b.log"
	run -0 sockload probe "unix:$SCRATCH/a-echo.sock"
	assert_output "probe eof"
	# Room again: proxy-b is back, proxy-a links to it, connections are served.
	kill_wait "$(cat "$SCRATCH/f3.tpid")"
	wait_for 10 published proxy-b "$sock"
	linked
	run -0 sockload cycles "unix:$SCRATCH/a-echo.sock" -n 100
	assert_output "cycles n=100 ok=100"
	kill_wait "$(cat "$SCRATCH/f1.tpid")"
	kill_wait "$(cat "$SCRATCH/f2.tpid")"
	kill_wait "$(cat "$SCRATCH/small.pid")"
}
