# The cmocka unit tests of every C component, discovered from their sources
# (COMPONENT/tests/test-*.c, host's in host/ivshmd/tests). Loads helpers/common.

load helpers/common

# unit_sources COMPONENT: the directory holding COMPONENT's test sources.
unit_sources() {
	case "$1" in
	host) echo "$IVSHM_TOP/host/ivshmd/tests" ;;
	*) echo "$IVSHM_TOP/$1/tests" ;;
	esac
}

# unit_names COMPONENT: its test names (test-*), sorted.
unit_names() {
	(cd "$(unit_sources "$1")" && ls test-*.c | sed 's/\.c$//' | LC_ALL=C sort)
}

# unit_run COMPONENT [asan]: run every test binary of COMPONENT (plain, or the
# ASan+UBSan build) and check each ran as many cases as its source defines
# (static void NAME(void **state)), so a case written but never registered fails.
# Prints one line per binary; fails at the end if any failed.
unit_run() {
	local comp=$1 flavor=${2:-} dir src name want out rc=0
	dir=$IVSHM_BUILD/tests/unit/$comp${flavor:+/$flavor}
	src=$(unit_sources "$comp")
	for name in $(unit_names "$comp"); do
		want=$(grep -cE '^static void [a-z0-9_]+\(void \*\*state\)$' "$src/$name.c")
		if ! out=$(timeout 120 "$dir/$name" 2>&1); then
			echo "$comp/$name: failed"; echo "$out" | tail -n 20; rc=1; continue
		fi
		if ! grep -qxF "[  PASSED  ] $want test(s)." <<<"$out" ||
			grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' <<<"$out"; then
			echo "$comp/$name: expected $want passing cases"; echo "$out" | tail -n 20; rc=1
			continue
		fi
		echo "$comp/$name: $want cases passed"
	done
	return "$rc"
}
