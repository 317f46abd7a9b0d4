#!/usr/bin/env bats
# A hostile peer against ivshm-proxy: proxy-hostile (tests/tools) links to proxy-b as a
# host peer "proxy-evil" and breaks the protocol on purpose, while proxy-a, an honest
# peer, keeps using proxy-b. The proxy refuses and logs (rate-limited), counts every
# violation, never crashes, leaks or stalls the honest link. Then the fuzz targets, a
# bounded run each (`make fuzz` runs them longer), and one planted bug they must find.
#
#   proxy-hostile (proxy-evil) ==\
#                                 >== proxy-b --> echo, sink (reads nothing), secret
#   sockload --> proxy-a =======/

load helpers/proxy

setup_file() {
	px_world_start
	sl_serve echo "unix:$SCRATCH/echo.sock" --mode echo >/dev/null
	# A source server reads its 8-byte request and nothing after: a sink for the rest.
	sl_serve sink "unix:$SCRATCH/sink.sock" --mode source >/dev/null
	px_start b "$SOCK" --max-conns 64 --conn-buffer 64K \
		--export "echo unix:$SCRATCH/echo.sock allow proxy-a,proxy-evil" \
		--export "sink unix:$SCRATCH/sink.sock allow proxy-evil" \
		--export "secret unix:$SCRATCH/echo.sock allow proxy-a"
	px_start a "$SOCK" --import "echo@proxy-b unix:$SCRATCH/a-echo.sock"
	wait_for 10 eval '[ "$(px_field a proxy links)" = 1 ]'
	export HOSTILE="$IVSHM_BUILD/tests/tools/proxy-hostile"
	export FUZZ_DIR="$IVSHM_BUILD/fuzz"
}

teardown_file() {
	px_world_stop a b
}

# hostile SCENARIO [SERVICE [SINK]]: one run of the hostile peer against proxy-b.
hostile() {
	timeout 60 "$HOSTILE" -S "$SOCK" -n 1 -r proxy-evil -t proxy-b "$@"
}

# still_serving: proxy-b alive, the honest link intact and carrying.
still_serving() {
	run -0 sockload cycles "unix:$SCRATCH/a-echo.sock" -n 20
	assert_output "cycles n=20 ok=20"
	run -0 px_status b
	assert_line --regexp '^link peer=[0-9]+ role=proxy-a .* bad_frames=0 '
	run -0 px_status a
	assert_line --regexp '^link peer=[0-9]+ role=proxy-b .* bad_frames=0 '
}

# bad_total: every violation proxy-b counted so far.
bad_total() {
	px_field b proxy bad_frames
}

@test "garbage records before any HELLO: nothing dispatched, counted, the proxy serves on" {
	local before=$(bad_total)
	run -0 hostile garbage
	assert_output --regexp '^summary hello=1 accept=0 refuse=0 reset=0 other=0 closed=[01]$'
	[ "$(bad_total)" -gt "$before" ]
	grep -q 'proxy-evil): a frame runs past the end of its record' "$SCRATCH/b.log"
	still_serving
}

@test "a frame before HELLO: the link is closed" {
	run -0 hostile no-hello
	assert_output 'summary hello=1 accept=0 refuse=0 reset=0 other=0 closed=1'
	grep -q 'proxy-evil) down: the peer did not say HELLO first' "$SCRATCH/b.log"
	still_serving
}

@test "lying lengths, a truncated header, a short and a second HELLO: dropped, the link still serves" {
	local before=$(bad_total)
	run -0 hostile lies echo
	assert_line --regexp '^got ACCEPT id=[0-9]+ arg=65536$'
	assert_line --regexp '^summary hello=1 accept=1 refuse=0 reset=0 other=0 closed=0$'
	# Three records that lie, a frame for no connection, a HELLO too short, one more HELLO.
	[ $(($(bad_total) - before)) -eq 6 ]
	grep -q 'proxy-evil): HELLO too short' "$SCRATCH/b.log"
	still_serving
}

@test "frames for connections that do not exist, every type and parity: counted, nothing else" {
	local before=$(bad_total)
	run -0 hostile unknown echo
	assert_line --regexp '^got ACCEPT id=[0-9]+ arg=65536$'
	assert_line --regexp '^summary hello=1 accept=1 refuse=0 reset=0 other=0 closed=0$'
	# 10 types x 5 IDs, less the RESET and CLOSE frames (10), which may cross our own.
	[ $(($(bad_total) - before)) -eq 40 ]
	grep -q 'proxy-evil): a frame for no connection (ACCEPT' "$SCRATCH/b.log"
	still_serving
}

