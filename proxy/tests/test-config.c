// SPDX-License-Identifier: GPL-2.0-or-later
/* The configuration: every key, bad values with the reason, files with line numbers, cross checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char err[512];

static int set(struct proxy_config *c, const char *k, const char *v)
{
	err[0] = '\0';
	return config_set(c, k, v, err, sizeof(err));
}

static void every_key(void **state)
{
	struct proxy_config c;

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "name", "vm1"), 0);
	assert_string_equal(c.role, "proxy-vm1");
	assert_int_equal(set(&c, "server", "/run/ivshm/ivshmd.sock"), 0);
	assert_int_equal(set(&c, "vectors", "4"), 0);
	assert_int_equal(set(&c, "vector", "3"), 0);
	assert_int_equal(set(&c, "wait", "hybrid"), 0);
	assert_int_equal(c.wait, IVSHM_WAIT_HYBRID);
	assert_int_equal(set(&c, "spin-us", "200"), 0);
	assert_int_equal(set(&c, "control", "/tmp/x.ctl"), 0);
	assert_int_equal(set(&c, "conn-buffer", "64K"), 0);
	assert_int_equal(c.conn_buffer, 65536);
	assert_int_equal(set(&c, "max-conns", "2000"), 0);
	assert_int_equal(set(&c, "ring", "128K"), 0);
	assert_int_equal(set(&c, "connect-timeout", "500"), 0);
	assert_int_equal(set(&c, "export", "web tcp:127.0.0.1:80 allow proxy-a,proxy-b"), 0);
	assert_int_equal(set(&c, "export", "wl  seqpacket:/run/wl.sock  allow  *"), 0);
	assert_int_equal(set(&c, "import", "db@proxy-vm2 unix:/run/db.sock"), 0);
	assert_int_equal(c.n_exports, 2);
	assert_int_equal(c.exports[0].n_allow, 2);
	assert_true(config_allowed(&c.exports[0], "proxy-b"));
	assert_false(config_allowed(&c.exports[0], "proxy-c"));
	assert_false(config_allowed(&c.exports[0], "proxy"));
	assert_true(config_allowed(&c.exports[1], "anyone"));
	assert_int_equal(c.exports[1].target.kind, ADDR_SEQPACKET);
	assert_string_equal(c.imports[0].role, "proxy-vm2");
	assert_string_equal(c.imports[0].service, "db");
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	config_free(&c);
}

static void bad_values_say_why(void **state)
{
	static const char *const bad[][3] = {
		{ "name", "a b", "name:" },
		{ "name", "0123456789abcdefgh", "name:" },
		{ "wait", "spin", "interrupt, hybrid or poll" },
		{ "vectors", "65", "vectors:" },
		{ "conn-buffer", "1K", "conn-buffer:" },
		{ "conn-buffer", "17M", "conn-buffer:" },
		{ "max-conns", "0", "max-conns:" },
		{ "ring", "5000", "power of two" },
		{ "export", "web tcp:127.0.0.1:80", "allow" },
		{ "export", "w/b tcp:127.0.0.1:80 allow *", "service name" },
		{ "export", "web tcp:localhost:80 allow *", "numeric" },
		{ "export", "web tcp:127.0.0.1:65536 allow *", "port" },
		{ "export", "web udp:1.2.3.4:5 allow *", "tcp:HOST:PORT" },
		{ "export", "web tcp:127.0.0.1:80 allow ,", "empty allow" },
		{ "import", "web tcp:127.0.0.1:80", "SERVICE@ROLE" },
		{ "import", "web@ unix:/x", "not a role" },
		{ "frobnicate", "1", "unknown setting" },
	};
	struct proxy_config c;
	size_t i;

	(void)state;
	config_init(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(set(&c, bad[i][0], bad[i][1]), -EINVAL);
		if (!strstr(err, bad[i][2]))
			fail_msg("%s %s: '%s' does not say '%s'", bad[i][0], bad[i][1], err, bad[i][2]);
	}
	assert_int_equal(c.n_exports, 0);
	assert_int_equal(c.n_imports, 0);
	config_free(&c);
}

static void file_with_line_numbers(void **state)
{
	char path[] = "/tmp/test-config-XXXXXX";
	struct proxy_config c;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# a proxy\n\nname   vm1   # trailing comment\n\texport web tcp:[::1]:8080 allow *\n"
	      "import x@proxy-vm2 tcp:0.0.0.0:0\r\nwait poll\nbogus 1\n", f);
	fclose(f);
	config_init(&c);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":7: unknown setting 'bogus'"));
	assert_string_equal(c.name, "vm1");
	assert_string_equal(c.exports[0].target.text, "tcp:[::1]:8080");
	assert_string_equal(c.imports[0].listen.text, "tcp:0.0.0.0:0");
	assert_int_equal(c.wait, IVSHM_WAIT_POLL);
	config_free(&c);
	unlink(path);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -ENOENT);
}

static void cross_checks(void **state)
{
	struct proxy_config c;

	(void)state;
	config_init(&c);
	assert_int_equal(config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no name"));
	assert_int_equal(set(&c, "name", "n"), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.control, "/run/ivshm/proxy-n.ctl");
	assert_int_equal(set(&c, "export", "web unix:/a allow *"), 0);
	assert_int_equal(set(&c, "export", "web unix:/b allow *"), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "exported twice"));
	config_free(&c);
	config_init(&c);
	assert_int_equal(set(&c, "name", "n"), 0);
	assert_int_equal(set(&c, "import", "a@proxy-x tcp:127.0.0.1:9000"), 0);
	assert_int_equal(set(&c, "import", "b@proxy-y tcp:127.0.0.1:9000"), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "already import a's"));
	config_free(&c);
	config_init(&c);
	assert_int_equal(set(&c, "name", "n"), 0);
	assert_int_equal(set(&c, "import", "a@proxy-x tcp:127.0.0.1:0"), 0);
	assert_int_equal(set(&c, "import", "b@proxy-y tcp:127.0.0.1:0"), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	config_free(&c);
	config_init(&c);
	assert_int_equal(set(&c, "name", "n"), 0);
	assert_int_equal(set(&c, "device", "/dev/uio0"), 0);
	assert_int_equal(set(&c, "server", "/run/s.sock"), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), -EINVAL);
	config_free(&c);
}

static void printed_config_reads_back(void **state)
{
	struct proxy_config c, d;
	char *text = NULL, path[] = "/tmp/test-config-XXXXXX";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int fd = mkstemp(path);

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "name", "vm1"), 0);
	assert_int_equal(set(&c, "server", "/run/s.sock"), 0);
	assert_int_equal(set(&c, "export", "web tcp:127.0.0.1:80 allow proxy-a,proxy-b"), 0);
	assert_int_equal(set(&c, "import", "db@proxy-vm2 seqpacket:@db"), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	config_print(&c, f);
	fclose(f);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	config_init(&d);
	assert_int_equal(config_load(&d, path, err, sizeof(err)), 0);
	assert_int_equal(config_finish(&d, err, sizeof(err)), 0);
	assert_string_equal(d.exports[0].allow[1], "proxy-b");
	assert_string_equal(d.imports[0].listen.text, "seqpacket:@db");
	assert_string_equal(d.control, c.control);
	unlink(path);
	free(text);
	config_free(&c);
	config_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_key),
		cmocka_unit_test(bad_values_say_why),
		cmocka_unit_test(file_with_line_numbers),
		cmocka_unit_test(cross_checks),
		cmocka_unit_test(printed_config_reads_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
