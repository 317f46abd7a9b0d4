#!/usr/bin/env bats
# Channels between real guests (QEMU ivshmem-doorbell, ivshmd, uio_ivshmem):
#
#   boot 1: three guests on one ivshmd (4 MiB, 4 vectors)
#     g1, g2, g3   ivshm-chan mesh: each pair its own channel, every message checked
#     g1 <-> g2    ivshm-echo (the example program), then a slow reader behind a
#                  4 KiB ring (wrap-around, back-pressure), then 20000 messages under
#                  load (doorbells counted)
#   boot 2: two guests, each with two devices: uio0 on the same ivshmd as boot 1,
#   uio1 on a second one
#     h1 <-> h2    uio0: an echo stream while a host peer sprays random bytes over the
#                  memory (which stays broken: the directory header too);
#                  uio1: an echo stream during which h2's QEMU is killed
#
# Every step prints "step=NAME status=N"; the tests read the transcripts.

load helpers/exchange

# boot1: the three guests of boot 1, to the end; then $SCRATCH/boot1.done.
boot1() {
	local g1 g2 g3
	g1=$(cat <<-'EOF'
		s() { echo "step=$1 status=$2"; }
		ivshm-chan -r g1 mesh -P g1,g2,g3 -p 4 --count 200; s mesh $?
		ivshm-echo server & e=$!
		# g2 publishes as g2 again once its echo client is done.
		g2_live() { ivshm-info peers | grep -q 'role=g2 state=live'; }
		poll_until 30 g2_live
		kill $e; wait $e
		ivshm-chan -r g1 serve -p 2 --size 1000 --ring 4096 --delay-ms 2 --count 300; s slow $?
		ivshm-chan -r g1 serve -p 3 --count 20000; s load $?
	EOF
	)
	g2=$(cat <<-'EOF'
		s() { echo "step=$1 status=$2"; }
		ivshm-chan -r g2 mesh -P g1,g2,g3 -p 4 --count 200; s mesh $?
		printf 'hello\nfrom g2\n' | ivshm-echo client; s echo $?
		ivshm-chan -r g2 send -P g1 -p 2 --size 1000 --ring 4096 --count 300; s fast $?
		ivshm-chan -r g2 send -P g1 -p 3 --count 20000; s load $?
	EOF
	)
	g3=$(cat <<-'EOF'
		ivshm-chan -r g3 mesh -P g1,g2,g3 -p 4 --count 200; echo "step=mesh status=$?"
	EOF
	)
	guest_start g1 "$g1" --socket "$IVSHMD_SOCK" --vectors 4
	guest_start g2 "$g2" --socket "$IVSHMD_SOCK" --vectors 4
	guest_start g3 "$g3" --socket "$IVSHMD_SOCK" --vectors 4
	guest_wait g1 g2 g3 || true
	touch "$SCRATCH/boot1.done"
}

# boot2: the hostile peer on the first ivshmd, the killed guest on a second one;
# each guest has a device on both. What went wrong goes to $SCRATCH/boot2.errors;
# $SCRATCH/boot2.done at the end.
boot2() {
	local sock2="$SCRATCH/second.sock" h1 h2 pick
	"$IVSHM_BIN/ivshmd" -F -S "$sock2" -l 4M -n 4 >"$SCRATCH/second.log" 2>&1 3>&- 4>&- &
	echo $! >"$SCRATCH/second.pid"
	wait_for 10 test -S "$sock2.ctl" || echo "the second ivshmd did not start" >>"$SCRATCH/boot2.errors"
	# uioN follow the order the devices probe in, which varies: name them by PCI
	# address, which follows their order on QEMU's command line.
	pick='dev() { ls /sys/bus/pci/drivers/uio_ivshmem | grep "^0000:" | sort | sed -n "${1}p"; }'
	h1=$(cat <<-EOF
		$pick
		s() { echo "step=\$1 status=\$2"; }
		ivshm-chan -d \$(dev 1) -r h1 serve -p 5 --echo -t 3000; s sprayed \$?
		ivshm-chan -d \$(dev 2) -r h1 serve -p 6 --echo; s killed \$?
	EOF
	)
	h2=$(cat <<-EOF
		$pick
		s() { echo "step=\$1 status=\$2"; }
		ivshm-chan -d \$(dev 1) -r h2 send -P h1 -p 5 --echo --count 100000000 -t 3000; s sprayed \$?
		echo "spray over"
		ivshm-chan -d \$(dev 2) -r h2 send -P h1 -p 6 --echo --count 100000000
	EOF
	)
	guest_start h1 "$h1" --socket "$IVSHMD_SOCK" --socket "$sock2" --vectors 4
	guest_start h2 "$h2" --socket "$IVSHMD_SOCK" --socket "$sock2" --vectors 4
	if wait_for 120 eval "transcript h1 2>/dev/null | grep -q '^chan serving port=5'"; then
		timeout 60 "$IVSHM_BUILD/tests/tools/spray" "$IVSHMD_SOCK" 4 spray 5 \
			>"$SCRATCH/spray.out" 2>&1 3>&- 4>&-
		echo "spray status=$?" >>"$SCRATCH/spray.out"
	else
		echo "h1 never served port 5: nothing sprayed" >>"$SCRATCH/boot2.errors"
	fi
	if wait_for 60 eval "transcript h2 2>/dev/null | grep -q '^spray over'" &&
		wait_for 60 eval "transcript h1 2>/dev/null | grep -q '^chan serving port=6'"; then
		# The channel is up and the echo stream runs: kill h2's QEMU; h1 must notice.
		pkill -KILL -f -- "^qemu-system-x86_64 -name h2-$$ "
		date +%s >"$SCRATCH/killed-at"
	else
		echo "the second stream never started: nothing killed" >>"$SCRATCH/boot2.errors"
	fi
	guest_wait h1 h2 || true
	date +%s >"$SCRATCH/h1-done-at"
	touch "$SCRATCH/boot2.done"
}

