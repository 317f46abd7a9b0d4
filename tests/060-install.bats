#!/usr/bin/env bats
# Top-level `make install`: every component lands under DESTDIR with PREFIX and,
# without SYSTEM=1, nothing anywhere else; with SYSTEM=1 also the system locations,
# the paths the VM configs name among them; the installed files are usable.

load helpers/common

setup_file() {
	export STAGE="$BATS_FILE_TMPDIR/root"
	make -s -C "$IVSHM_TOP" install SYSTEM=1 DESTDIR="$STAGE" PREFIX=/usr \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1
}

@test "a PREFIX install writes only under DESTDIR/PREFIX, and what it installs points there" {
	local d=$BATS_TEST_TMPDIR/d p=/opt/ivshm-test
	run -0 make -s -C "$IVSHM_TOP" install DESTDIR="$d" PREFIX="$p"
	run -0 find "$d" -mindepth 1 -not -path "$d/opt" -not -path "$d$p" -not -path "$d$p/*"
	assert_output ''
	# ivshmd's defaults, the image and the logs the configs and the unit name, under PREFIX.
	assert_file_exists "$d$p/etc/default/ivshmd"
	run -0 grep -x "EnvironmentFile=-$p/etc/default/ivshmd" "$d$p/lib/systemd/system/ivshmd.service"
	local f path
	for f in "$d$p"/share/ivshm/vm-configs/*.xml; do
		run -0 grep -oE "<(kernel|initrd)>[^<]*<" "$f"
		assert_equal "$(wc -l <<<"$output")" 2
		for path in $(sed -E 's/<[a-z]+>([^<]*)</\1/' <<<"$output"); do
			assert_equal "${path#$p/}" "share/ivshm/guest/${path##*/}"
			assert_file_exists "$d$path"
		done
		run -0 grep -o "<log file='[^']*'" "$f"
		assert_output --regexp "^<log file='$p/var/log/ivshm/ivshm-[a-z]+\.log'\$"
	done
	# No udev rule nor sysusers file: those are read only from the system's directories.
	run -0 find "$d" -name '60-ivshm.rules' -o -name 'ivshm.conf'
	assert_output ''
}

@test "SYSTEM=1 adds the udev rule and the group's sysusers.d file where udev and systemd read them" {
	run -0 cmp "$IVSHM_TOP/guest-apps/udev/60-ivshm.rules" "$STAGE/usr/lib/udev/rules.d/60-ivshm.rules"
	run -0 cmp "$IVSHM_TOP/guest-apps/udev/ivshm.sysusers" "$STAGE/usr/lib/sysusers.d/ivshm.conf"
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

@test "SYSTEM=1: guest image and VM configs install at the fixed paths the configs name" {
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
