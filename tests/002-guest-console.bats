#!/usr/bin/env bats
# The guest console contract: contracts/guest-console.sh (shell: the guest's init, the
# host scripts, the tests) and contracts/guest-console.h (C) define the same markers,
# print the same lines and read the same exit status; nothing else spells a marker.

load helpers/common

setup_file() {
	export SCRATCH="$(scratch_dir)"
	rm -rf "$SCRATCH"/*
	# A C program that prints and reads markers through the header only.
	cat >"$SCRATCH/console.c" <<-'C'
		#include <stdio.h>
		#include <string.h>
		#include "guest-console.h"

		int main(int argc, char **argv)
		{
			char line[4096];
			int status, err;

			if (argc > 1 && strcmp(argv[1], "names") == 0) {
				printf("%s\n%s\n%s\n%s\n", IVSHM_CONSOLE_READY, IVSHM_CONSOLE_ERROR,
				       IVSHM_CONSOLE_EXIT, IVSHM_GUEST_CMD);
				return 0;
			}
			if (argc > 1 && strcmp(argv[1], "print") == 0) {
				printf(IVSHM_CONSOLE_READY_FMT, "6.1.0-56-cloud-amd64", 2u);
				printf(IVSHM_CONSOLE_ERROR_FMT, "modprobe uio_ivshmem failed: x");
				printf(IVSHM_CONSOLE_EXIT_FMT, 137);
				return 0;
			}
			/* read: one verdict per input line */
			while (fgets(line, sizeof(line), stdin)) {
				line[strcspn(line, "\n")] = '\0';
				err = ivshm_console_exit_status(line, &status);
				if (err)
					printf("none %s\n", err == -ERANGE ? "ERANGE" : "EINVAL");
				else
					printf("status %d\n", status);
			}
			return 0;
		}
	C
	cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$IVSHM_TOP/contracts" \
		-o "$SCRATCH/console" "$SCRATCH/console.c"
}

teardown_file() {
	scratch_teardown
}

@test "C and shell name the same markers and script path" {
	run -0 "$SCRATCH/console" names
	assert_output "$(printf '%s\n' "$IVSHM_CONSOLE_READY" "$IVSHM_CONSOLE_ERROR" \
		"$IVSHM_CONSOLE_EXIT" "$IVSHM_GUEST_CMD")"
	assert_line --index 0 IVSHM-GUEST-READY
	assert_line --index 1 IVSHM-GUEST-ERROR
	assert_line --index 2 IVSHM-GUEST-EXIT
}

@test "C formats and shell printers write the same lines, which the regexps match" {
	run -0 "$SCRATCH/console" print
	local c=$output
	run -0 sh -c '. "$1"; ivshm_console_print_ready 6.1.0-56-cloud-amd64 2
		ivshm_console_print_error modprobe uio_ivshmem failed: x
		ivshm_console_print_exit 137' - "$IVSHM_TOP/contracts/guest-console.sh"
	assert_equal "$output" "$c"
	assert_line --index 0 'IVSHM-GUEST-READY kernel=6.1.0-56-cloud-amd64 uio=2'
	assert_line --index 1 'IVSHM-GUEST-ERROR modprobe uio_ivshmem failed: x'
	assert_line --index 2 'IVSHM-GUEST-EXIT status=137'
	assert_line --index 0 --regexp "$IVSHM_CONSOLE_READY_RE"
	assert_line --index 1 --regexp "$IVSHM_CONSOLE_ERROR_RE"
	assert_line --index 2 --regexp "$IVSHM_CONSOLE_EXIT_RE"
	refute_line --index 0 --regexp "$IVSHM_CONSOLE_EXIT_RE"
}

@test "busybox sh, as in the guest, prints the same lines" {
	run -0 busybox sh -c '. "$1"; ivshm_console_print_ready r 0; ivshm_console_print_exit 0' \
		- "$IVSHM_TOP/contracts/guest-console.sh"
	assert_output "$(printf 'IVSHM-GUEST-READY kernel=r uio=0\nIVSHM-GUEST-EXIT status=0')"
}

