// SPDX-License-Identifier: LGPL-2.1-or-later
/* The sysfs attribute readers of device discovery. */
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

#include "internal.h"

static void signed_attr(void **state)
{
	int v;

	(void)state;
	assert_int_equal(ivshm__parse_int("-1", -1, 65535, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(ivshm__parse_int("65535", -1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(ivshm__parse_int("-2", -1, 65535, &v), -ERANGE);
	assert_int_equal(ivshm__parse_int("65536", -1, 65535, &v), -ERANGE);
	assert_int_equal(ivshm__parse_int("-", -1, 65535, &v), -EINVAL);
	assert_int_equal(ivshm__parse_int("--1", -1, 65535, &v), -EINVAL);
	assert_int_equal(ivshm__parse_int("-1", 0, 10, &v), -ERANGE);
}

static void read_attr(void **state)
{
	char path[] = "/tmp/ivshm-attr-XXXXXX", buf[8];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("doorbell\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(ivshm__read_attr(path, buf, sizeof(buf)), -EOVERFLOW);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("plain\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(ivshm__read_attr(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "plain");
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite("a\0b", 1, 3, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(ivshm__read_attr(path, buf, sizeof(buf)), -EBADMSG);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ivshm__read_attr(path, buf, sizeof(buf)), -ENOENT);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(signed_attr),
		T(read_attr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
