#!/usr/bin/env bats
# The L4Re shared-memory example between two guests, then guest-to-guest doorbells:
#
#                     +--------- ivshmd (4 MiB, 4 vectors) ---------+
#                     |                                             |
#   guest A: shm-server, wait -V 3, pingpong pong    guest B: shm-client, ring A 3, pingpong ping
#
# Both guests boot once; each step of their scripts prints its exit status, and the
# tests read the two transcripts. Step order is kept by the shared memory itself:
# B finds A in the peer directory (exchange, ping-pong) or A's "waiting" mark
# (written at 3 MiB, inside an arena no guest here owns) before it rings.

load helpers/exchange

setup_file() {
	exchange_setup_file 4

	local a b
	a=$(cat <<-'EOF'
		shm-server -t 30000; echo "step=server status=$?"
		ivshm-info | sed 's/^/before:/'
		ivshm-info wait -V 3 -m 3145728 -t 30000; echo "step=wait status=$?"
		ivshm-info | sed 's/^/after:/'
		ivshm-pingpong pong --check -t 30000; echo "step=pong status=$?"
	EOF
	)
	b=$(cat <<-'EOF'
		shm-client -t 30000; echo "step=client status=$?"
		ivshm-info peers | sed 's/^/dir:/'
		marked() { ivshm-info read 3145728 | grep -q '^data=waiting peer='; }
		poll_until 30 marked
		peer=$(ivshm-info read 3145728 | sed -n 's/^data=waiting peer=//p')
		ivshm-info ring "$peer" 3; echo "step=ring status=$?"
		ivshm-pingpong ping --check -n 1000 -V 1 -t 30000; echo "step=ping status=$?"
	EOF
	)
	guest_start a "$a" --socket "$IVSHMD_SOCK" --vectors 4
	guest_start b "$b" --socket "$IVSHMD_SOCK" --vectors 4
	guest_wait a b
}

teardown_file() {
	scratch_teardown
}

@test "both guests boot and run every step to the end" {
	run -0 cat "$SCRATCH/a.status" "$SCRATCH/b.status"
	assert_output $'0\n0'
	run -0 transcript a
	assert_line 'IVSHM-GUEST-EXIT status=0'
	refute_line --partial 'IVSHM-GUEST-ERROR'
	# Every step ran and none failed, not just the last one.
	assert_equal "$(grep -c '^step=' <<<"$output")" 3
	refute_line --regexp '^step=.* status=[^0]'
	run -0 transcript b
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_equal "$(grep -c '^step=' <<<"$output")" 3
	refute_line --regexp '^step=.* status=[^0]'
}

@test "exchange: the server's transcript shows the seed's lines in order" {
	local id client
	id=$(peer_id a shm-server)
	client=$(peer_id b shm-client)
	[ -n "$id" ] || fail "no peer ID in shm-server's transcript"
	[ -n "$client" ] || fail "no peer ID in shm-client's transcript"
	assert_in_order a \
		"shm-server: device /dev/uio0, peer ID $id, 4194304 bytes of shared memory" \
		"shm-server: wrote \"Hello from server!\", waiting for a client (timeout 30000 ms)" \
		"shm-server: IRQ on vector 0 from peer $client" \
		"New content: Hello from client, too!" \
		"step=server status=0"
}

@test "exchange: the client finds the server's ID in shared memory, prints and replaces its message" {
	local id client
	id=$(peer_id a shm-server)
	client=$(peer_id b shm-client)
	[ -n "$id" ] || fail "no peer ID in shm-server's transcript"
	[ -n "$client" ] || fail "no peer ID in shm-client's transcript"
	assert_in_order b \
		"shm-client: device /dev/uio0, peer ID $client, server peer ID $id" \
		"Content: Hello from server!" \
		"Setting new content in shared memory" \
		"shm-client: rang peer $id vector 0, detaching" \
		"step=client status=0"
}

@test "the directory shows the server as gone once it left, under its own ID" {
	local id
	id=$(peer_id a shm-server)
	[ -n "$id" ]
	run -0 transcript b
	assert_line --regexp "^dir:peer id=$id role=shm-server state=gone vector=0 generation=[0-9]+\$"
	refute_line --partial 'state=live'
}

@test "guest B rings A's vector 3: A wakes on exactly vector 3 and only counter 3 moves" {
	run -0 transcript b
	assert_line 'step=ring status=0'
	run -0 transcript a
	assert_line 'fired mask=0x8 vectors=3 coalesced=0'
	assert_line 'step=wait status=0'
	local v before after
	for v in 0 1 2 3; do
		before=$(counter a before: $v)
		after=$(counter a after: $v)
		[ -n "$before" ] && [ -n "$after" ] || fail "counter$v missing from the transcript"
		if [ "$v" = 3 ]; then
			assert_equal "$after" "$((before + 1))"
		else
			assert_equal "$after" "$before"
		fi
	done
}

@test "1000 doorbells each way, each seen as exactly one interrupt: none lost or merged" {
	run -0 transcript b
	assert_line 'pingpong role=ping sent=1000 received=1000 counter_delta=1000 coalesced=0 unexpected=0 out_of_order=0'
	assert_line --regexp '^pingpong transport=doorbell rounds=1000 min_us=[0-9]+ p50_us=[0-9]+ p99_us=[0-9]+ max_us=[0-9]+$'
	assert_line 'step=ping status=0'
	run -0 transcript a
	assert_line 'pingpong role=pong sent=1000 received=1000 counter_delta=1000 coalesced=0 unexpected=0 out_of_order=0'
	assert_line 'pingpong check=ok'
	assert_line 'step=pong status=0'
}