@test "C and shell read the same exit status from the same lines, hostile ones included" {
	local lines=(
		'IVSHM-GUEST-EXIT status=0'
		$'IVSHM-GUEST-EXIT status=137\r'
		'IVSHM-GUEST-EXIT status=3[    5.123456] reboot: Power down'
		'IVSHM-GUEST-EXIT status='
		'IVSHM-GUEST-EXIT status=x1'
		'IVSHM-GUEST-EXIT  status=1'
		' IVSHM-GUEST-EXIT status=1'
		'xIVSHM-GUEST-EXIT status=1'
		'IVSHM-GUEST-READY kernel=6.1 uio=1'
		''
	)
	local line c sh
	for line in "${lines[@]}"; do
		c=$(printf '%s\n' "$line" | "$SCRATCH/console" read)
		printf '%s\n' "$line" >"$BATS_TEST_TMPDIR/log"
		if sh=$(ivshm_console_exit_status "$BATS_TEST_TMPDIR/log"); then
			sh="status $sh"
		else
			sh="none EINVAL"
		fi
		assert_equal "$sh" "$c"
	done
	# Only the C reader has a fixed width to guard.
	run -0 sh -c 'echo "IVSHM-GUEST-EXIT status=99999999999" | "$1" read' - "$SCRATCH/console"
	assert_output "none ERANGE"
}

@test "the readers take the last exit marker and report none before it" {
	local log="$BATS_TEST_TMPDIR/log"
	printf '[    0.1] Linux version\r\nIVSHM-GUEST-READY kernel=v uio=1\r\nIVSHM-GUEST-ERROR one\r\n' >"$log"
	printf 'IVSHM-GUEST-ERROR two words\r\nrole output\r\n' >>"$log"
	run -0 ivshm_console_is_ready "$log"
	run -1 ivshm_console_has_exited "$log"
	run -1 ivshm_console_exit_status "$log"
	assert_output ''
	run -0 ivshm_console_errors "$log"
	assert_output "$(printf 'one\ntwo words')"
	run -0 ivshm_console_transcript "$log"
	refute_line --partial 'Linux version'
	assert_line 'role output'
	printf 'IVSHM-GUEST-EXIT status=4\r\nIVSHM-GUEST-EXIT status=0\r\n' >>"$log"
	run -0 ivshm_console_exit_status "$log"
	assert_output 0
	run -0 ivshm_console_has_exited "$log"
	# A log not written yet has no markers, and that is no error.
	run -1 ivshm_console_is_ready "$BATS_TEST_TMPDIR/no-such.log"
	assert_output ''
	run -1 ivshm_console_exit_status "$BATS_TEST_TMPDIR/no-such.log"
	assert_output ''
}

@test "a transcript shows whole lines only: a kernel message cut off at power-off is left out" {
	local log=$BATS_TEST_TMPDIR/console.log
	printf '%s\r\n' 'IVSHM-GUEST-READY kernel=6.1.0-56-cloud-amd64 uio=1' \
		'[    1.234567] uio_ivshmem 0000:00:04.0: doorbell, 4 vectors' \
		'New content: Hello from client, too!' 'IVSHM-GUEST-EXIT status=0' >"$log"
	printf '[' >>"$log"
	run -0 ivshm_console_transcript "$log"
	assert_output "$(printf '%s\n' 'IVSHM-GUEST-READY kernel=6.1.0-56-cloud-amd64 uio=1' \
		'New content: Hello from client, too!' 'IVSHM-GUEST-EXIT status=0')"
	# A guest line still being written is left out too; a log that ends a line keeps it.
	printf 'Setting new con' >>"$log"
	run -0 ivshm_console_transcript "$log"
	assert_line --index 2 'IVSHM-GUEST-EXIT status=0'
	refute_output --partial 'Setting'
	printf '\n' >>"$log"
	run -0 ivshm_console_transcript "$log"
	assert_line --index 3 '[Setting new con'
}

@test "the guest image's init prints through the contract it carries" {
	run -0 sh -c 'zcat "$1" | cpio -i --quiet --to-stdout lib/ivshm/guest-console.sh' - \
		"$IVSHM_BUILD/guest/initrd.img"
	assert_equal "$output" "$(cat "$IVSHM_TOP/contracts/guest-console.sh")"
	run -0 grep -c 'ivshm_console_print_' "$IVSHM_TOP/host/guest-image/init"
	[ "$output" -ge 3 ]
}

@test "no host script, helper or benchmark spells a marker itself" {
	run -0 grep -rlE --exclude='*.md' 'IVSHM-GUEST-(READY|ERROR|EXIT)' "$IVSHM_TOP/host" \
		"$IVSHM_TOP/tests/helpers" "$IVSHM_TOP/tests/bench" "$IVSHM_TOP/tests/guest-helpers"
	# Only the init's header comment, which documents them.
	assert_output "$IVSHM_TOP/host/guest-image/init"
	run -1 grep -E '^[^#]*IVSHM-GUEST-' "$IVSHM_TOP/host/guest-image/init"
}
