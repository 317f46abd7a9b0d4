#!/usr/bin/env bats
# The shared memory: one region seen by every peer, a sealed memfd by default,
# POSIX shm (-M) or an unlinked file in a directory (-m), power-of-two sizes
# with K/M/G suffixes up to 64 GiB and more (others rounded up, as QEMU's
# server does), sparse, and bad sizes refused at start-up.

bats_require_minimum_version 1.5.0

setup_file() {
	load helpers/common
	load helpers/ivshmd
	srv_dir_create
	export SHM_NAME="ivshmd-test-$$"
	srv_start mem -n 1 -l 1M
}

teardown_file() {
	load helpers/common
	load helpers/ivshmd
	srvs_stop_all
	if mountpoint -q "$SRV_DIR/hugetlbfs"; then umount "$SRV_DIR/hugetlbfs"; fi
	srv_dir_remove
	rm -f "/dev/shm/$SHM_NAME"
}

setup() {
	load helpers/common
	load helpers/ivshmd
}

teardown() {
	peers_stop_all
}

@test "bytes written through one peer's mapping are read through another's, both ways" {
	local sock
	sock=$(srv_sock mem)
	peer_stay a "$sock"
	run -0 peer -S "$sock" -w 4096:from-b
	assert_line "wrote offset=4096 len=6"
	peer_cmd a "read 4096 6"
	wait_for_line 5 "$(peer_out a)" "^read offset=4096 hex=$(printf from-b | od -An -tx1 | tr -d ' \n')$"
	peer_cmd a "write 1M-16 from a"
	peer_cmd a "write 1048560 from a"
	wait_for_line 5 "$(peer_out a)" '^wrote offset=1048560 len=6$'
	run -0 peer -S "$sock" -r 1048560:6
	assert_line "read offset=1048560 hex=$(printf 'from a' | od -An -tx1 | tr -d ' \n')"
	run -0 cat "$(peer_out a)"
	assert_line "error unknown command"
}

@test "accesses outside the region are refused by the peer" {
	run -1 peer -S "$(srv_sock mem)" -w 1048575:xy
	assert_line "error write offset=1048575: Numerical result out of range"
	run -1 peer -S "$(srv_sock mem)" -r 1M:1
	assert_line --partial "error read offset=1048576"
}

@test "no peer can resize the sealed memfd" {
	run -0 peer -S "$(srv_sock mem)" --truncate 2M --truncate 4K --truncate 1M
	assert_line "truncate size=2097152 result=EPERM"
	assert_line "truncate size=4096 result=EPERM"
	assert_line "truncate size=1048576 result=ok"
}

@test "a 64 GiB region is sparse and usable at both ends" {
	local sock top=$(((64 << 30) - 16))
	srv_start big -n 1 -l 64G
	sock=$(srv_sock big)
	peer_stay reader "$sock"
	run -0 peer -S "$sock" -w "$top:end-of-64G" -w 0:start
	run -0 grep '^shm ' "$(peer_out reader)"
	assert_output --regexp '^shm size=68719476736 '
	peer_cmd reader "read $top 10"
	wait_for_line 5 "$(peer_out reader)" "^read offset=$top hex=$(printf end-of-64G | od -An -tx1 | tr -d ' \n')$"
	# Only the two written pages exist: nothing was committed up front.
	local fd
	fd=$(find "/proc/$(srv_pid big)/fd" -lname '/memfd:ivshmd*' | head -n 1)
	assert_equal "$(stat -L -c %s "$fd")" 68719476736
	[ "$(stat -L -c %b "$fd")" -le 64 ]
	[ "$(srv_rss_kib big)" -lt 65536 ]
	srv_stop big
}

@test "sizes take K, M and G suffixes, and 0x hexadecimal as QEMU's server does" {
	local size
	for size in 64K:65536 2M:2097152 1G:1073741824 8192:8192 0x100000:1048576; do
		srv_start sz -n 1 -l "${size%%:*}"
		run -0 peer -S "$(srv_sock sz)"
		assert_line --regexp "^shm size=${size##*:} "
		srv_stop sz
		run -0 cat "$(srv_log sz)"
		refute_output --partial "warning"
	done
}

@test "a size that is not a power of two is rounded up, as QEMU's server does, with a warning" {
	local size
	for size in 3M:4194304 5000:8192 1000M:1073741824; do
		srv_start sz -n 1 -l "${size%%:*}"
		run -0 peer -S "$(srv_sock sz)"
		assert_line --regexp "^shm size=${size##*:} "
		srv_stop sz
		run -0 cat "$(srv_log sz)"
		assert_line --regexp "^ivshmd: warning: --size '${size%%:*}' \\([0-9]+ bytes\\) is not a power of two: rounded up to ${size##*:}, as QEMU's ivshmem-server does$"
	done
}

