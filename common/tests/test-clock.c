// SPDX-License-Identifier: LGPL-2.1-or-later
/* The monotonic clock's units agree with each other and sleeping moves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"

static void units_agree_and_sleep_advances(void **state)
{
	int64_t ns = ivshm_clock_ns(), us = ivshm_clock_us(), ms = ivshm_clock_ms();

	(void)state;
	assert_true(ns > 0);
	assert_true(us >= ns / 1000 && us - ns / 1000 < 1000000);
	assert_true(ms >= ns / 1000000 && ms - ns / 1000000 < 1000);
	ivshm_clock_sleep_ms(20);
	assert_true(ivshm_clock_ns() - ns >= 20 * 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(units_agree_and_sleep_advances),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
