#!/usr/bin/env bats
# The channel fuzz target, a bounded run: a peer whose every byte is chosen by
# libFuzzer must never crash the other end, make it touch memory outside the
# region (ASan) or hang it (libFuzzer's per-input timeout). `make fuzz` runs longer.

load helpers/common

setup_file() {
	make -s -C "$IVSHM_TOP/libivshm" fuzz-build >&2
	export FUZZ="$IVSHM_BUILD/fuzz/fuzz-channel"
	export WORK="$(scratch_dir)"
}

teardown_file() {
	rm -rf "$WORK"
}

@test "fuzz: 20 s of a corrupting peer against a channel end, no crash, leak or hang" {
	mkdir -p "$WORK/corpus"
	run timeout 120 "$FUZZ" -max_total_time=20 -timeout=5 -artifact_prefix="$WORK/" \
		-print_final_stats=1 "$WORK/corpus"
	assert_success
	assert_output --regexp 'stat::number_of_executed_units: [0-9]{4,}'
	refute_output --partial 'ERROR: AddressSanitizer'
	refute_output --partial 'runtime error'
	run bash -c "ls '$WORK' | grep -E '^(crash|leak|timeout|oom)-' || true"
	assert_output ''
}

@test "fuzz: the target does catch a library that trusts the peer (planted bug)" {
	# The same sources with the bounds check of the peer's half removed: the
	# fuzzer must steer the reader outside the region, and ASan must say so.
	local dir="$WORK/planted"
	mkdir -p "$dir/libivshm"
	cp "$IVSHM_TOP"/libivshm/src/* "$dir/libivshm/"
	python3 - "$dir/libivshm/chan-open.c" <<-'PY'
		import sys
		p = sys.argv[1]
		s = open(p).read()
		for check in ("e->half_off > r->l.arena_size ||", "end > r->l.arena_size ||"):
		    assert check in s, check
		    s = s.replace(check, "0 ||", 1)
		open(p, "w").write(s)
	PY
	run -0 clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -I"$dir/libivshm" -I"$IVSHM_TOP/libivshm/include" -I"$IVSHM_TOP/libivshm/tests" \
		-I"$IVSHM_TOP/contracts" -I"$IVSHM_TOP/common" -o "$dir/fuzz" \
		"$IVSHM_TOP/libivshm/fuzz/fuzz-channel.c" "$IVSHM_TOP/libivshm/tests/mem-dev.c" \
		"$dir"/libivshm/*.c "$IVSHM_TOP"/common/*.c -pthread
	run timeout 150 "$dir/fuzz" -max_total_time=120 -timeout=5 -artifact_prefix="$dir/"
	assert_failure
	assert_output --regexp 'AddressSanitizer|SEGV|runtime error'
}
