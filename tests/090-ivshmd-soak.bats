#!/usr/bin/env bats
# make soak, bounded for the suite: ivshmd under nonstop peer churn and
# doorbells (tests/tools/soak, ivshmd-soak) for IVSHM_SOAK_SECONDS (default 45
# here, 300 for `make soak`, hours on demand). Every doorbell and every join
# and leave must arrive, ivshmd must log nothing, and its fd count and RSS
# must be the same at the end as at the start (after a warm-up).

load helpers/common

@test "soak: churn and doorbells for IVSHM_SOAK_SECONDS; ivshmd's fds and RSS stay flat" {
	local secs=${IVSHM_SOAK_SECONDS:-45}
	run -0 env IVSHM_SOAK_SECONDS="$secs" BUILD="$IVSHM_BUILD" \
		timeout $((secs + 120)) "$IVSHM_TOP/tests/tools/soak"
	echo "$output" | grep -E '^(start|end|soak: ivshmd)' | sed 's/^/# /' >&3
	assert_line --regexp '^start fds=[0-9]+ rss_kib=[0-9]+$'
	assert_line --regexp '^end fds=[0-9]+ rss_kib=[0-9]+ cycles=[1-9][0-9]* doorbells=([0-9]+) received=\1$'
	assert_line "soak: flat"
}
