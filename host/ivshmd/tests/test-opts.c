// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd's command line (opts.c): QEMU ivshmem-server's short options read
 * as QEMU reads them (-n 010 is octal, -n 0x4 hex, -n 0 allowed; -l rounded
 * up to a power of two), the long options, and refusal of bad values.
 */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "msg.h"
#include "opts.h"

#define MAX_ARGS 160

/* What the last parse printed, stdout and stderr together. */
static char output[16384];

/* Runs ivshmd_opts_parse() with getopt started afresh and its output captured. */
static int run_parse(struct ivshmd_opts *o, int argc, char **argv)
{
	int tmp, out, err, ret;
	ssize_t n;

	fflush(stdout);
	fflush(stderr);
	tmp = memfd_create("opts-output", MFD_CLOEXEC);
	out = dup(1);
	err = dup(2);
	assert_true(tmp >= 0 && out >= 0 && err >= 0);
	assert_int_equal(dup2(tmp, 1), 1);
	assert_int_equal(dup2(tmp, 2), 2);
	optind = 0;
	ret = ivshmd_opts_parse(o, argc, argv);
	fflush(stdout);
	fflush(stderr);
	assert_int_equal(dup2(out, 1), 1);
	assert_int_equal(dup2(err, 2), 2);
	n = pread(tmp, output, sizeof(output) - 1, 0);
	assert_true(n >= 0);
	output[n] = '\0';
	close(tmp);
	close(out);
	close(err);
	return ret;
}

/* Parses the NULL-terminated arguments after "ivshmd". */
static int parse(struct ivshmd_opts *o, ...)
{
	static char *argv[MAX_ARGS + 2];
	int argc = 0;
	va_list ap;

	argv[argc++] = "ivshmd";
	va_start(ap, o);
	for (char *a = va_arg(ap, char *); a; a = va_arg(ap, char *)) {
		assert_true(argc <= MAX_ARGS);
		argv[argc++] = a;
	}
	va_end(ap);
	argv[argc] = NULL;
	return run_parse(o, argc, argv);
}

static void expect_output(const char *want)
{
	if (!strstr(output, want))
		fail_msg("expected \"%s\" in: %s", want, output);
}

/* Accepted, and silently (a rounded size warns: see sizes_rounded_up). */
#define OK(o, ...) do { \
	assert_int_equal(parse(o, __VA_ARGS__, NULL), 0); \
	assert_string_equal(output, ""); \
} while (0)

/* Refused with a message that says why. */
#define BAD(o, why, ...) do { \
	assert_int_equal(parse(o, __VA_ARGS__, NULL), -EINVAL); \
	expect_output(why); \
} while (0)

/* The server page is on by default; --no-publish-peers turns it off, the last one wins. */
static void publish_peers(void **state)
{
	struct ivshmd_opts o;

	(void)state;
	OK(&o, "--no-publish-peers");
	assert_false(o.cfg.publish_peers);
	OK(&o, "--publish-peers");
	assert_true(o.cfg.publish_peers);
	OK(&o, "--publish-peers", "--no-publish-peers");
	assert_false(o.cfg.publish_peers);
	OK(&o, "--no-publish-peers", "--publish-peers");
	assert_true(o.cfg.publish_peers);
}

static void defaults(void **state)
{
	struct ivshmd_opts o;

	(void)state;
	assert_int_equal(parse(&o, NULL), 0);
	assert_string_equal(output, "");
	assert_string_equal(o.cfg.socket_path, IVSHM_DEFAULT_SOCKET);
	assert_int_equal(o.cfg.shm_kind, IVSHMD_SHM_MEMFD);
	assert_true(o.cfg.shm_size == 64 << 20);
	assert_true(o.cfg.publish_peers);
	assert_int_equal(o.cfg.vectors, 1);
	assert_int_equal(o.cfg.max_peers, 256);
	assert_int_equal(o.cfg.queue_limit, 0);
	assert_int_equal(o.cfg.send_timeout_ms, 10000);
	assert_int_equal(o.cfg.sock_mode, 0660);
	assert_int_equal(o.cfg.sock_gid, (gid_t)-1);
	assert_int_equal(o.cfg.npins, 0);
	assert_ptr_equal(o.cfg.pins, o.pins);
	assert_false(o.foreground);
	assert_false(o.list);
	assert_null(o.pidfile);
	assert_int_equal(o.verbose, 0);
}

