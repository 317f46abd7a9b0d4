#!/usr/bin/env bats
# Unmodified Debian programs through ivshm-proxy, between two real Debian 12 guests
# (host/guest-rootfs with programs.packages: the programs installed with apt beside
# ivshm's .debs; ivshm-proxy.service as packaged, configured by /etc/ivshm/proxy.conf):
#
#   guest A: nginx (TCP, Unix), redis-server (TCP, Unix), iperf3 -s, sockperf server
#            <- ivshm-proxy a: exports iperf, sockperf, redis, redis-unix, web, web-unix
#     || ivshmem-doorbell, one ivshmd on the host            || virtio-net (the baseline)
#   guest B: ivshm-proxy b: imports them on 127.0.0.1 ports and /run/ivshm-proxy/*.sock
#            <- iperf3 -c (1 and 8 streams), sockperf ping-pong, redis-benchmark,
#               redis-cli, curl (TCP and --unix-socket); the same clients to A's address
#
# One boot of the pair (tests/helpers/proxy-programs: boot-pair, server.sh, client.sh);
# the tests read the two transcripts. The measured figures go to the log as "# ..."
# lines; they are figures, not pass marks (make bench keeps them).

load helpers/exchange

PROGRAMS="$IVSHM_TOP/tests/helpers/proxy-programs"
# The file guest A serves: `seq 1 $WEB_LINES`.
WEB_LINES=2000000

setup_file() {
	export SCRATCH="$(scratch_dir)/$$"
	mkdir -p "$SCRATCH"
	make -s -C "$IVSHM_TOP" BUILD="$IVSHM_BUILD" deb >&2
	"$IVSHM_TOP/host/guest-rootfs/build-rootfs" "$IVSHM_BUILD" "$IVSHM_BUILD/deb" \
		"$IVSHM_TOP/host/guest-rootfs/programs.packages" >"$SCRATCH/build-rootfs.log" 2>&1 || {
		tail -n 30 "$SCRATCH/build-rootfs.log" >&2
		return 1
	}
	# 64 MiB: each proxy's arena holds a 256 KiB ring.
	ivshmd_private_start "$SCRATCH/ivshmd.sock" "$SCRATCH/ivshmd.log" -l 64M -n 4
	local rc=0
	WEB_LINES=$WEB_LINES timeout 500 "$PROGRAMS/boot-pair" "$SCRATCH/ivshmd.sock" "$SCRATCH" \
		>"$SCRATCH/pair.out" 2>&1 3>&- 4>&- || rc=$?
	[ "$rc" = 0 ] || echo "boot-pair: status $rc: $(tail -n 5 "$SCRATCH/pair.out")" >&2
	local name
	for name in iperf-proxy-tcp-1 iperf-proxy-tcp-8 iperf-tcp-1 iperf-tcp-8 iperf-loopback-1; do
		transcript b | sed -n "/^json-begin $name\$/,/^json-end $name /p" | sed '1d;$d' \
			>"$SCRATCH/$name.json"
	done
	"$PROGRAMS/results" "$SCRATCH/b.log" >"$SCRATCH/results.csv"
}

teardown_file() {
	scratch_teardown
}

# iperf_ok NAME STREAMS: iperf3 finished without an error, with STREAMS streams, each
# of which received bytes; the sum is what they received.
iperf_ok() {
	local json="$SCRATCH/$1.json"
	run -0 transcript b
	assert_line "json-end $1 status=0"
	run -0 jq -r '.error // "none"' "$json"
	assert_output none
	run -0 jq -r '.end.streams | length' "$json"
	assert_output "$2"
	run -0 jq -r '[.end.streams[].receiver.bytes | select(. > 0)] | length' "$json"
	assert_output "$2"
	run -0 jq -r '.end.sum_received.bytes == ([.end.streams[].receiver.bytes] | add)' "$json"
	assert_output true
}

# mbit NAME: iperf3's received rate in Mbit/s.
mbit() {
	jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | round / 10' "$SCRATCH/$1.json"
}

# row TRANSPORT MODE COLUMN: a cell of the results (results.csv's column numbers).
row() {
	awk -F, -v t="$1" -v m="$2" -v c="$3" '$2 == t && $3 == m { print $c }' "$SCRATCH/results.csv"
}

# ratio A B: A/B to 2 decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

# status_line GUEST PREFIX: the proxy's status line of GUEST starting with PREFIX.
status_line() {
	transcript "$1" | sed -n "s/^proxy-status: \($2.*\)/\1/p"
}

