// SPDX-License-Identifier: LGPL-2.1-or-later
/* The programs' address parsing and latency percentiles. */
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

#include "parse.h"
#include "stats.h"

static void host_port(void **state)
{
	char host[16];
	uint16_t port;

	(void)state;
	assert_int_equal(parse_host_port("10.0.0.2:5201", host, sizeof(host), &port), 0);
	assert_string_equal(host, "10.0.0.2");
	assert_int_equal(port, 5201);
	assert_int_equal(parse_host_port("10.0.0.2", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(parse_host_port("10.0.0.2:0", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(parse_host_port("10.0.0.2:65536", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(parse_host_port(":80", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(parse_host_port("host:80", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(parse_host_port("255.255.255.255:1", host, 8, &port), -EINVAL);
}

static void percentiles(void **state)
{
	int64_t s[100], one = 42;
	struct latency_stats st;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		s[i] = 100 - i;
	assert_int_equal(stats_summarize(s, 100, &st), 0);
	assert_int_equal(st.min, 1);
	assert_int_equal(st.p50, 50);
	assert_int_equal(st.p99, 99);
	assert_int_equal(st.max, 100);
	assert_int_equal(stats_summarize(&one, 1, &st), 0);
	assert_int_equal(st.p50, 42);
	assert_int_equal(st.p99, 42);
	assert_int_equal(stats_summarize(s, 0, &st), -EINVAL);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(host_port),
		T(percentiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
