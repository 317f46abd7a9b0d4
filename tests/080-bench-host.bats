#!/usr/bin/env bats
# A quick smoke of the benchmark tools, between two host peers (no guest): every
# ivshm-bench test runs and says ok, its figures are ordered the way percentiles
# must be, and tests/bench/report turns the lines into a CSV of exactly the promised
# columns and a PNG, for the guests' run and for the native one; tests/bench/native
# writes native.csv. Timings are never asserted: `make bench` measures, this checks
# that it can. Bad options and a hostile control message are refused, and a client
# with no server gives up within its timeout.
#
#   ivshmd (16 MiB: 64 slots of 256 KiB, 4 vectors)
#     |-- ivshm-bench --host serve   (bench-server, TCP on loopback, an AF_UNIX socket)
#     `-- ivshm-bench --host run     (bench-client)

load helpers/common

setup_file() {
	export SCRATCH="$(scratch_dir)/$$"
	mkdir -p "$SCRATCH"
	export SOCK="$SCRATCH/ivshmd.sock"
	ivshmd_private_start "$SOCK" "$SCRATCH/ivshmd.log" -l 16M -n 4
	export BENCH="$IVSHM_BUILD/guest-apps/bin/ivshm-bench"
	export CHAN="$IVSHM_BUILD/guest-apps/bin/ivshm-chan"
	export USOCK="$SCRATCH/bench-unix.sock"
	# Small counts: seconds for the whole file. The arenas hold 64 KiB rings.
	export SMALL="--rounds 200 --line-rounds 2000 --wake-rounds 20 --stream-ms 100
		--sizes 64,4096,65536 --rtt-sizes 64,4096 --ring 65536 --max-ms 5000 -t 5000"
}

teardown_file() {
	scratch_teardown
}

setup() {
	SERVER=
}

teardown() {
	[ -z "$SERVER" ] || kill -KILL -- "-$SERVER" 2>/dev/null || true
}

# server ARGS...: ivshm-bench serve in the background, in a process group of its own,
# output in $SCRATCH/server.out and exit status in $SCRATCH/server.status; returns once
# it is published, with the TCP port it took (--tcp-listen 127.0.0.1:0) in PORT.
server() {
	rm -f "$SCRATCH/server.status"
	setsid bash -c '"$@" >"$0.out" 2>&1; echo $? >"$0.status"' "$SCRATCH/server" \
		timeout --foreground 120 "$BENCH" --host "$SOCK" serve "$@" 3>&- 4>&- &
	SERVER=$!
	wait_for 10 eval "timeout 5 '$CHAN' --host '$SOCK' peers | grep -q 'role=bench-server state=live'"
	PORT=$(sed -n 's/^bench serving tcp=\([0-9]*\).*/\1/p' "$SCRATCH/server.out")
}

# server_status: the background server's exit status, once it exited.
server_status() {
	wait_for 30 test -s "$SCRATCH/server.status"
	cat "$SCRATCH/server.status"
}

# csv_shape FILE: "N rows", and a line for each row of FILE that is not shaped like
# ivshm-bench's CSV: numbers where measured, empty elsewhere, known names.
csv_shape() {
	awk -F, 'NR > 1 {
		n++
		if (NF != 9) print "fields: " $0
		else if ($1 == "rtt" && !($5 ~ /^[0-9]+\.[0-9]+$/ && $8 ~ /^[0-9]+\.[0-9]+$/ && $9 == ""))
			print "rtt: " $0
		else if ($1 == "stream" && !($9 ~ /^[0-9]+\.[0-9]$/ && $5 $6 $7 $8 == ""))
			print "stream: " $0
		else if ($1 != "rtt" && $1 != "stream") print "test: " $0
		if ($2 !~ /^(ivshm|tcp|unix|cacheline|memcpy)$/ || $3 !~ /^(interrupt|poll|hybrid|batch|-)$/ ||
		    (($2 == "ivshm") != ($3 != "-")) || ($3 == "batch" && $1 != "stream"))
			print "names: " $0
	} END { print n " rows" }' "$1"
}

