#!/usr/bin/env bats
# libivshm's pure logic under cmocka: header parsing, discovery against a fake
# sysfs tree, counter arithmetic, number parsing. Each binary runs twice: plain
# and under ASan+UBSan. A binary must run as many cases as its source defines
# test functions (static void NAME(void **state)), so a case written but never
# registered fails here.

setup_file() {
	load helpers/common
	make -s -C "$IVSHM_TOP/guest-apps" >&2
}

setup() {
	load helpers/common
	UNIT=$IVSHM_BUILD/tests/unit
}

# run_unit NAME [asan/]: run one cmocka binary and check it ran every listed case.
run_unit() {
	local name=$1 dir=${2:-} src="$IVSHM_TOP/guest-apps/tests/$1.c" want
	want=$(grep -cE '^static void [a-z0-9_]+\(void \*\*state\)$' "$src")
	[ "$want" -gt 0 ]
	run -0 timeout 60 "$UNIT/$dir$name"
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

@test "unit: application header parsing (hostile input)" { run_unit test-shm-proto; }
@test "unit: device discovery against a fake sysfs tree" { run_unit test-discover; }
@test "unit: open, doorbell and wait against a fake device" { run_unit test-open; }
@test "unit: counter-page arithmetic" { run_unit test-counters; }
@test "unit: number, address and attribute parsing, percentiles" { run_unit test-parse; }

@test "unit under ASan+UBSan: header parsing" { run_unit test-shm-proto asan/; }
@test "unit under ASan+UBSan: discovery" { run_unit test-discover asan/; }
@test "unit under ASan+UBSan: open, doorbell and wait" { run_unit test-open asan/; }
@test "unit under ASan+UBSan: counters" { run_unit test-counters asan/; }
@test "unit under ASan+UBSan: parsing" { run_unit test-parse asan/; }

@test "libivshm.so exports exactly the ivshm_ API, versioned LIBIVSHM_1" {
	run -0 bash -c "nm -D --defined-only '$IVSHM_BUILD/lib/libivshm.so.1' | awk '\$2 == \"T\" {print \$3}' | sort"
	refute_output --regexp '^ivshm__'
	assert_line 'ivshm_open@@LIBIVSHM_1'
	assert_line 'ivshm_wait@@LIBIVSHM_1'
	assert_line 'ivshm_trigger@@LIBIVSHM_1'
	run -0 bash -c "nm -D --defined-only '$IVSHM_BUILD/lib/libivshm.so.1' | awk '\$2 == \"T\"' | grep -vc '@@LIBIVSHM_1\$' || true"
	assert_output 0
}

@test "guest programs are static and the .pc file works with pkg-config" {
	local p
	for p in shm-server shm-client ivshm-info ivshm-pingpong; do
		run -0 file "$IVSHM_BUILD/guest-apps/bin/$p"
		assert_output --partial 'statically linked'
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

@test "a program compiled against the installed header links with the shared library" {
	local dir
	dir=$(mktemp -d)
	cat >"$dir/t.c" <<-'C'
		#include <errno.h>
		#include <stdio.h>
		#include <ivshm.h>
		int main(void)
		{
			struct ivshm_dev *dev = NULL;
			int err = ivshm_open("bogus", 0, &dev);
			printf("%d %s\n", err == -EINVAL, ivshm_strerror(-ENOTSUP));
			ivshm_close(dev);
			return 0;
		}
	C
	run -0 cc -std=c11 -Wall -Werror -I"$IVSHM_TOP/guest-apps/libivshm" -o "$dir/t" "$dir/t.c" \
		-L"$IVSHM_BUILD/lib" -livshm
	run -0 env LD_LIBRARY_PATH="$IVSHM_BUILD/lib" "$dir/t"
	assert_output '1 device has no interrupts (ivshmem-plain)'
	rm -rf "$dir"
}
