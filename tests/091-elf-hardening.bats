#!/usr/bin/env bats
# Every host binary, libivshm.so and the guest programs are built hardened
# (mk/common.mk): PIE (the guest programs static-PIE), full RELRO with
# immediate binding, no text relocations, fortified libc calls, and every
# object compiled with -fstack-protector-strong, -fstack-clash-protection and
# optimisation (read back from .GCC.command.line, which -frecord-gcc-switches
# keeps). Read from the ELF files with readelf.

load helpers/common

# elf_problems FILE exe|static|lib: one line per missing protection, none if hardened.
elf_problems() {
	local f=$1 kind=$2 hdr dyn seg syms cmds line
	hdr=$(readelf -hW "$f") || { echo "$f: not an ELF file"; return; }
	dyn=$(readelf -dW "$f")
	seg=$(readelf -lW "$f")
	syms=$(readelf -sW "$f")
	cmds=$(readelf -p .GCC.command.line "$f" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\] *//p')
	grep -q 'Type: *DYN' <<<"$hdr" || echo "$f: not position-independent (ELF type is not DYN)"
	if [ "$kind" != lib ]; then
		grep -qE 'FLAGS_1.*PIE' <<<"$dyn" || echo "$f: no PIE flag"
	fi
	if [ "$kind" = static ]; then
		! grep -q 'INTERP' <<<"$seg" || echo "$f: not static (has an interpreter)"
		! grep -q '(NEEDED)' <<<"$dyn" || echo "$f: not static (needs shared libraries)"
	fi
	grep -q 'GNU_RELRO' <<<"$seg" || echo "$f: no RELRO segment"
	grep -qE 'BIND_NOW|FLAGS_1.* NOW' <<<"$dyn" || echo "$f: no immediate binding (-z now): partial RELRO"
	! grep -q 'TEXTREL' <<<"$dyn" || echo "$f: text relocations"
	grep -qE ' __[a-z0-9_]+_chk(@|$)' <<<"$syms" || echo "$f: no fortified calls (_FORTIFY_SOURCE)"
	[ -n "$cmds" ] || echo "$f: no recorded compiler flags (-frecord-gcc-switches)"
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		case " $line " in *" -fstack-protector-strong "*) ;; *) echo "$f: built without -fstack-protector-strong: $line" ;; esac
		case " $line " in *" -fstack-clash-protection "*) ;; *) echo "$f: built without -fstack-clash-protection: $line" ;; esac
		grep -qE ' -O[123sg]( |$)' <<<" $line" || echo "$f: built without optimisation (no fortification): $line"
	done <<<"$cmds"
}

@test "the host programs are hardened" {
	local f
	for f in "$IVSHM_BIN/ivshmd" "$IVSHM_BIN/ivshm-peer" "$IVSHM_BUILD"/tests/tools/*; do
		assert_file_executable "$f"
		elf_problems "$f" exe >>"$BATS_TEST_TMPDIR/problems"
	done
	run -0 cat "$BATS_TEST_TMPDIR/problems"
	assert_output ""
}

@test "libivshm.so is hardened" {
	local so
	so=$(readlink -f "$IVSHM_BUILD/lib/libivshm.so")
	assert_file_exists "$so"
	run -0 elf_problems "$so" lib
	assert_output ""
	run -0 readelf -sW --dyn-syms "$so"
	assert_output --partial "__stack_chk_fail"
}

@test "the guest programs are static-PIE and hardened" {
	local f n=0
	for f in "$IVSHM_BUILD"/guest-apps/bin/*; do
		elf_problems "$f" static >>"$BATS_TEST_TMPDIR/problems"
		n=$((n + 1))
	done
	[ "$n" -ge 5 ]
	run -0 cat "$BATS_TEST_TMPDIR/problems"
	assert_output ""
}

# The check itself: a binary built without the flags is caught, each missing one by name.
@test "an unhardened binary is named with everything it lacks" {
	local d=$BATS_TEST_TMPDIR
	printf '#include <stdio.h>\nint main(int c, char **v) { char b[64]; snprintf(b, sizeof(b), "%%s", v[0]); puts(b); return c; }\n' >"$d/t.c"
	gcc -O0 -fno-stack-protector -no-pie -fno-pie -frecord-gcc-switches -o "$d/t" "$d/t.c"
	run -0 elf_problems "$d/t" exe
	assert_line "$d/t: not position-independent (ELF type is not DYN)"
	assert_line "$d/t: no PIE flag"
	assert_line "$d/t: no immediate binding (-z now): partial RELRO"
	assert_line "$d/t: no fortified calls (_FORTIFY_SOURCE)"
	assert_line --partial "$d/t: built without -fstack-protector-strong"
	assert_line --partial "$d/t: built without -fstack-clash-protection"
	assert_line --partial "$d/t: built without optimisation"
	gcc -O2 -static -o "$d/s" "$d/t.c"
	run -0 elf_problems "$d/s" static
	assert_line "$d/s: no PIE flag"
	assert_line "$d/s: no recorded compiler flags (-frecord-gcc-switches)"
}
