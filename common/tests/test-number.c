// SPDX-License-Identifier: LGPL-2.1-or-later
/* Strict number parsing: every spelling the flags allow, and nothing else. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "number.h"

#define HEX IVSHM_NUM_HEX
#define OCT IVSHM_NUM_OCT

static void decimal_and_bounds(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ivshm_num_parse("0", IVSHM_NUM_DEC, 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ivshm_num_parse("42", IVSHM_NUM_DEC, 0, 42, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ivshm_num_parse("18446744073709551615", IVSHM_NUM_DEC, 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(ivshm_num_parse("43", IVSHM_NUM_DEC, 0, 42, &v), -ERANGE);
	assert_int_equal(ivshm_num_parse("4", IVSHM_NUM_DEC, 5, 42, &v), -ERANGE);
	assert_int_equal(ivshm_num_parse("18446744073709551616", IVSHM_NUM_DEC, 0, UINT64_MAX, &v),
			 -ERANGE);
	/* Decimal only: a leading zero is just a zero, 0x is junk. */
	assert_int_equal(ivshm_num_parse("010", IVSHM_NUM_DEC, 0, 100, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(ivshm_num_parse("0x10", IVSHM_NUM_DEC, 0, 100, &v), -EINVAL);
}

static void hex_and_octal_when_asked(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ivshm_num_parse("0x1F", HEX, 0, 100, &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(ivshm_num_parse("0X00001000", HEX, 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ivshm_num_parse("0x10000000000000000", HEX, 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(ivshm_num_parse("010", HEX | OCT, 0, 100, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(ivshm_num_parse("0", HEX | OCT, 0, 100, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ivshm_num_parse("08", OCT, 0, 100, &v), -EINVAL);
	assert_int_equal(ivshm_num_parse("0x", HEX, 0, 100, &v), -EINVAL);
}

static void junk_is_refused_and_output_untouched(void **state)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "12a", "1.5", "0b1", "1\n" };
	uint64_t v = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ivshm_num_parse(bad[i], HEX | OCT, 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(ivshm_num_parse(NULL, HEX, 0, 1, &v), -EINVAL);
	assert_int_equal(ivshm_num_parse("1", HEX, 0, 1, NULL), -EINVAL);
	assert_int_equal(v, 7);
}

static void sizes_with_suffixes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ivshm_num_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ivshm_num_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ivshm_num_parse_size("4M", &v), 0);
	assert_int_equal(v, 4u << 20);
	assert_int_equal(ivshm_num_parse_size("2G", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(ivshm_num_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(ivshm_num_parse_size("16777216T", &v), -ERANGE);
	assert_int_equal(ivshm_num_parse_size("4MB", &v), -EINVAL);
	assert_int_equal(ivshm_num_parse_size("M", &v), -EINVAL);
	assert_int_equal(ivshm_num_parse_size("4 M", &v), -EINVAL);
	assert_int_equal(ivshm_num_parse_size("0x10", &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decimal_and_bounds),
		cmocka_unit_test(hex_and_octal_when_asked),
		cmocka_unit_test(junk_is_refused_and_output_untouched),
		cmocka_unit_test(sizes_with_suffixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
