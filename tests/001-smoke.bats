#!/usr/bin/env bats
# Smoke: the guest image boots under the plain-QEMU launcher, loads our driver,
# and the launcher reports the guest's exit status, timeouts and setup errors.

setup_file() {
	load helpers/common
	export VM="$IVSHM_TOP/host/launch/ivshm-vm"
	export LOGDIR="$(scratch_dir)"
}

setup() {
	load helpers/common
}

@test "guest kernel is the one Debian's metapackage points at" {
	run -0 bash -c "apt-cache depends linux-image-cloud-amd64 | awk '/Depends:/ {print \$2}'"
	assert_output "linux-image-$(cat "$IVSHM_BUILD/guest/kernel.version")"
}

@test "guest boots, loads uio_ivshmem and returns the command's exit status" {
	run -7 timeout 120 "$VM" --name smoke-$$ --log "$LOGDIR/boot.log" \
		--cmd 'lsmod | grep -q "^uio_ivshmem " && lsmod | grep -q "^uio "; echo "mods=$?"; exit 7'
	run -0 tr -d '\r' <"$LOGDIR/boot.log"
	assert_line --regexp '^IVSHM-GUEST-READY kernel=[^ ]+ uio=0$'
	assert_line 'mods=0'
	assert_line 'IVSHM-GUEST-EXIT status=7'
	refute_line --partial 'IVSHM-GUEST-ERROR'
}

@test "launcher kills a guest that outlives --timeout and says so" {
	run -124 "$VM" --name smoke-to-$$ --log "$LOGDIR/timeout.log" --timeout 5 --cmd 'sleep 600'
	assert_output --partial "timed out after 5s"
}

@test "launcher refuses a missing ivshmd socket with a clear error" {
	run -125 "$VM" --name smoke-nosock-$$ --socket "$LOGDIR/no-such.sock" --cmd true
	assert_output --partial "no ivshmd socket at $LOGDIR/no-such.sock"
}

@test "launcher refuses a script too long for the kernel command line" {
	run -125 "$VM" --name smoke-long-$$ --cmd "echo $(printf 'x%.0s' $(seq 1600))"
	assert_output --partial "exceeds 2047"
}

@test "launcher rejects bad options" {
	run -125 "$VM" --name 'bad name' --cmd true
	assert_output --partial "bad --name"
	run -125 "$VM" --name x --accel nope --cmd true
	assert_output --partial "bad --accel"
	run -125 "$VM" --name x --plain /tmp/nosize --cmd true
	assert_output --partial "FILE:SIZE"
}