@test "every test between two host peers says ok; the report writes the CSV and the plot" {
	server --tcp-listen 127.0.0.1:0 --unix-listen "$USOCK"
	[ -n "$PORT" ]
	# shellcheck disable=SC2086 # SMALL is a word list
	run -0 timeout 120 "$BENCH" --host "$SOCK" run --tcp-connect "127.0.0.1:$PORT" \
		--unix-connect "$USOCK" $SMALL
	printf '%s\n' "$output" >"$SCRATCH/results.txt"
	assert_equal "$(server_status)" 0
	run -0 cat "$SCRATCH/server.out"
	# All but the three memcpy tests, which the client runs alone.
	assert_line --regexp '^bench served=30 failed=0 result=ok$'
	# The server removed its socket.
	assert_not_exists "$USOCK"

	# The cache line once, 3 channel modes, TCP and AF_UNIX at 2 sizes, 6 streams (memcpy,
	# 3 channel modes, TCP, AF_UNIX) at 3 sizes, batches at the 2 that fit a packet of the
	# 64 KiB ring, 2 wakes.
	run -0 grep -c ' result=ok$' "$SCRATCH/results.txt"
	assert_output 33
	run -0 grep -c '^bench ' "$SCRATCH/results.txt"
	assert_output 33
	local mode
	for mode in interrupt poll hybrid; do
		run -0 grep -E "^bench test=rtt transport=ivshm mode=$mode msg_bytes=4096 count=[0-9]+ " \
			"$SCRATCH/results.txt"
		run -0 grep -E "^bench test=stream transport=ivshm mode=$mode msg_bytes=65536 .* mib_per_s=[0-9.]+ ring_bytes=65536 " \
			"$SCRATCH/results.txt"
	done
	# Batches of 32 (the default), waiting in the default mode, with their own ring; the
	# sockets between the same two processes.
	run -0 grep -E "^bench test=stream transport=ivshm mode=batch msg_bytes=64 count=[0-9]+ .* mib_per_s=[0-9.]+ ring_bytes=65536 batch=32 wait=hybrid " \
		"$SCRATCH/results.txt"
	run -0 grep -E "^bench test=rtt transport=unix mode=- msg_bytes=4096 count=[0-9]+ " \
		"$SCRATCH/results.txt"
	run -0 grep -E "^bench test=stream transport=unix mode=- msg_bytes=65536 count=[0-9]+ " \
		"$SCRATCH/results.txt"
	# Percentiles of the same samples cannot run backwards; streams moved bytes.
	run -0 awk '
		/^bench test=(rtt|wake)/ {
			for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			if (!(f["p50_us"] > 0 && f["p50_us"] <= f["p99_us"] && f["p99_us"] <= f["p999_us"] &&
			      f["p999_us"] <= f["max_us"] && f["count"] > 0)) print "bad order: " $0
		}
		/^bench test=stream/ {
			for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			if (!(f["mib_per_s"] > 0 && f["count"] > 0 && f["p50_us"] == "")) print "bad stream: " $0
		}' "$SCRATCH/results.txt"
	assert_output ''

	run -0 "$IVSHM_TOP/tests/bench/report" "$SCRATCH/results.txt" "$SCRATCH/out"
	assert_line --regexp '^  polling round trip <= 1/100 of TCP \(p50\) +TCP/poll = [0-9.]+x \(>= 100x\) +(met|NOT met)$'
	assert_line --regexp '^  64 KiB stream >= 1/2 of memcpy +channel\((interrupt|poll|hybrid)\)/memcpy = [0-9.]+x \(>= 0.5x\) +(met|NOT met)$'
	assert_line --regexp '^  64 B batched >= 4x the unbatched stream +batch/(interrupt|poll|hybrid) = [0-9.]+x \(>= 4x\) +(met|NOT met)$'
	assert_line --regexp '^batch / best unbatched( +[0-9.]+x){2} +-$'
	refute_output --partial 'not measured'
	run -0 head -n1 "$SCRATCH/out/results.csv"
	assert_output 'test,transport,mode,msg_bytes,p50_us,p99_us,p999_us,max_us,mib_per_s'
	# 31 rows: everything but the two wake lines.
	run -0 csv_shape "$SCRATCH/out/results.csv"
	assert_output '31 rows'
	run -0 od -An -c -N4 "$SCRATCH/out/bench.png"
	assert_output --regexp 'P +N +G'

	# The same lines as two host processes': the goals of issue 13 against AF_UNIX.
	run -0 "$IVSHM_TOP/tests/bench/report" --native "$SCRATCH/results.txt" "$SCRATCH/out"
	assert_line --regexp '^  polled round trip <= 2.5x the cache line +poll/floor = [0-9.]+x \(<= 2.5x\) +(met|NOT met)$'
	assert_line --regexp '^  AF_UNIX round trip >= 10x the polled one +AF_UNIX/poll = [0-9.]+x \(>= 10x\) +(met|NOT met)$'
	assert_line --regexp '^  64 KiB stream >= 3x AF_UNIX +channel\((interrupt|poll|hybrid)\)/AF_UNIX = [0-9.]+x \(>= 3x\) +(met|NOT met)$'
	assert_line --regexp '^  64 B batched >= 4x the unbatched stream +batch/(interrupt|poll|hybrid) = [0-9.]+x \(>= 4x\) +(met|NOT met)$'
	refute_output --partial 'not measured'
	cmp "$SCRATCH/out/results.csv" "$SCRATCH/out/native.csv"
	run -0 od -An -c -N4 "$SCRATCH/out/native.png"
	assert_output --regexp 'P +N +G'
}

