#!/usr/bin/env bats
# Every C example in the documentation compiles: the fenced ```c blocks of the
# READMEs and the C displays of the man pages, extracted by tests/helpers/doc-examples
# (which says how a fragment is wrapped into a function) and built with the
# project's warning flags against this tree through libivshm-uninstalled.pc.

load helpers/common

setup_file() {
	make -s -C "$IVSHM_TOP/libivshm" BUILD="$IVSHM_BUILD" >&2
}

setup() {
	export PKG_CONFIG_PATH="$IVSHM_BUILD/lib/pkgconfig"
	DOCS=("$IVSHM_TOP/README.md" "$IVSHM_TOP/libivshm/README.md" "$IVSHM_TOP/guest-apps/README.md"
		"$IVSHM_TOP"/man/*.[1-8])
}

# build_examples OUTDIR DOC...: extract the C examples of DOC... into OUTDIR and build
# each; prints each failure with its compiler messages, fails if any example did.
build_examples() {
	local out=$1 c where kind rc=0
	shift
	"$IVSHM_TOP/tests/helpers/doc-examples" "$out" "$@" >"$out.list" || rc=1
	while read -r c where kind; do
		if ! cc -std=c11 -Wall -Wextra -Werror -o "${c%.c}" "$c" \
			$(pkg-config --cflags --libs libivshm-uninstalled) >"$c.log" 2>&1; then
			echo "$where ($kind): does not compile"
			cat "$c.log"
			rc=1
		fi
	done <"$out.list"
	return "$rc"
}

@test "every C example of the READMEs and man pages compiles with -Wall -Wextra -Werror" {
	cd "$IVSHM_TOP"
	# The compiler's messages first: they say which example and line.
	run build_examples "$BATS_TEST_TMPDIR/ex" "${DOCS[@]#$IVSHM_TOP/}"
	assert_output ''
	assert_success
	# The examples are found: each of these documents has some.
	run -0 cat "$BATS_TEST_TMPDIR/ex.list"
	assert_line --regexp '^[^ ]+ README\.md:[0-9]+ '
	assert_line --regexp '^[^ ]+ libivshm/README\.md:[0-9]+ '
	assert_line --regexp '^[^ ]+ man/libivshm\.3:[0-9]+ '
}

@test "the build catches a broken example: a newline inside a string, an undeclared variable" {
	local doc=$BATS_TEST_TMPDIR/broken.md
	cat >"$doc" <<-'EOF'
		Text.

		```c
		int err = 0;

		fprintf(stderr, "ivshm: %s
		", ivshm_strerror(err));
		```

		```c
		struct ivshm_chan *ch;

		ivshm_chan_open(dev, server.id, 7, NULL, 5000, &ch);
		```
	EOF
	run -1 build_examples "$BATS_TEST_TMPDIR/ex" "$doc"
	assert_line "$doc:3 (fragment): does not compile"
	assert_line --regexp "^$doc:6:[0-9]+: error: missing terminating \" character"
	assert_line "$doc:10 (fragment): does not compile"
	assert_line --regexp "^$doc:13:[0-9]+: error: .server. undeclared"
}

@test "C in a fence without a language is refused: it would escape the build" {
	local doc=$BATS_TEST_TMPDIR/unmarked.md
	printf '```\nivshm_close(dev);\n```\n\n```\nmake demo\n```\n' >"$doc"
	run -1 "$IVSHM_TOP/tests/helpers/doc-examples" "$BATS_TEST_TMPDIR/ex" "$doc"
	assert_output "$doc:1: C in a fence without a language: open it with \`\`\`c"
}

@test "a whole program is built as it is, and so is a man page's C display" {
	local page=$BATS_TEST_TMPDIR/t.3
	cat >"$page" <<-'EOF'
		.Sh EXAMPLES
		.Bd -literal
		#include <ivshm.h>
		int main(void)
		{
			unsigned int major;

			ivshm_version(&major, NULL, NULL);
			return major == IVSHM_VERSION_MAJOR ? 0 : 1;
		}
		.Ed
		.Bd -literal
		$ ivshm-info limits
		size=4194304
		.Ed
	EOF
	run -0 build_examples "$BATS_TEST_TMPDIR/ex" "$page"
	run -0 cat "$BATS_TEST_TMPDIR/ex.list"
	assert_output "$BATS_TEST_TMPDIR/ex/$(echo "$page" | tr / _)-2.c $page:2 whole"
	# It was built, and it runs.
	run -0 "$BATS_TEST_TMPDIR/ex/$(echo "$page" | tr / _)-2"
}
