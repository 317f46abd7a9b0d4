# Once per run of the suite, before the first file; bats finds this file next to the
# test files, so it runs for `tests/run FILE` alone too.

setup_suite() {
	# Exported by bats, so every test file inherits the guarantee (run -N, ...).
	bats_require_minimum_version 1.5.0

	# What the files need, built once: host tools, guest apps, the guest image and the
	# test overlay. Each file's own set-up then finds them up to date.
	local top
	top=$(cd "$(dirname "$BATS_TEST_FILENAME")/.." && pwd)
	make -s -C "$top" BUILD="${BUILD:-$top/build}" all test-overlay test-tools
}
