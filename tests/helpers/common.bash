# Shared by every .bats file: `load helpers/common` inside setup/setup_file.
# Provides the bats-assert/support/file libraries, paths into build/, and
# deadline-based waiting (never fixed sleeps).

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

IVSHM_TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
IVSHM_BUILD=${BUILD:-$IVSHM_TOP/build}
IVSHM_BIN=$IVSHM_BUILD/bin
export IVSHM_TOP IVSHM_BUILD IVSHM_BIN

# wait_for TIMEOUT_S CMD...: run CMD every 20 ms until it succeeds or the deadline passes.
wait_for() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_for: timed out after ${timeout}s: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# wait_for_line TIMEOUT_S FILE PATTERN: wait until FILE has a line matching the ERE PATTERN.
wait_for_line() {
	wait_for "$1" grep -qE -- "$3" "$2" 2>/dev/null
}

# A private scratch directory for this test file, removed in teardown_file unless
# IVSHM_KEEP_LOGS=1.
scratch_dir() {
	local d="$IVSHM_BUILD/test-scratch/$(basename "$BATS_TEST_FILENAME" .bats)"
	mkdir -p "$d"
	echo "$d"
}