@test "bad sizes are refused at start-up with a clear error" {
	local size
	for size in 1000 2K 1T 513G 0; do
		run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l "$size"
		assert_output "ivshmd: error: --size '$size': must be from 4K to 512G"
	done
	for size in 12X 1.5M "" -4M 99999999999999999999 0x 0x10M; do
		run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l "$size"
		assert_output --partial "ivshmd: error: --size '$size': expected a number with an optional K, M, G or T suffix"
	done
	assert_not_exists "$SRV_DIR/bad.sock"
}

@test "-M: the POSIX shm object is the peers' memory and goes away at exit" {
	srv_start posix -n 1 -l 1M -M "$SHM_NAME"
	assert_file_exists "/dev/shm/$SHM_NAME"
	assert_equal "$(stat -c %s "/dev/shm/$SHM_NAME")" 1048576
	run -0 peer -S "$(srv_sock posix)" -w 100:via-peer
	assert_line --regexp "^shm size=1048576 seals=[a-z,]+ dev=[0-9a-f:]+ ino=$(stat -c %i "/dev/shm/$SHM_NAME")$"
	assert_equal "$(dd if="/dev/shm/$SHM_NAME" bs=1 skip=100 count=8 status=none)" via-peer
	srv_stop posix
	assert_not_exists "/dev/shm/$SHM_NAME"
}

@test "-M: an existing object is shared if its size fits, refused otherwise, never truncated" {
	truncate -s 2M "/dev/shm/$SHM_NAME"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -M "$SHM_NAME"
	assert_output --partial "shared memory $SHM_NAME exists with 2097152 bytes, not 1048576"
	assert_equal "$(stat -c %s "/dev/shm/$SHM_NAME")" 2097152
	rm "/dev/shm/$SHM_NAME"
	truncate -s 1M "/dev/shm/$SHM_NAME"
	printf preexisting | dd of="/dev/shm/$SHM_NAME" bs=1 seek=8 conv=notrunc status=none
	srv_start posix -n 1 -l 1M -M "$SHM_NAME"
	run -0 peer -S "$(srv_sock posix)" -r 8:11
	assert_line "read offset=8 hex=$(printf preexisting | od -An -tx1 | tr -d ' \n')"
	srv_stop posix
	assert_file_exists "/dev/shm/$SHM_NAME"
	rm "/dev/shm/$SHM_NAME"
}

@test "-m DIR: an unlinked file in DIR backs the memory, nothing is left there" {
	mkdir -p "$SRV_DIR/shmdir"
	srv_start dir -n 1 -l 4M -m "$SRV_DIR/shmdir"
	run -0 ls -A "$SRV_DIR/shmdir"
	assert_output ""
	run -0 ls -l "/proc/$(srv_pid dir)/fd"
	assert_output --regexp "$SRV_DIR/shmdir/ivshmd\\.[A-Za-z0-9]{6} \\(deleted\\)"
	peer_stay d1 "$(srv_sock dir)"
	run -0 peer -S "$(srv_sock dir)" -w 0:dir-backed
	peer_cmd d1 "read 0 10"
	wait_for_line 5 "$(peer_out d1)" "^read offset=0 hex=$(printf dir-backed | od -An -tx1 | tr -d ' \n')$"
	peer_stop d1
	srv_stop dir
}

@test "-M and -m exclude each other; a missing -m directory is an error" {
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -M x -m /tmp
	assert_output --partial "-M and -m exclude each other"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -m "$SRV_DIR/no-such-dir"
	assert_output --partial "shared memory directory $SRV_DIR/no-such-dir: No such file or directory"
}

@test "-m on hugetlbfs: sizes below the huge page and unbacked sizes fail at start-up" {
	local mnt="$SRV_DIR/hugetlbfs"
	mkdir -p "$mnt"
	mount -t hugetlbfs -o pagesize=2M none "$mnt" 2>/dev/null || skip "cannot mount hugetlbfs here"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -m "$mnt"
	assert_output --partial "size 1048576 is not a multiple of the 2097152-byte pages of $mnt"
	local free
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	# More huge pages than exist: QEMU's mmap would fail, so ivshmd must fail first.
	local size
	size=$(awk -v n=$(((free + 1) * 2)) 'BEGIN { p = 2; while (p < n) p *= 2; print p "M" }')
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l "$size" -m "$mnt"
	assert_output --partial "mapping "
	assert_output --partial "Cannot allocate memory"
	run -0 ls -A "$mnt"
	assert_output ""
	umount "$mnt"
}
