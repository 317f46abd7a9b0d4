#!/usr/bin/env bats
# The shared memory: one region seen by every peer, a sealed memfd by default
# (never executable: MFD_NOEXEC_SEAL, and ivshmd starts with
# vm.memfd_noexec=2), a sealed memfd of huge pages for a hugetlbfs -m, POSIX
# shm (-M, an existing object only with --shm-reuse and never one another
# user could have planted) or an unlinked file in a directory (-m), a warning
# for each backing that cannot be sealed, power-of-two sizes with K/M/G
# suffixes up to 64 GiB and more (others rounded up, as QEMU's server does),
# sparse, and bad sizes refused at start-up.

load helpers/ivshmd-hardening

setup_file() {
	srv_dir_create
	export SHM_NAME="ivshmd-test-$$"
	srv_start mem -n 1 -l 1M
}

teardown_file() {
	srvs_stop_all
	hugepages_restore
	srv_dir_remove
	rm -f "/dev/shm/$SHM_NAME" "/dev/shm/$SHM_NAME.link"
}

# hugepages_restore: unmount the test's hugetlbfs and give borrowed huge pages back.
hugepages_restore() {
	local mnt="$SRV_DIR/hugetlbfs"
	if mountpoint -q "$mnt"; then umount "$mnt"; fi
	if [ -f "$SRV_DIR/nr_hugepages.orig" ]; then
		cat "$SRV_DIR/nr_hugepages.orig" >/proc/sys/vm/nr_hugepages
		rm "$SRV_DIR/nr_hugepages.orig"
	fi
}

