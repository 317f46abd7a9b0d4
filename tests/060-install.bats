#!/usr/bin/env bats
# Top-level `make install`: every component lands under DESTDIR with PREFIX, the
# paths the VM configs name stay fixed, and the installed files are usable.

setup_file() {
	load helpers/common
	export STAGE="$BATS_FILE_TMPDIR/root"
	make -s -C "$IVSHM_TOP" install DESTDIR="$STAGE" PREFIX=/usr >"$BATS_FILE_TMPDIR/install.log" 2>&1
}

setup() {
	load helpers/common
}

@test "host tools, unit and defaults install under DESTDIR/PREFIX" {
	assert_file_executable "$STAGE/usr/sbin/ivshmd"
	assert_file_executable "$STAGE/usr/bin/ivshm-peer"
	assert_file_exists "$STAGE/usr/lib/systemd/system/ivshmd.service"
	assert_file_exists "$STAGE/etc/default/ivshmd"
	run -0 grep '^ExecStart=/usr/sbin/ivshmd ' "$STAGE/usr/lib/systemd/system/ivshmd.service"
}

@test "libivshm installs with header, libraries and a pkg-config file naming PREFIX" {
	assert_file_exists "$STAGE/usr/include/ivshm.h"
	assert_file_exists "$STAGE/usr/lib/libivshm.a"
	assert_link_exists "$STAGE/usr/lib/libivshm.so"
	run -0 env PKG_CONFIG_PATH="$STAGE/usr/lib/pkgconfig" pkg-config --variable=libdir libivshm
	assert_output /usr/lib
}

@test "driver sources install for DKMS" {
	run -0 sh -c "ls -d '$STAGE'/usr/src/uio_ivshmem-*"
	assert_file_exists "$output/dkms.conf"
	assert_file_exists "$output/uio_ivshmem.c"
	assert_file_exists "$output/uapi/uio_ivshmem.h"
}

@test "guest image and VM configs install at the fixed paths the configs name" {
	assert_file_exists "$STAGE/var/lib/ivshm/guest/vmlinuz"
	assert_file_exists "$STAGE/var/lib/ivshm/guest/initrd.img"
	run -0 cmp "$IVSHM_BUILD/guest/initrd.img" "$STAGE/var/lib/ivshm/guest/initrd.img"
	assert_dir_exists "$STAGE/var/log/ivshm"
	local f
	for f in "$IVSHM_TOP"/vm-configs/*.xml; do
		run -0 cmp "$f" "$STAGE/usr/share/ivshm/vm-configs/$(basename "$f")"
		run -0 grep -o "/var/lib/ivshm/guest/[a-z.]*" "$f"
		for path in $output; do assert_file_exists "$STAGE$path"; done
	done
}

@test "the installed guest image holds no test probe or script" {
	run -0 archive_files "$STAGE/var/lib/ivshm/guest/initrd.img"
	assert_line usr/bin/shm-server
	refute_output --partial uio-probe
	run -0 env LC_ALL=C comm -12 <(archive_files "$STAGE/var/lib/ivshm/guest/initrd.img") \
		<(archive_files "$IVSHM_BUILD/tests/guest/tests.cpio.gz")
	assert_output ''
}

@test "make V=1 install shows the commands it runs" {
	run -0 make -C "$IVSHM_TOP" install V=1 DESTDIR="$BATS_TEST_TMPDIR/v" PREFIX=/usr
	assert_line --regexp '^install .*ivshmd'
}
