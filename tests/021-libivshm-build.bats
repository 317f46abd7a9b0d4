#!/usr/bin/env bats
# libivshm as a library: what a plain build makes, the exported symbols, static
# and shared linking, pkg-config, and make install.

load helpers/common

@test "a plain make builds no unit test" {
	local b
	b=$(mktemp -d)
	run -0 make -s -C "$IVSHM_TOP/guest-apps" BUILD="$b"
	assert_file_exists "$b/guest-apps/bin/shm-server"
	assert_file_not_exists "$b/tests"
	rm -rf "$b"
}

@test "libivshm.so exports exactly the symbols of its version script, each in its section" {
	run -0 libivshm_exports
	local want=$output
	# nm writes NAME@@SECTION for the default version, NAME@SECTION for an old one.
	run -0 bash -c "nm -D --defined-only '$IVSHM_BUILD/lib/libivshm.so.1' |
		awk '\$2 == \"T\" {sub(/@@/, \"@\", \$3); print \$3}' | LC_ALL=C sort"
	assert_equal "$output" "$want"
	assert_line 'ivshm_open@LIBIVSHM_1'
	assert_line 'ivshm_publish@LIBIVSHM_1.1'
	# A program built against 1.1 keeps its functions, next to the new defaults.
	assert_line 'ivshm_chan_open@LIBIVSHM_1.1'
	assert_line 'ivshm_chan_open@LIBIVSHM_1.2'
	run -0 nm -D --defined-only "$IVSHM_BUILD/lib/libivshm.so.1"
	assert_line --regexp ' T ivshm_chan_open@@LIBIVSHM_1.2$'
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
	run -0 make -s -C "$IVSHM_TOP/libivshm" install DESTDIR="$dest" PREFIX=/opt/ivshm
	run -0 make -s -C "$IVSHM_TOP/guest-apps" install DESTDIR="$dest" PREFIX=/opt/ivshm
	assert_file_exists "$dest/opt/ivshm/include/ivshm.h"
	assert_file_exists "$dest/opt/ivshm/lib/libivshm.a"
	assert_link_exists "$dest/opt/ivshm/lib/libivshm.so"
	assert_file_exists "$dest/opt/ivshm/lib/libivshm.so.1.2.0"
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
	make -s -C "$IVSHM_TOP/libivshm" install DESTDIR="$dir/root" PREFIX=/usr >/dev/null
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
	assert_output '1 65535 Operation not supported'
	rm -rf "$dir"
}

@test "the static library shows only the public API" {
	local sym="$IVSHM_TOP/libivshm/src/libivshm.sym"
	run -0 bash -c "sed -n 's/^[[:space:]]*\(ivshm_[a-z0-9_]*\);.*/\1/p' '$sym' | LC_ALL=C sort -u"
	local want=$output
	run -0 bash -c "nm -g --defined-only '$IVSHM_BUILD/lib/libivshm.a' | awk 'NF == 3 {print \$3}' | LC_ALL=C sort -u"
	assert_equal "$output" "$want"
	# The helpers it carries are there, but local: a program's own ivshm_clock_ms wins.
	run -0 nm "$IVSHM_BUILD/lib/libivshm.a"
	assert_line --regexp '^[0-9a-f]+ t ivshm_clock_ms$'
}

@test "libivshm-uninstalled.pc builds a program against this tree, never an installed copy" {
	local dir=$BATS_TEST_TMPDIR
	# A decoy installed copy later in the search path, with a header that cannot compile.
	mkdir -p "$dir/decoy/lib/pkgconfig" "$dir/decoy/include"
	echo '#error the installed copy was used' >"$dir/decoy/include/ivshm.h"
	sed -e "s|^prefix=.*|prefix=$dir/decoy|" -e "s|^libdir=.*|libdir=$dir/decoy/lib|" \
		-e "s|^includedir=.*|includedir=$dir/decoy/include|" \
		"$IVSHM_BUILD/lib/pkgconfig/libivshm.pc" >"$dir/decoy/lib/pkgconfig/libivshm.pc"
	cat >"$dir/t.c" <<-'C'
		#include <stdio.h>
		#include <ivshm.h>
		int main(void)
		{
			puts(ivshm_strerror(0));
			return 0;
		}
	C
	export PKG_CONFIG_PATH="$IVSHM_BUILD/lib/pkgconfig:$dir/decoy/lib/pkgconfig"
	run -0 pkg-config --cflags libivshm
	assert_output --partial "-I$IVSHM_TOP/libivshm/include"
	run -0 bash -c "cc -std=c11 -Wall -Wextra -Werror -o '$dir/t' '$dir/t.c' \$(pkg-config --cflags --libs libivshm)"
	# The shared library of the tree, found through the run path the .pc adds.
	run -0 "$dir/t"
	assert_output "Success"
	run -0 ldd "$dir/t"
	assert_output --partial "$IVSHM_BUILD/lib/libivshm.so.1"
}

@test "the programs use libivshm's public header only, never the private layout" {
	run grep -rlE '#include [<"](ivshm-shm|internal)\.h[>"]' "$IVSHM_TOP/guest-apps"
	assert_output ''
	# The check sees an include of the layout.
	cp -r "$IVSHM_TOP/guest-apps/lib" "$BATS_TEST_TMPDIR/lib"
	sed -i 's/#include "app.h"/&\n#include "ivshm-shm.h"/' "$BATS_TEST_TMPDIR/lib/app.c"
	run grep -rlE '#include [<"](ivshm-shm|internal)\.h[>"]' "$BATS_TEST_TMPDIR/lib"
	assert_output "$BATS_TEST_TMPDIR/lib/app.c"
}