# Both boots run in the background, one after the other (boot 2 corrupts the
# memory of the ivshmd boot 1 uses); each test waits for the boot it reads, so a
# boot that goes wrong fails its own tests only.
setup_file() {
	exchange_setup_file 4
	(
		set +e
		boot1
		boot2
	) 3>&- 4>&- &
	echo $! >"$SCRATCH/boots.pid"
}

teardown_file() {
	[ ! -s "$SCRATCH/boots.pid" ] || kill_wait "$(cat "$SCRATCH/boots.pid")"
	pkill -KILL -f -- "^qemu-system-x86_64 -name [gh][123]-$$ " 2>/dev/null || true
	[ ! -s "$SCRATCH/second.pid" ] || kill_wait "$(cat "$SCRATCH/second.pid")"
	scratch_teardown
}

# boot_done N: wait until boot N has ended (each step of it has a deadline).
boot_done() {
	wait_for 900 test -e "$SCRATCH/boot$1.done"
}

# boot2_made FILE: FILE of a step of boot 2 exists, or the test fails with what went
# wrong in boot 2.
boot2_made() {
	[ -s "$SCRATCH/$1" ] || fail "boot 2: no $1: $(cat "$SCRATCH/boot2.errors" 2>/dev/null)"
}

@test "three guests, each pair with its own channel, every message checked" {
	boot_done 1
	local g
	for g in g1 g2 g3; do
		run -0 transcript "$g"
		assert_line 'step=mesh status=0'
		assert_equal "$(grep -c '^chan cmd=mesh .*messages=200 .* result=ok$' <<<"$output")" 2
	done
}

@test "the example program: a line out, its echo back, across two guests" {
	boot_done 1
	run -0 transcript g2
	assert_line 'echo: hello'
	assert_line 'echo: from g2'
	assert_line 'step=echo status=0'
	run -0 transcript g1
	assert_line 'echo server ready'
}

@test "a slow reader behind a 4 KiB ring: the writer waits, nothing is lost, the order holds" {
	boot_done 1
	run -0 transcript g1
	assert_line 'step=slow status=0'
	assert_line --regexp '^chan cmd=serve .*messages=300 bytes=300000 .* result=ok$'
	run -0 transcript g2
	assert_line 'step=fast status=0'
	# 300 kB through 4 KiB: the ring wrapped about 70 times, and the writer slept on it.
	assert_line --regexp '^chan cmd=send .*messages=300 bytes=300000 .* sleeps=[1-9][0-9]* result=ok$'
}

@test "under load the sender rings far fewer doorbells than it sends messages" {
	boot_done 1
	run -0 transcript g2
	assert_line 'step=load status=0'
	local line rung
	line=$(grep '^chan cmd=send .*messages=20000 ' <<<"$output")
	rung=$(sed -n 's/.* doorbells=\([0-9]*\) .*/\1/p' <<<"$line")
	[ -n "$rung" ] || fail "no result line: $output"
	[ "$rung" -lt 10000 ] || fail "$rung doorbells for 20000 messages"
}

@test "a host peer spraying the shared memory: the guests get errors, nothing crashes or hangs" {
	boot_done 2
	boot2_made spray.out
	run -0 cat "$SCRATCH/spray.out"
	assert_line --regexp '^spray writes=[0-9]+$'
	assert_line 'spray status=0'
	local g both=
	for g in h1 h2; do
		run -0 transcript "$g"
		# Each end stopped with a result line and an exit status of the API (0 for the
		# end whose peer stopped first and closed), not a signal or a timeout.
		assert_line --regexp '^step=sprayed status=[01]$'
		assert_line --regexp '^chan cmd=(serve|send) .* result=[A-Za-z]+$'
		refute_output --regexp 'Segmentation fault|Oops|BUG|general protection'
		both+=$output$'\n'
	done
	# And one of them saw the corruption: the library broke the channel, took the
	# scribbled slot for lost (ENOTCONN), or (bytes sprayed into a message)
	# ivshm-chan's own sequence check, result=error.
	grep -Eq '^chan cmd=(serve|send) .* result=(EPROTO|ECONNRESET|EHOSTDOWN|EUCLEAN|ENOTCONN|EPIPE|error)$' <<<"$both" ||
		fail "no end reported the corruption: $both"
}

@test "a guest killed mid-stream: the survivor gets EHOSTDOWN within the documented bound" {
	boot_done 2
	boot2_made killed-at
	run -0 transcript h1
	assert_line --regexp '^chan cmd=serve .* result=EHOSTDOWN$'
	assert_line 'step=killed status=1'
	assert_line 'IVSHM-GUEST-EXIT status=0'
	# Heartbeat silence of 1 s, looked at every 50 ms; the guest then powers off.
	local took=$(($(cat "$SCRATCH/h1-done-at") - $(cat "$SCRATCH/killed-at")))
	[ "$took" -le 10 ] || fail "h1 took $took s after the kill"
}
