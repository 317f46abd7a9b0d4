#!/usr/bin/env bats
# Smoke: the guest image boots under the plain-QEMU launcher, loads our driver,
# and the launcher reports the guest's exit status, timeouts and setup errors.

load helpers/common

setup_file() {
	export VM="$IVSHM_TOP/host/launch/ivshm-vm"
	export SCRATCH="$(scratch_dir)"
	rm -rf "$SCRATCH"/*
	export LOGDIR="$SCRATCH"
}

teardown_file() {
	scratch_teardown
}

@test "guest kernel is the one Debian's metapackage points at" {
	run -0 bash -c "apt-cache depends linux-image-cloud-amd64 | awk '/Depends:/ {print \$2}'"
	assert_output "linux-image-$(cat "$IVSHM_BUILD/guest/kernel.version")"
}

@test "guest boots, loads uio_ivshmem and returns the command's exit status" {
	mkdir -p "$BATS_TEST_TMPDIR/tmp"
	TMPDIR="$BATS_TEST_TMPDIR/tmp" run -7 timeout 120 "$VM" --name smoke-$$ --log "$LOGDIR/boot.log" \
		--cmd 'lsmod | grep -q "^uio_ivshmem " && lsmod | grep -q "^uio "; echo "mods=$?"; exit 7'
	# The per-boot initramfs went with the launcher.
	run -0 find "$BATS_TEST_TMPDIR/tmp" -mindepth 1
	assert_output ''
	run -0 ivshm_console_text "$LOGDIR/boot.log"
	assert_line --regexp '^IVSHM-GUEST-READY kernel=[^ ]+ uio=0$'
	assert_line 'mods=0'
	assert_line 'IVSHM-GUEST-EXIT status=7'
	refute_line --partial 'IVSHM-GUEST-ERROR'
}

@test "launcher kills a guest that outlives --timeout and says so" {
	mkdir -p "$BATS_TEST_TMPDIR/tmp"
	TMPDIR="$BATS_TEST_TMPDIR/tmp" run -124 "$VM" --name smoke-to-$$ --log "$LOGDIR/timeout.log" \
		--timeout 5 --cmd 'sleep 600'
	assert_output --partial "timed out after 5s"
	run -0 find "$BATS_TEST_TMPDIR/tmp" -mindepth 1
	assert_output ''
}

@test "launcher refuses a missing ivshmd socket with a clear error" {
	run -125 "$VM" --name smoke-nosock-$$ --socket "$LOGDIR/no-such.sock" --cmd true
	assert_output --partial "no ivshmd socket at $LOGDIR/no-such.sock"
}

@test "a 20 KB script runs whole, off the kernel command line" {
	local script
	# 1000 statements: a script cut anywhere ends with another count or not at all.
	script=$(printf 'n=$((n + 1)) # %s\n' $(seq -w 1000))
	script+=$'\necho "count=$n"; echo "cmdline=$(wc -c </proc/cmdline)"; exit 5'
	[ "${#script}" -ge 20000 ]
	run -5 timeout 120 "$VM" --name smoke-long-$$ --log "$LOGDIR/long.log" --cmd "$script"
	run -0 ivshm_console_text "$LOGDIR/long.log"
	assert_line 'count=1000'
	assert_line --regexp '^cmdline=[0-9]{2,3}$'
	assert_line "$IVSHM_CONSOLE_EXIT status=5"
}

@test "--overlay archives add files in order, later ones replacing earlier ones" {
	local d="$BATS_TEST_TMPDIR"
	mkdir -p "$d/a/etc" "$d/b/etc"
	echo from-a >"$d/a/etc/both"
	echo only-a >"$d/a/etc/only-a"
	echo from-b >"$d/b/etc/both"
	"$IVSHM_TOP/host/guest-image/pack-initramfs" "$d/a" "$d/a.cpio.gz"
	# Uncompressed works too: the kernel tells the formats apart.
	(cd "$d/b" && find . -mindepth 1 | cpio -o -H newc --quiet) >"$d/b.cpio"
	run -0 timeout 120 "$VM" --name smoke-ovl-$$ --log "$LOGDIR/overlay.log" \
		--overlay "$d/a.cpio.gz" --overlay "$d/b.cpio" \
		--cmd 'cat /etc/both /etc/only-a; test -x /usr/bin/shm-server && echo product-kept'
	run -0 ivshm_console_transcript "$LOGDIR/overlay.log"
	assert_line from-b
	refute_line from-a
	assert_line only-a
	assert_line product-kept
}

@test "a launcher stopped by a signal stops its guest and removes its files" {
	mkdir -p "$BATS_TEST_TMPDIR/tmp"
	# Only this boot's console may say "sleeping".
	rm -f "$LOGDIR/sig.log"
	TMPDIR="$BATS_TEST_TMPDIR/tmp" "$VM" --name smoke-sig-$$ --log "$LOGDIR/sig.log" \
		--cmd 'echo sleeping; sleep 600' 3>&- 4>&- &
	local vm=$!
	wait_for 60 grep -q '^sleeping' "$LOGDIR/sig.log"
	run -0 pgrep -f -- "^qemu-system-x86_64 -name smoke-sig-$$ "
	kill -TERM "$vm"
	local rc=0
	wait "$vm" || rc=$?
	assert_equal "$rc" 143
	wait_for 10 eval "! pgrep -f -- '^qemu-system-x86_64 -name smoke-sig-$$ ' >/dev/null"
	run -0 find "$BATS_TEST_TMPDIR/tmp" -mindepth 1
	assert_output ''
}

@test "launcher rejects bad options" {
	run -125 "$VM" --name 'bad name' --cmd true
	assert_output --partial "bad --name"
	run -125 "$VM" --name x --accel nope --cmd true
	assert_output --partial "bad --accel"
	run -125 "$VM" --name x --plain /tmp/nosize --cmd true
	assert_output --partial "FILE:SIZE"
	run -125 "$VM" --name x --overlay "$LOGDIR/none.cpio" --cmd true
	assert_output --partial "--overlay $LOGDIR/none.cpio: no such readable file"
}