@test "two real guests boot the programs image at once; the packaged proxies start with their new configuration" {
	run -0 cat "$SCRATCH/a.status" "$SCRATCH/b.status"
	assert_output $'0\n0'
	local g
	for g in a b; do
		run -0 transcript "$g"
		assert_line --regexp '^IVSHM-GUEST-READY kernel=[^ ]+-cloud-amd64 uio=1$'
		refute_line --partial 'IVSHM-GUEST-ERROR'
		assert_line 'step=net status=0'
		assert_line 'step=proxy status=0'
		assert_line 'IVSHM-GUEST-EXIT status=0'
	done
	run -0 transcript a
	assert_line 'step=nginx status=0'
	assert_line 'step=redis status=0'
	assert_line 'step=iperf3 status=0'
	assert_line 'step=listening status=0'
	assert_line --regexp '^proxy-journal: ready: proxy-a: peer [0-9]+, 6 exports, 0 imports$'
	run -0 transcript b
	assert_line 'step=linked status=0'
	assert_line 'step=ping-net status=0'
	assert_line --regexp '^proxy-journal: ready: proxy-b: peer [0-9]+, 0 exports, 6 imports$'
}

@test "iperf3 through the proxies (TCP import): 1 stream and 8 parallel streams, every stream received" {
	iperf_ok iperf-proxy-tcp-1 1
	iperf_ok iperf-proxy-tcp-8 8
	# Each run is a control connection and its data connections, all through the import.
	run -0 status_line b 'import service=iperf '
	assert_output 'import service=iperf peer=proxy-a listen=tcp:127.0.0.1:15201 conns=0 accepted=11 refused=0'
	run -0 status_line a 'export service=iperf '
	assert_output --regexp ' conns=0 opened=11 refused=0$'
	# What the server received went through proxy b's link (and more: redis, curl, ...).
	# (Not all iperf3 wrote: at the end it closes connections with data still queued.)
	local received out
	received=$(jq -s '[.[].end.sum_received.bytes] | add' "$SCRATCH/iperf-proxy-tcp-1.json" "$SCRATCH/iperf-proxy-tcp-8.json")
	out=$(status_line b 'link ' | sed -n 's/.* bytes_out=\([0-9]*\) .*/\1/p')
	[ -n "$out" ] && [ "$out" -ge "$received" ] || fail "link bytes_out=$out < iperf3's $received"
	local p1 p8 t1 t8
	p1=$(mbit iperf-proxy-tcp-1) p8=$(mbit iperf-proxy-tcp-8)
	t1=$(mbit iperf-tcp-1) t8=$(mbit iperf-tcp-8)
	echo "# iperf3 proxy-tcp: 1 stream $p1 Mbit/s, 8 streams $p8 Mbit/s;" \
		"virtio-net tcp: $t1 / $t8 Mbit/s; ratio $(ratio "$p1" "$t1") / $(ratio "$p8" "$t8")" >&3
}

@test "iperf3 over virtio-net between the same guests (the baseline): 1 and 8 streams received; and on loopback" {
	iperf_ok iperf-tcp-1 1
	iperf_ok iperf-tcp-8 8
	# The local hop a proxied path takes at each end, inside guest B.
	iperf_ok iperf-loopback-1 1
	echo "# iperf3 loopback TCP inside guest B: $(mbit iperf-loopback-1) Mbit/s" >&3
	# The baseline does not touch the proxies.
	run -0 status_line b 'import service=iperf '
	assert_output --partial ' accepted=11 '
}

@test "sockperf ping-pong through the TCP import, over virtio-net and on loopback: every message answered, in order" {
	local t
	run -0 transcript b
	for t in proxy-tcp tcp loopback; do
		assert_line "step=sockperf-$t status=0"
		assert_line "sockperf-$t: sockperf: # dropped messages = 0; # duplicated messages = 0; # out-of-order messages = 0"
		# In the measured part, every message sent came back.
		assert_line --regexp "^sockperf-$t: sockperf: \[Valid Duration\] RunTime=[0-9.]+ sec; SentMessages=([1-9][0-9]*); ReceivedMessages=\1\$"
		assert_line --regexp "^sockperf-$t: sockperf: ---> percentile 99\.000 = +[0-9.]+\$"
	done
	run -0 status_line b 'import service=sockperf '
	assert_output --partial ' conns=0 accepted=1 refused=0'
	echo "# sockperf 64 B round trip p50/p99 us: proxy-tcp $(row proxy-tcp sockperf 5)/$(row proxy-tcp sockperf 6)," \
		"virtio-net tcp $(row tcp sockperf 5)/$(row tcp sockperf 6), loopback in B $(row loopback sockperf 5)/$(row loopback sockperf 6);" \
		"p50 ratio $(ratio "$(row proxy-tcp sockperf 5)" "$(row tcp sockperf 5)")" >&3
}

@test "redis-benchmark against redis-server through the TCP and the Unix import and over virtio-net" {
	local t
	run -0 transcript b
	for t in proxy-tcp proxy-unix tcp; do
		assert_line "step=redis-$t status=0"
		assert_line --regexp "^redis-$t: .*SET: [0-9.]+ requests per second, p50=[0-9.]+ msec\$"
		assert_line --regexp "^redis-$t: .*GET: [0-9.]+ requests per second, p50=[0-9.]+ msec\$"
		assert_line "step=redis-rtt-$t status=0"
		assert_line --regexp "^redis-rtt-$t: \"PING_MBULK\",\"[0-9.]+\","
	done
	# 50 clients for SET, 50 for GET, ...: every one a connection through the import.
	local n
	for t in redis redis-unix; do
		n=$(status_line b "import service=$t " | sed -n 's/.* conns=0 accepted=\([0-9]*\) refused=0$/\1/p')
		[ -n "$n" ] && [ "$n" -ge 100 ] || fail "import $t: accepted '$n'"
	done
	echo "# redis PING round trip p50 us: proxy-tcp $(row proxy-tcp redis-ping 5), proxy-unix $(row proxy-unix redis-ping 5)," \
		"virtio-net tcp $(row tcp redis-ping 5); ratios $(ratio "$(row proxy-tcp redis-ping 5)" "$(row tcp redis-ping 5)")" \
		"/ $(ratio "$(row proxy-unix redis-ping 5)" "$(row tcp redis-ping 5)")" >&3
}

