#!/usr/bin/env bats
# The guest image (build/guest/initrd.img, what make install installs) holds the
# product only; the tests' probes and scripts travel in their own archive
# (build/tests/guest/tests.cpio.gz), which the test launcher appends at boot.

load helpers/common

setup_file() {
	export SCRATCH="$(scratch_dir)"
	rm -rf "$SCRATCH"/*
	export IMAGE="$IVSHM_BUILD/guest/initrd.img"
	export OVERLAY="$IVSHM_BUILD/tests/guest/tests.cpio.gz"
}

teardown_file() {
	scratch_teardown
}

@test "the product image holds the init, its contract, the driver and the programs" {
	run -0 archive_files "$IMAGE"
	assert_line init
	assert_line lib/ivshm/guest-console.sh
	assert_line --regexp '^lib/modules/[^/]+/extra/uio_ivshmem\.ko$'
	local p
	for p in shm-server shm-client ivshm-info ivshm-pingpong; do
		assert_line "usr/bin/$p"
	done
}

@test "the test overlay holds the probe and the guest test library, and nothing of the product" {
	run -0 archive_files "$OVERLAY"
	assert_output "$(printf '%s\n' usr/bin/uio-probe usr/lib/ivshm-tests/uio-test-lib.sh)"
}

@test "no file of the test overlay is in the product image" {
	run -0 env LC_ALL=C comm -12 <(archive_files "$IMAGE") <(archive_files "$OVERLAY")
	assert_output ''
	run -0 archive_files "$IMAGE"
	refute_output --partial uio-probe
	refute_output --partial ivshm-tests
}

@test "a rebuild of the image with the same inputs changes no byte and no mtime" {
	local before
	before=$(stat -c '%Y %s' "$IMAGE")
	cp "$IMAGE" "$SCRATCH/before.img"
	run -0 "$IVSHM_TOP/host/guest-image/build-image" "$IVSHM_BUILD"
	refute_output --partial 'GEN '
	run -0 cmp "$SCRATCH/before.img" "$IMAGE"
	assert_equal "$(stat -c '%Y %s' "$IMAGE")" "$before"
	# The same tree packs to the same bytes, whatever its files' mtimes.
	mkdir -p "$SCRATCH/tree/etc"
	echo x >"$SCRATCH/tree/etc/x"
	"$IVSHM_TOP/host/guest-image/pack-initramfs" "$SCRATCH/tree" "$SCRATCH/one.cpio.gz"
	touch "$SCRATCH/tree/etc/x"
	"$IVSHM_TOP/host/guest-image/pack-initramfs" "$SCRATCH/tree" "$SCRATCH/two.cpio.gz"
	run -0 cmp "$SCRATCH/one.cpio.gz" "$SCRATCH/two.cpio.gz"
}

@test "a product guest has no probe; a test guest gets them from the overlay" {
	local check='command -v uio-probe || echo no-probe; test -r /usr/lib/ivshm-tests/uio-test-lib.sh && echo has-lib; true'
	run -0 timeout 120 "$IVSHM_TOP/host/launch/ivshm-vm" --name img-product-$$ \
		--log "$SCRATCH/product.log" --cmd "$check"
	run -0 ivshm_console_transcript "$SCRATCH/product.log"
	assert_line no-probe
	refute_line has-lib
	run -0 timeout 120 "$IVSHM_TOP/tests/helpers/test-vm" --name img-test-$$ \
		--log "$SCRATCH/test.log" --cmd "$check"
	run -0 ivshm_console_transcript "$SCRATCH/test.log"
	assert_line /usr/bin/uio-probe
	assert_line has-lib
}
