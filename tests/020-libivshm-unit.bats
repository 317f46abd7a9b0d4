#!/usr/bin/env bats
# libivshm's logic under cmocka: discovery against a fake sysfs tree, the peer
# directory and channels against hostile memory, ring arithmetic at the index
# wrap, the exchange message, counter arithmetic,
# and the shared helpers in common/ (number parsing, clock). Each binary runs
# twice: plain and under ASan+UBSan. A binary must run as many cases as its
# source defines test functions (static void NAME(void **state)), so a case
# written but never registered fails here.

setup_file() {
	load helpers/common
	make -s -C "$IVSHM_TOP/guest-apps" unit >&2
	make -s -C "$IVSHM_TOP/common" check >/dev/null
}

setup() {
	load helpers/common
	UNIT=$IVSHM_BUILD/tests/unit
}

# run_unit NAME [asan/] [COMPONENT]: run one cmocka binary of COMPONENT (default
# guest-apps) and check it ran every listed case.
run_unit() {
	local name=$1 dir=${2:-} comp=${3:-guest-apps} src want bin
	src="$IVSHM_TOP/$comp/tests/$name.c"
	bin="$UNIT/$dir$name"
	[ "$comp" = guest-apps ] || bin="$UNIT/$comp/$dir$name"
	want=$(grep -cE '^static void [a-z0-9_]+\(void \*\*state\)$' "$src")
	[ "$want" -gt 0 ]
	run -0 timeout 60 "$bin"
	assert_line "[==========] $want test(s) run."
	assert_line "[  PASSED  ] $want test(s)."
	refute_line --partial '[  FAILED  ]'
}

@test "every unit test source has a binary and nothing else is built" {
	run -0 bash -c "cd '$IVSHM_TOP/guest-apps/tests' && ls test-*.c | sed 's/\.c$//' | sort"
	local sources=$output
	run -0 bash -c "cd '$UNIT' && ls -p | grep -v / | sort"
	assert_equal "$output" "$sources"
}

@test "unit: the peer directory against hostile memory" { run_unit test-directory; }
@test "unit: the exchange message (hostile input)" { run_unit test-exchange; }
@test "unit: ring arithmetic and records across the 2^32 index wrap" { run_unit test-ring; }
@test "unit: channels between two threads, with a lying peer" { run_unit test-channel; }
@test "unit: device discovery against a fake sysfs tree" { run_unit test-discover; }
@test "unit: open, doorbell and wait against a fake device" { run_unit test-open; }
@test "unit: counter-page arithmetic" { run_unit test-counters; }
@test "unit: address and attribute parsing, percentiles" { run_unit test-parse; }
@test "unit: common number parsing" { run_unit test-number "" common; }
@test "unit: common monotonic clock" { run_unit test-clock "" common; }

@test "unit under ASan+UBSan: directory" { run_unit test-directory asan/; }
@test "unit under ASan+UBSan: exchange message" { run_unit test-exchange asan/; }
@test "unit under ASan+UBSan: ring arithmetic" { run_unit test-ring asan/; }
@test "unit under ASan+UBSan: channels" { run_unit test-channel asan/; }
@test "unit under ASan+UBSan: discovery" { run_unit test-discover asan/; }
@test "unit under ASan+UBSan: open, doorbell and wait" { run_unit test-open asan/; }
@test "unit under ASan+UBSan: counters" { run_unit test-counters asan/; }
@test "unit under ASan+UBSan: parsing" { run_unit test-parse asan/; }
@test "unit under ASan+UBSan: common number parsing" { run_unit test-number asan/ common; }
@test "unit under ASan+UBSan: common clock" { run_unit test-clock asan/ common; }

@test "a plain make builds no unit test" {
	local b
	b=$(mktemp -d)
	run -0 make -s -C "$IVSHM_TOP/guest-apps" BUILD="$b"
	assert_file_exists "$b/guest-apps/bin/shm-server"
	assert_file_not_exists "$b/tests"
	rm -rf "$b"
}

@test "libivshm.so exports exactly the symbols of its version script, each in its section" {
	local sym="$IVSHM_TOP/guest-apps/libivshm/libivshm.sym"
	# NAME@@SECTION for every global in the script, in the section that lists it.
	run -0 bash -c "awk '/^LIBIVSHM/ {v = \$1} /^\t[a-z_]+;/ {sub(/;/, \"\"); print \$1 \"@@\" v}' '$sym' | sort"
	local want=$output
	run -0 bash -c "nm -D --defined-only '$IVSHM_BUILD/lib/libivshm.so.1' | awk '\$2 == \"T\" {print \$3}' | sort"
	assert_equal "$output" "$want"
	assert_line 'ivshm_open@@LIBIVSHM_1'
	assert_line 'ivshm_publish@@LIBIVSHM_1.1'
}

@test "guest programs are static and the .pc file works with pkg-config" {
	local p
	for p in shm-server shm-client ivshm-info ivshm-pingpong; do
		run -0 file "$IVSHM_BUILD/guest-apps/bin/$p"
		# Static, and position-independent where the toolchain allows (static-pie).
		assert_output --regexp 'statically linked|static-pie linked'
	done
	run -0 env PKG_CONFIG_PATH="$IVSHM_BUILD/lib/pkgconfig" pkg-config --libs --cflags libivshm
	assert_output --partial '-livshm'
}

@test "make install honours DESTDIR and PREFIX" {
	local dest
	dest=$(mktemp -d)
	run -0 make -s -C "$IVSHM_TOP/guest-apps" install DESTDIR="$dest" PREFIX=/opt/ivshm
	assert_file_exists "$dest/opt/ivshm/include/ivshm.h"
	assert_file_exists "$dest/opt/ivshm/lib/libivshm.a"
	assert_link_exists "$dest/opt/ivshm/lib/libivshm.so"
	assert_file_exists "$dest/opt/ivshm/lib/libivshm.so.1.0.0"
	assert_file_exists "$dest/opt/ivshm/bin/shm-server"
	run -0 grep '^libdir=' "$dest/opt/ivshm/lib/pkgconfig/libivshm.pc"
	assert_output 'libdir=/opt/ivshm/lib'
	run -0 grep '^libdir=' "$IVSHM_BUILD/lib/pkgconfig/libivshm.pc"
	refute_output 'libdir=/opt/ivshm/lib'
	rm -rf "$dest"
}

@test "a program compiled against the installed headers links with the shared library" {
	local dir
	dir=$(mktemp -d)
	make -s -C "$IVSHM_TOP/guest-apps" install DESTDIR="$dir/root" PREFIX=/usr >/dev/null
	cat >"$dir/t.c" <<-'C'
		#include <errno.h>
		#include <stdio.h>
		#include <ivshm.h>
		int main(void)
		{
			struct ivshm_dev *dev = NULL;
			int err = ivshm_open("bogus", 0, &dev);
			printf("%d %u %s\n", err == -EINVAL, (unsigned)IVSHM_MAX_PEER_ID,
			       ivshm_strerror(-ENOTSUP));
			ivshm_close(dev);
			return 0;
		}
	C
	run -0 cc -std=c11 -Wall -Werror -I"$dir/root/usr/include" -o "$dir/t" "$dir/t.c" \
		-L"$dir/root/usr/lib" -livshm
	run -0 env LD_LIBRARY_PATH="$dir/root/usr/lib" "$dir/t"
	assert_output '1 65535 device has no interrupts (ivshmem-plain)'
	rm -rf "$dir"
}