# hugepages_borrow N: mount $SRV_DIR/hugetlbfs (2 MiB pages) with N more huge pages free.
hugepages_borrow() {
	local mnt="$SRV_DIR/hugetlbfs" orig
	mkdir -p "$mnt"
	mountpoint -q "$mnt" || mount -t hugetlbfs -o pagesize=2M none "$mnt" 2>/dev/null ||
		skip "cannot mount hugetlbfs here"
	[ -f "$SRV_DIR/nr_hugepages.orig" ] || cat /proc/sys/vm/nr_hugepages >"$SRV_DIR/nr_hugepages.orig"
	orig=$(cat "$SRV_DIR/nr_hugepages.orig")
	echo $((orig + $1)) >/proc/sys/vm/nr_hugepages 2>/dev/null || skip "cannot reserve huge pages"
	[ "$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)" -ge "$1" ] || skip "no free huge pages"
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

# The issue: a peer truncated the fd of an unsealed backing and every other VM died.
@test "truncation through every backing: the memfds refuse it, -M and other -m warn at start-up" {
	local sock
	# A huge-page memfd, sealed like the default one.
	hugepages_borrow 2
	srv_start huge -n 1 -l 4M -m "$SRV_DIR/hugetlbfs"
	run -0 peer -S "$(srv_sock huge)" -w 0:huge --truncate 2M --truncate 8M
	assert_line --regexp '^shm size=4194304 seals=seal,shrink,grow(,exec)? '
	assert_line "truncate size=2097152 result=EPERM"
	assert_line "truncate size=8388608 result=EPERM"
	run -0 peer -S "$(srv_sock huge)" -r 0:4
	assert_line "read offset=0 hex=$(printf huge | od -An -tx1 | tr -d ' \n')"
	run -0 cat "$(srv_log huge)"
	assert_line --partial "4194304 bytes of sealed memfd of huge pages"
	refute_output --partial "cannot be sealed"
	srv_stop huge
	hugepages_restore
	# These cannot be sealed: said at start-up, and true.
	srv_start posix -n 1 -l 1M -M "$SHM_NAME"
	wait_for_line 5 "$(srv_log posix)" "^ivshmd: -M $SHM_NAME cannot be sealed: any peer can resize it \\(ftruncate\\) and every other VM's QEMU dies with SIGBUS"
	run -0 peer -S "$(srv_sock posix)" --truncate 4K
	assert_line "truncate size=4096 result=ok"
	srv_stop posix
	mkdir -p "$SRV_DIR/plain"
	srv_start dirfile -n 1 -l 1M -m "$SRV_DIR/plain"
	wait_for_line 5 "$(srv_log dirfile)" "^ivshmd: -m $SRV_DIR/plain cannot be sealed"
	srv_stop dirfile
	run -0 "$IVSHMD_BIN/ivshmd" --help
	assert_output --partial "UNSEALED"
}

# Memory a VM can write must never become code: no exec bits, and no way to add them.
@test "the memfd is created MFD_NOEXEC_SEAL: no exec bits, the exec seal set" {
	[ -e /proc/sys/vm/memfd_noexec ] || skip "kernel without MFD_NOEXEC_SEAL"
	local fd
	run -0 peer -S "$(srv_sock mem)"
	assert_line --regexp '^shm size=1048576 seals=seal,shrink,grow,exec '
	fd=$(find "/proc/$(srv_pid mem)/fd" -lname '/memfd:ivshmd (deleted)' | head -n 1)
	run -0 stat -L -c %a "$fd"
	refute_output --regexp '[1357]'
}

@test "ivshmd starts with vm.memfd_noexec=2 (in a PID namespace of its own)" {
	[ -e /proc/sys/vm/memfd_noexec ] || skip "kernel without vm.memfd_noexec"
	local sock=$SRV_DIR/noexec.sock
	timeout 120 unshare --pid --fork --kill-child=TERM --mount-proc sh -c \
		'echo 2 >/proc/sys/vm/memfd_noexec && exec "$1" -F -v -S "$2" -n 1 -l 1M' - \
		"$IVSHMD_BIN/ivshmd" "$sock" 2>"$SRV_DIR/noexec.log" 3>&- 4>&- &
	echo $! >"$SRV_DIR/noexec.qpid"
	wait_for 10 test -S "$sock.ctl" || fail "$(cat "$SRV_DIR/noexec.log")"
	run -0 peer -S "$sock" -w 0:noexec -r 0:6
	assert_line --regexp '^shm size=1048576 seals=seal,shrink,grow,exec '
	assert_equal "$(cat /proc/sys/vm/memfd_noexec)" 0
	kill_wait "$(cat "$SRV_DIR/noexec.qpid")"
	wait_for 10 eval "! test -e '$sock'"
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

@test "-M: an existing object is shared only with --shm-reuse and if its size fits, never truncated" {
	truncate -s 1M "/dev/shm/$SHM_NAME"
	chmod 0600 "/dev/shm/$SHM_NAME"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -M "$SHM_NAME"
	assert_output --partial "shared memory $SHM_NAME exists; pass --shm-reuse to share it, or remove it"
	rm "/dev/shm/$SHM_NAME"
	truncate -s 2M "/dev/shm/$SHM_NAME"
	chmod 0600 "/dev/shm/$SHM_NAME"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -M "$SHM_NAME" --shm-reuse
	assert_output --partial "shared memory $SHM_NAME exists with 2097152 bytes, not 1048576"
	assert_equal "$(stat -c %s "/dev/shm/$SHM_NAME")" 2097152
	rm "/dev/shm/$SHM_NAME"
	truncate -s 1M "/dev/shm/$SHM_NAME"
	chmod 0600 "/dev/shm/$SHM_NAME"
	printf preexisting | dd of="/dev/shm/$SHM_NAME" bs=1 seek=8 conv=notrunc status=none
	srv_start posix -n 1 -l 1M -M "$SHM_NAME" --shm-reuse
	run -0 peer -S "$(srv_sock posix)" -r 8:11
	assert_line "read offset=8 hex=$(printf preexisting | od -An -tx1 | tr -d ' \n')"
	srv_stop posix
	assert_file_exists "/dev/shm/$SHM_NAME"
	rm "/dev/shm/$SHM_NAME"
}

# The issue: nobody created /dev/shm/x mode 0666, root served it, nobody read what VMs wrote.
@test "-M never serves an object another user planted, one others can open, linked or not a file" {
	local obj=/dev/shm/$SHM_NAME
	rm -f "$obj"
	as_user nobody nogroup sh -c 'umask 0; : >"$1"; truncate -s 1M "$1"' - "$obj"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -M "$SHM_NAME" --shm-reuse
	assert_output --partial "shared memory $SHM_NAME belongs to another user (uid 65534, mode 0666, 1 links); refusing it"
	assert_equal "$(stat -c '%U %s' "$obj")" "nobody 1048576"
	rm "$obj"
	truncate -s 1M "$obj"
	chmod 0640 "$obj"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -M "$SHM_NAME" --shm-reuse
	assert_output --partial "has permissions for group or others"
	chmod 0600 "$obj"
	ln "$obj" "$obj.link"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -M "$SHM_NAME" --shm-reuse
	assert_output --partial "has more than one link"
	rm "$obj.link" "$obj"
	mkfifo -m 0600 "$obj"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -M "$SHM_NAME" --shm-reuse
	assert_output --partial "is not a regular file"
	rm "$obj"
	ln -s "$SRV_DIR/target" "$obj"
	run -1 timeout 10 "$IVSHMD_BIN/ivshmd" -F -S "$SRV_DIR/bad.sock" -l 1M -M "$SHM_NAME" --shm-reuse
	assert_output --partial "shm_open $SHM_NAME: Too many levels of symbolic links"
	assert_not_exists "$SRV_DIR/target"
	rm "$obj"
	assert_not_exists "$SRV_DIR/bad.sock"
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
	mountpoint -q "$mnt" || mount -t hugetlbfs -o pagesize=2M none "$mnt" 2>/dev/null ||
		skip "cannot mount hugetlbfs here"
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