@test "redis: one server behind every path, what one path writes another reads" {
	local pid
	run -0 transcript b
	pid=$(sed -n 's/^redis-pid \([0-9]*\)$/\1/p' <<<"$output")
	[ -n "$pid" ]
	assert_line 'redis-set-tcp: OK'
	assert_line "redis-get-unix: via-proxy-tcp-$pid"
	assert_line 'redis-set-unix: OK'
	assert_line "redis-get-net: via-proxy-unix-$pid"
}

@test "curl fetches nginx's file through the TCP import, the Unix import (--unix-socket) and over virtio-net, intact" {
	local want size t
	want=$(seq 1 "$WEB_LINES" | sha256sum | cut -d' ' -f1)
	size=$(seq 1 "$WEB_LINES" | wc -c)
	run -0 transcript b
	for t in proxy-tcp proxy-unix tcp; do
		assert_line --regexp "^curl $t status=0 result=$size [0-9.]+ sha256=$want\$"
	done
	run -0 status_line b 'import service=web '
	assert_output --partial ' accepted=1 refused=0'
	run -0 status_line b 'import service=web-unix '
	assert_output 'import service=web-unix peer=proxy-a listen=unix:/run/ivshm-proxy/web.sock conns=0 accepted=1 refused=0'
	run -0 status_line a 'export service=web-unix '
	assert_output --partial ' conns=0 opened=1 refused=0'
	local pt pu tt
	pt=$(row proxy-tcp curl 9) pu=$(row proxy-unix curl 9) tt=$(row tcp curl 9)
	echo "# curl $size bytes MiB/s: proxy-tcp $pt, proxy-unix $pu, virtio-net tcp $tt;" \
		"ratios $(ratio "$pt" "$tt") / $(ratio "$pu" "$tt")" >&3
}

@test "both proxies end clean: no connection left, no bad frame, the two links agree on the bytes (up to data in flight at resets)" {
	local g
	for g in a b; do
		run -0 status_line "$g" 'proxy '
		assert_output --regexp "^proxy role=proxy-$g peer=[0-9]+ wait=interrupt device=first links=1 published=yes conns_total=[1-9][0-9]* bad_frames=0\$"
		run -0 status_line "$g" 'link '
		assert_output --regexp ' conns=0 .* bad_frames=0 .* state=up$'
	done
	local a_in a_out b_in b_out
	a_in=$(status_line a 'link ' | sed -n 's/.* bytes_in=\([0-9]*\) .*/\1/p')
	a_out=$(status_line a 'link ' | sed -n 's/.* bytes_out=\([0-9]*\) .*/\1/p')
	b_in=$(status_line b 'link ' | sed -n 's/.* bytes_in=\([0-9]*\) .*/\1/p')
	b_out=$(status_line b 'link ' | sed -n 's/.* bytes_out=\([0-9]*\) .*/\1/p')
	[ -n "$a_in" ] && [ "$a_in" -gt 0 ] && [ -n "$b_in" ] && [ "$b_in" -gt 0 ]
	# A proxy counts what it delivered; DATA still in the ring for a connection its side
	# has reset is dropped (iperf3's server closes with data queued: the 9 connections of
	# its two runs). Each connection had at most its credit, conn-buffer (128 KiB), in
	# flight; no more than that is missing, and nothing is counted twice.
	local gap=$((9 * 131072))
	[ "$a_in" -le "$b_out" ] && [ $((b_out - a_in)) -le "$gap" ] ||
		fail "b sent $b_out bytes, a received $a_in"
	[ "$b_in" -le "$a_out" ] && [ $((a_out - b_in)) -le "$gap" ] ||
		fail "a sent $a_out bytes, b received $b_in"
	# Both ran the same count of connections.
	assert_equal "$(status_line a 'proxy ' | sed 's/.* conns_total=//')" \
		"$(status_line b 'proxy ' | sed 's/.* conns_total=//')"
}

@test "the bench rows: every measurement of the run has its figure" {
	run -0 cat "$SCRATCH/results.csv"
	assert_equal "${#lines[@]}" 14
	# No empty figure: streams have MiB/s, round trips p50, p99 and max.
	run -0 awk -F, '($1 == "stream" && $9 == "") || ($1 == "rtt" && ($5 == "" || $6 == "" || $8 == ""))' \
		"$SCRATCH/results.csv"
	assert_output ''
}