@test "tests/bench/native runs every test between two host processes of its own and writes native.csv" {
	OUTDIR="$SCRATCH/native" ROUNDS=200 LINE_ROUNDS=2000 WAKE_ROUNDS=20 STREAM_MS=100 \
		RTT_SIZES=64 SIZES=64,4096 run -0 timeout 180 "$IVSHM_TOP/tests/bench/native"
	assert_line --regexp '^two host processes, [0-9]+ CPUs, kernel .*, load average [0-9. ]+$'
	assert_line --regexp '^  AF_UNIX round trip >= 10x the polled one +AF_UNIX/poll = [0-9.]+x \(>= 10x\) +(met|NOT met)$'
	assert_line --regexp '^  64 B batched >= 4x the unbatched stream +batch/(interrupt|poll|hybrid) = [0-9.]+x \(>= 4x\) +(met|NOT met)$'
	# 64 KiB streams are not in this short run.
	assert_line --regexp '^  64 KiB stream >= 3x AF_UNIX .* not measured$'
	run -0 head -n1 "$SCRATCH/native/native.csv"
	assert_output 'test,transport,mode,msg_bytes,p50_us,p99_us,p999_us,max_us,mib_per_s'
	# Round trips: the cache line, 3 channel modes, TCP, AF_UNIX; streams: memcpy, 3 modes,
	# batches, TCP, AF_UNIX at 2 sizes.
	run -0 csv_shape "$SCRATCH/native/native.csv"
	assert_output '20 rows'
	run -0 grep -c '^stream,ivshm,batch,' "$SCRATCH/native/native.csv"
	assert_output 2
	run -0 grep -c '^rtt,unix,-,64,' "$SCRATCH/native/native.csv"
	assert_output 1
	run -0 od -An -c -N4 "$SCRATCH/native/native.png"
	assert_output --regexp 'P +N +G'
	# Nothing of the run is left behind but its results.
	run -0 find "$IVSHM_BUILD" -maxdepth 1 -name 'bench-native.*'
	assert_output ''
}

@test "ivshm-bench refuses bad options with status 2" {
	run -2 "$BENCH" --host "$SOCK" run --rtt-sizes 4
	assert_output --partial 'below 8'
	run -2 "$BENCH" --host "$SOCK" run --ring 5000
	assert_output --partial 'a power of two'
	run -2 "$BENCH" --host "$SOCK" run --tests rtt-poll,rtt-bogus
	assert_output --partial 'no test named rtt-bogus'
	run -2 "$BENCH" --host "$SOCK" run --tests rtt-tcp
	assert_output --partial 'rtt-tcp needs --tcp-connect'
	run -2 "$BENCH" --host "$SOCK" run --tests stream-unix
	assert_output --partial 'stream-unix needs --unix-connect'
	run -2 "$BENCH" --host "$SOCK" run --batch 0
	run -2 "$BENCH" --host "$SOCK" run --batch 1025
	run -2 "$BENCH" --host "$SOCK" run --batch-wait sometimes
	assert_output --partial '--batch-wait: interrupt, poll or hybrid'
	run -2 "$BENCH" --host "$SOCK" serve --unix-connect "$USOCK"
	run -2 "$BENCH" --host "$SOCK" run --unix-listen "$USOCK"
	run -2 "$BENCH" --host "$SOCK" serve --tcp-connect 127.0.0.1:1
	run -2 "$BENCH" --host "$SOCK" run --rounds 9
	run -2 "$BENCH" --host "$SOCK" fly
}

@test "the server refuses a TCP address it cannot parse and an AF_UNIX path that exists" {
	run -1 timeout 30 "$BENCH" --host "$SOCK" serve --tcp-listen 127.0.0.256:0 -t 1000
	assert_output --partial '--tcp-listen: 127.0.0.256:0 is not [IPv4:]PORT'
	# Someone else's file: never removed, never listened on.
	rm -f "$USOCK"
	echo precious >"$USOCK"
	run -1 timeout 30 "$BENCH" --host "$SOCK" serve --unix-listen "$USOCK" -t 1000
	assert_output --partial "listen on $USOCK: Address already in use"
	run -0 cat "$USOCK"
	assert_output precious
	rm -f "$USOCK"
}

@test "a client without a server gives up within its timeout" {
	local start=$SECONDS
	run -1 timeout 60 "$BENCH" --host "$SOCK" run --tests rtt-poll -t 1000
	assert_output --partial 'no control channel to bench-server'
	[ $((SECONDS - start)) -lt 20 ]
}

@test "a control message that is not ivshm-bench's ends the server with an error, not a hang" {
	server
	# The size of a control message, but no magic: only the content is wrong.
	run -0 timeout 60 "$CHAN" --host "$SOCK" -r intruder send -P bench-server -p 1 --count 1 \
		--size 72 -t 3000
	assert_equal "$(server_status)" 1
	run -0 cat "$SCRATCH/server.out"
	assert_line --partial 'control channel: a malformed or unexpected message'
	assert_line --regexp '^bench served=0 failed=0 result=EBADMSG$'
}

@test "the report refuses input without result lines" {
	printf 'IVSHM-GUEST-READY\nnothing here\n' >"$SCRATCH/empty.txt"
	run -1 "$IVSHM_TOP/tests/bench/report" "$SCRATCH/empty.txt" "$SCRATCH/empty"
	assert_output --partial 'no result lines'
	refute [ -e "$SCRATCH/empty/results.csv" ]
}