/* The command line QEMU's docs show for its server works unchanged. */
static void qemu_short_options(void **state)
{
	struct ivshmd_opts o;

	(void)state;
	OK(&o, "-v", "-F", "-p", "/run/x.pid", "-S", "/tmp/sock", "-M", "shmname", "-l", "64K",
	   "-n", "3", "-v");
	assert_int_equal(o.verbose, 2);
	assert_true(o.foreground);
	assert_string_equal(o.pidfile, "/run/x.pid");
	assert_string_equal(o.cfg.socket_path, "/tmp/sock");
	assert_int_equal(o.cfg.shm_kind, IVSHMD_SHM_POSIX);
	assert_string_equal(o.cfg.shm_where, "shmname");
	assert_true(o.cfg.shm_size == 65536);
	assert_int_equal(o.cfg.vectors, 3);
	OK(&o, "-m", "/dev/hugepages");
	assert_int_equal(o.cfg.shm_kind, IVSHMD_SHM_DIR);
	assert_string_equal(o.cfg.shm_where, "/dev/hugepages");
	BAD(&o, "ivshmd: error: -m '/tmp': -M and -m exclude each other", "-M", "x", "-m", "/tmp");
	BAD(&o, "ivshmd: error: -M 'x': -M and -m exclude each other", "-m", "/tmp", "-M", "x");
}

static void long_options(void **state)
{
	struct ivshmd_opts o;

	(void)state;
	OK(&o, "--socket", "/s", "--size", "1G", "--vectors", "64", "--foreground",
	   "--pidfile", "/p", "--verbose", "--group", "0", "--mode", "0600", "--peer", "vm=7",
	   "--max-peers", "65536", "--queue-limit", "1000", "--send-timeout", "1", "--list",
	   "--shm-dir", "/d");
	assert_string_equal(o.cfg.socket_path, "/s");
	assert_true(o.cfg.shm_size == 1 << 30);
	assert_int_equal(o.cfg.vectors, 64);
	assert_true(o.foreground);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.cfg.sock_gid, 0);
	assert_int_equal(o.cfg.sock_mode, 0600);
	assert_int_equal(o.cfg.npins, 1);
	assert_string_equal(o.pins[0].name, "vm");
	assert_int_equal(o.pins[0].id, 7);
	assert_int_equal(o.cfg.max_peers, 65536);
	assert_int_equal(o.cfg.queue_limit, 1000);
	assert_int_equal(o.cfg.send_timeout_ms, 1);
	assert_true(o.list);
	assert_int_equal(o.cfg.shm_kind, IVSHMD_SHM_DIR);
}

/* QEMU reads -n with strtoull base 0. */
static void vectors_as_qemu_reads_them(void **state)
{
	static const struct { const char *arg; unsigned want; } good[] = {
		{ "0", 0 }, { "1", 1 }, { "4", 4 }, { "64", 64 }, { "010", 8 }, { "0100", 64 },
		{ "00", 0 }, { "0x4", 4 }, { "0X40", 64 }, { "0x0", 0 },
	};
	static const char *const bad[] = {
		"65", "0101", "0x41", "08", "-1", "+1", "", " 4", "4 ", "x", "0x", "4k", "1e1",
	};
	struct ivshmd_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		OK(&o, "-n", good[i].arg);
		assert_int_equal(o.cfg.vectors, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD(&o, "': must be 0 to 64", "-n", bad[i]);
}

/* QEMU rounds -l up to a power of two; so do we, between 4K and 512G, with a warning. */
static void sizes_rounded_up(void **state)
{
	static const struct { const char *arg; uint64_t want; } exact[] = {
		{ "4K", 4096 }, { "4k", 4096 }, { "4096", 4096 }, { "4M", 4 << 20 },
		{ "512G", UINT64_C(512) << 30 }, { "0x400000", 4 << 20 }, { "0X1000", 4096 },
	}, rounded[] = {
		{ "3M", 4 << 20 }, { "4097", 8192 }, { "5000", 8192 }, { "1000M", 1 << 30 },
		{ "0x1001", 8192 }, { "511G", UINT64_C(512) << 30 },
	};
	static const char *const bad[] = {
		"0", "1", "4095", "2K", "513G", "1T", "0x0", "12X", "1.5M", "", "-4M", "4 M",
		"0x", "0x10M", "4MB", "99999999999999999999", "0x10000000000000000",
	};
	struct ivshmd_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		OK(&o, "-l", exact[i].arg);
		assert_true(o.cfg.shm_size == exact[i].want);
	}
	for (size_t i = 0; i < sizeof(rounded) / sizeof(rounded[0]); i++) {
		assert_int_equal(parse(&o, "-l", rounded[i].arg, NULL), 0);
		assert_true(o.cfg.shm_size == rounded[i].want);
		expect_output("is not a power of two: rounded up to");
	}
	expect_output("ivshmd: warning: --size '511G' (548682072064 bytes) is not a power of two: "
		      "rounded up to 549755813888");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD(&o, "ivshmd: error: --size '", "--size", bad[i]);
	BAD(&o, "--size '1T': must be from 4K to 512G", "-l", "1T");
	BAD(&o, "--size '1.5M': expected a number with an optional K, M, G or T suffix", "-l", "1.5M");
}

