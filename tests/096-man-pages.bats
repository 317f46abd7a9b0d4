#!/usr/bin/env bats
# The man pages (man/*.N, mdoc): clean under mandoc -Tlint and man's groff warnings,
# one for every installed program and for libivshm, and in step with the programs:
# every option a program's --help lists and every function the library exports is in
# its page. Each check is also run on a broken page, which it must catch.

load helpers/common

setup_file() {
	export STAGE="$BATS_FILE_TMPDIR/root"
	make -s -C "$IVSHM_TOP/host" install BUILD="$IVSHM_BUILD" DESTDIR="$STAGE" PREFIX=/usr \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1
	make -s -C "$IVSHM_TOP/libivshm" install BUILD="$IVSHM_BUILD" DESTDIR="$STAGE" PREFIX=/usr \
		>/dev/null
	make -s -C "$IVSHM_TOP/guest-apps" install BUILD="$IVSHM_BUILD" DESTDIR="$STAGE" PREFIX=/usr \
		>>"$BATS_FILE_TMPDIR/install.log" 2>&1
}

setup() {
	MAN=$IVSHM_TOP/man
}

# lint PAGE: every message mandoc -Tlint and man's groff have about PAGE, except the
# ones that depend on which other manuals this machine has installed.
lint() {
	mandoc -Tlint "$1" 2>&1 | grep -v -e 'referenced manual not found' -e 'outdated mandoc.db'
	man --warnings -l "$1" 2>&1 >/dev/null
}

# rendered PAGE: the page as a reader sees it, plain text.
rendered() {
	MANWIDTH=200 mandoc -Tascii "$1" | col -b
}

# help_options PROGRAM: the options (-x, --long) PROGRAM's --help names, one a line.
help_options() {
	"$1" --help 2>&1 | grep -oE -- '(^|[ ,[|])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[ ,[|]//' | sort -u
}

# missing_options PROGRAM PAGE: the options of PROGRAM's --help that PAGE never shows.
missing_options() {
	local page opt
	page=$(rendered "$2")
	for opt in $(help_options "$1"); do
		grep -qE -- "(^|[^a-zA-Z-])$opt([^a-zA-Z-]|\$)" <<<"$page" || echo "$opt"
	done
}

@test "every page is clean under mandoc -Tlint and man --warnings" {
	local f n=0
	for f in "$MAN"/*.[1-8]; do
		run -0 lint "$f"
		assert_output ''
		n=$((n + 1))
	done
	[ "$n" -ge 10 ]
}

@test "the lint check catches a broken page" {
	sed -e 's/^\.Sh DESCRIPTION$/.Sh DESCRIPTION\n.Xx unknown/' -e '/^\.Dd /d' \
		"$MAN/shm-server.1" >"$BATS_TEST_TMPDIR/broken.1"
	run -0 lint "$BATS_TEST_TMPDIR/broken.1"
	assert_output --partial 'unknown macro'
	assert_output --partial 'missing date'
}

@test "make install gives every program and the library a page in its section" {
	local f base
	for f in "$STAGE"/usr/bin/* "$STAGE"/usr/sbin/*; do
		base=${f##*/}
		case "$f" in
		*/sbin/*) assert_file_exists "$STAGE/usr/share/man/man8/$base.8" ;;
		*) assert_file_exists "$STAGE/usr/share/man/man1/$base.1" ;;
		esac
	done
	assert_file_exists "$STAGE/usr/share/man/man3/libivshm.3"
	# Every page in the tree is installed: none is forgotten in a Makefile.
	for f in "$MAN"/*.[1-8]; do
		base=${f##*/}
		assert_file_exists "$STAGE/usr/share/man/man${base##*.}/$base"
	done
}

@test "every option of each program's --help is in its page" {
	local p page
	for p in bin/ivshmd:ivshmd.8 bin/ivshm-peer:ivshm-peer.1 \
		guest-apps/bin/shm-server:shm-server.1 guest-apps/bin/shm-client:shm-client.1 \
		guest-apps/bin/ivshm-info:ivshm-info.1 guest-apps/bin/ivshm-chan:ivshm-chan.1 \
		guest-apps/bin/ivshm-echo:ivshm-echo.1 guest-apps/bin/ivshm-pingpong:ivshm-pingpong.1 \
		guest-apps/bin/ivshm-bench:ivshm-bench.1; do
		page=${p#*:}
		run -0 help_options "$IVSHM_BUILD/${p%%:*}"
		[ -n "$output" ]
		run -0 missing_options "$IVSHM_BUILD/${p%%:*}" "$MAN/$page"
		assert_equal "$page: $output" "$page: "
	done
}

@test "the option check catches a page that lacks an option" {
	grep -v -e 'shm-reuse' "$MAN/ivshmd.8" >"$BATS_TEST_TMPDIR/ivshmd.8"
	run -0 missing_options "$IVSHM_BUILD/bin/ivshmd" "$BATS_TEST_TMPDIR/ivshmd.8"
	assert_output -- --shm-reuse
}

@test "libivshm(3) names and declares every function the library exports" {
	local name syms page
	syms=$(sed -n 's/^[[:space:]]*\(ivshm_[a-z0-9_]*\);$/\1/p' "$IVSHM_TOP/libivshm/src/libivshm.sym")
	[ "$(wc -l <<<"$syms")" -ge 30 ]
	page=$(rendered "$MAN/libivshm.3")
	for name in $syms; do
		run -0 grep -c "^\.Nm $name\( ,\)\?\$" "$MAN/libivshm.3"
		assert_output 1
		run -0 grep -c "^\.Fo $name\$" "$MAN/libivshm.3"
		assert_output 1
		grep -q "$name(" <<<"$page" || fail "$name has no prototype in the rendered page"
	done
	# And nothing that is not exported.
	run -0 sed -n 's/^\.Fo \(.*\)$/\1/p' "$MAN/libivshm.3"
	assert_equal "$(sort <<<"$output")" "$(sort <<<"$syms")"
}

@test "cross-references between ivshm's pages name pages that exist" {
	local ref n=0
	while read -r ref; do
		assert_file_exists "$MAN/${ref% *}.${ref#* }"
		n=$((n + 1))
	done < <(sed -n 's/^\.Xr \(\(ivshm\|shm-\|libivshm\)[^ ]* [0-9]\).*/\1/p' "$MAN"/*.[1-8] | sort -u)
	[ "$n" -ge 10 ]
}