@test "credit beyond what was sent, credit going backwards, DATA beyond credit: each connection reset" {
	run -0 hostile credit echo sink
	assert_equal "$(grep -c '^got ACCEPT ' <<<"$output")" 3
	local id
	for id in $(sed -n 's/^got ACCEPT id=\([0-9]*\) .*/\1/p' <<<"$output"); do
		assert_line "got RESET id=$id arg=0"
	done
	assert_line --regexp '^summary .* closed=0$'
	grep -q 'credit beyond what was sent; reset' "$SCRATCH/b.log"
	grep -q 'credit went backwards; reset' "$SCRATCH/b.log"
	grep -qE 'DATA of [0-9]+ bytes beyond credit \(65536 of 65536 held\); reset' "$SCRATCH/b.log"
	# The sink's buffer never held more than it granted.
	wait_for 10 eval '[ "$(px_status b | grep -c "^conn .* service=sink")" = 0 ]'
	still_serving
}

@test "a flood of OPENs, in range, beyond the limit, duplicated: refused, reset, logged a few times" {
	run -0 hostile flood echo
	# 64 connections (max-conns) accepted, then reset by their duplicate OPEN; the
	# 1000 beyond the limit refused, twice.
	assert_output 'summary hello=1 accept=64 refuse=2000 reset=64 other=0 closed=0'
	# 2000 refusals and 64 duplicates, but the log says so only a few times.
	[ "$(grep -c 'proxy-evil): an OPEN beyond our connection limit' "$SCRATCH/b.log")" -le 10 ]
	wait_for 10 eval '[ "$(px_status b | grep -c "^conn .* side=export .* service=echo")" = 0 ]'
	still_serving
}

@test "a peer names addresses and paths instead of services: refused, never connected to" {
	local before
	before=$(grep -c '^close ' "$SCRATCH/echo.out" || true)
	run -0 hostile names
	assert_equal "$(grep -c '^got REFUSE id=[0-9]* arg=6$' <<<"$output")" 7
	assert_line 'summary hello=1 accept=0 refuse=7 reset=0 other=0 closed=0'
	assert_equal "$(grep -c '^close ' "$SCRATCH/echo.out" || true)" "$before"
	still_serving
}

@test "a role that is not allowed: refused and logged" {
	run -0 hostile unknown secret
	assert_line --regexp '^got REFUSE id=[0-9]+ arg=2$'
	grep -q 'export secret: role proxy-evil (peer [0-9]*) is not allowed; refused' "$SCRATCH/b.log"
	still_serving
}

@test "the honest link keeps its pace while a hostile one floods and lies" {
	timeout 120 "$SOCKLOAD" clients "unix:$SCRATCH/a-echo.sock" -n 20 --bytes 5000000 \
		>"$SCRATCH/honest.out" 3>&- 4>&- &
	local honest=$!
	run -0 hostile flood echo
	run -0 hostile credit echo sink
	run -0 hostile garbage
	wait "$honest"
	run -0 cat "$SCRATCH/honest.out"
	assert_output "clients n=20 ok=20 failed=0 bytes=100000000"
	alive "$(px_pid b)"
	still_serving
}

@test "fuzz: the frame parser and credit rules, then a hostile peer against the real dispatcher" {
	make -s -C "$IVSHM_TOP/proxy" fuzz-build >&2
	local t
	for t in frames link; do
		mkdir -p "$SCRATCH/corpus-$t"
		run timeout 120 "$FUZZ_DIR/fuzz-proxy-$t" -max_total_time=10 -timeout=5 \
			-dict="$IVSHM_TOP/proxy/fuzz/link.dict" -artifact_prefix="$SCRATCH/" \
			-print_final_stats=1 "$SCRATCH/corpus-$t"
		assert_success
		assert_output --regexp 'stat::number_of_executed_units: [0-9]{4,}'
		refute_output --partial 'ERROR: AddressSanitizer'
		refute_output --partial 'runtime error'
	done
	run bash -c "ls '$SCRATCH' | grep -E '^(crash|leak|timeout|oom)-' || true"
	assert_output ''
}

@test "fuzz: the target catches a parser that trusts a frame's length (planted bug)" {
	local dir="$SCRATCH/planted"
	mkdir -p "$dir"
	cp "$IVSHM_TOP"/proxy/src/frame.[ch] "$dir/"
	python3 - "$dir/frame.c" <<-'PY'
		import sys
		p = sys.argv[1]
		s = open(p).read()
		check = "if (f->h.len > len - at - FRAME_HDR)\n\t\treturn -EPROTO;"
		assert check in s
		open(p, "w").write(s.replace(check, "", 1))
	PY
	run -0 clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -I"$dir" -I"$IVSHM_TOP/proxy/src" -I"$IVSHM_TOP/contracts" \
		-I"$IVSHM_TOP/common" -o "$dir/fuzz" "$IVSHM_TOP/proxy/fuzz/fuzz-frames.c" "$dir/frame.c"
	run timeout 150 "$dir/fuzz" -max_total_time=120 -timeout=5 -artifact_prefix="$dir/"
	assert_failure
	assert_output --regexp 'AddressSanitizer|deadly signal|runtime error'
}