static void socket_modes(void **state)
{
	static const struct { const char *arg; mode_t want; } good[] = {
		{ "0660", 0660 }, { "660", 0660 }, { "0600", 0600 }, { "0", 0 }, { "0770", 0770 },
	};
	static const char *const bad[] = {
		"0666", "0661", "0777", "01660", "00660", "0x1b0", "8", "0668", "", "-660",
		" 660", "660 ", "+660", "u=rw",
	};
	struct ivshmd_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		OK(&o, "--mode", good[i].arg);
		assert_int_equal(o.cfg.sock_mode, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD(&o, "ivshmd: error: --mode '", "--mode", bad[i]);
	BAD(&o, "sockets are never accessible to others", "--mode", "0664");
	BAD(&o, "expected an octal mode such as 0660", "--mode", "0680");
}

/* `-P pI=I` for I below n. */
static int parse_pins(struct ivshmd_opts *o, int n)
{
	static char names[MAX_ARGS / 2][16];
	static char *argv[MAX_ARGS + 2];
	int argc = 0;

	assert_true(n <= MAX_ARGS / 2);
	argv[argc++] = "ivshmd";
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d=%d", i, i);
		argv[argc++] = "-P";
		argv[argc++] = names[i];
	}
	argv[argc] = NULL;
	return run_parse(o, argc, argv);
}

/* Name syntax (no "ctl", no '/') and clashes are the server's checks; the form is ours. */
static void pins(void **state)
{
	static const char *const bad[] = {
		"server", "=1", "vm=", "vm=65536", "vm=-1", "vm=0x10", "vm= 1",
		"a23456789012345678901234567890123=1",
	};
	struct ivshmd_opts o;

	(void)state;
	OK(&o, "-P", "server=1", "--peer", "client=65535",
	   "-P", "a2345678901234567890123456789012=0");
	assert_int_equal(o.cfg.npins, 3);
	assert_string_equal(o.pins[0].name, "server");
	assert_int_equal(o.pins[0].id, 1);
	assert_string_equal(o.pins[1].name, "client");
	assert_int_equal(o.pins[1].id, 65535);
	assert_int_equal(strlen(o.pins[2].name), IVSHMD_PIN_NAME_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD(&o, "ivshmd: error: --peer '", "--peer", bad[i]);
	assert_int_equal(parse_pins(&o, IVSHMD_MAX_PINS), 0);
	assert_int_equal(o.cfg.npins, IVSHMD_MAX_PINS);
	assert_int_equal(o.pins[IVSHMD_MAX_PINS - 1].id, IVSHMD_MAX_PINS - 1);
	assert_int_equal(parse_pins(&o, IVSHMD_MAX_PINS + 1), -EINVAL);
	expect_output("too many pinned peers");
}

static void groups(void **state)
{
	struct ivshmd_opts o;

	(void)state;
	OK(&o, "-g", "0");
	assert_int_equal(o.cfg.sock_gid, 0);
	OK(&o, "-g", "root");
	assert_int_equal(o.cfg.sock_gid, 0);
	OK(&o, "-g", "4242");
	assert_int_equal(o.cfg.sock_gid, 4242);
	BAD(&o, "--group 'no-such-group-ivshm-unit': no such group", "-g", "no-such-group-ivshm-unit");
	BAD(&o, "--group '': no such group", "-g", "");
}

static void server_limits(void **state)
{
	struct ivshmd_opts o;

	(void)state;
	OK(&o, "--max-peers", "1", "--send-timeout", "3600000");
	assert_int_equal(o.cfg.max_peers, 1);
	assert_int_equal(o.cfg.send_timeout_ms, 3600000);
	BAD(&o, "--max-peers '0': must be 1 to 65536", "--max-peers", "0");
	BAD(&o, "--max-peers '65537': must be 1 to 65536", "--max-peers", "65537");
	BAD(&o, "--send-timeout '0': must be 1 to 3600000 ms", "--send-timeout", "0");
	BAD(&o, "must be 1 to 3600000 ms", "--send-timeout", "3600001");
	BAD(&o, "--queue-limit '0': expected a positive number", "--queue-limit", "0");
	BAD(&o, "--queue-limit '-1': expected a positive number", "--queue-limit", "-1");
}

static void help_and_mistakes(void **state)
{
	struct ivshmd_opts o;

	(void)state;
	assert_int_equal(parse(&o, "--help", NULL), 1);
	expect_output("Usage: ivshmd [OPTIONS]");
	assert_int_equal(parse(&o, "-h", "-n", "x", NULL), 1);
	BAD(&o, "unrecognized option '--bogus'", "--bogus");
	expect_output("Usage: ivshmd [OPTIONS]");
	BAD(&o, "invalid option -- 'Z'", "-Z");
	BAD(&o, "ivshmd: error: unexpected argument 'extra'", "extra");
	BAD(&o, "option requires an argument -- 'n'", "-n");
	BAD(&o, "unexpected argument 'leftover'", "-S", "/s", "leftover");
}

int main(void)
{
	ivshm_msg_init("ivshmd");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(publish_peers),
		cmocka_unit_test(qemu_short_options),
		cmocka_unit_test(long_options),
		cmocka_unit_test(vectors_as_qemu_reads_them),
		cmocka_unit_test(sizes_rounded_up),
		cmocka_unit_test(socket_modes),
		cmocka_unit_test(pins),
		cmocka_unit_test(groups),
		cmocka_unit_test(server_limits),
		cmocka_unit_test(help_and_mistakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
