// SPDX-License-Identifier: LGPL-2.1-or-later
/* The counter-page arithmetic behind ivshm_wait(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"

static void nothing_fired(void **state)
{
	uint64_t snap[4] = { 1, 2, 3, 4 }, now[4] = { 1, 2, 3, 4 }, fired = 9, coalesced = 9;

	(void)state;
	ivshm__counters_diff(snap, now, 4, &fired, &coalesced);
	assert_int_equal(fired, 0);
	assert_int_equal(coalesced, 0);
}

static void one_vector_once(void **state)
{
	uint64_t snap[4] = { 0 }, now[4] = { 0, 0, 1, 0 }, fired, coalesced;

	(void)state;
	ivshm__counters_diff(snap, now, 4, &fired, &coalesced);
	assert_int_equal(fired, 1u << 2);
	assert_int_equal(coalesced, 0);
	assert_int_equal(snap[2], 1);
	ivshm__counters_diff(snap, now, 4, &fired, &coalesced);
	assert_int_equal(fired, 0);
}

static void merged_events(void **state)
{
	uint64_t snap[3] = { 10, 10, 10 }, now[3] = { 13, 10, 11 }, fired, coalesced;

	(void)state;
	ivshm__counters_diff(snap, now, 3, &fired, &coalesced);
	assert_int_equal(fired, 0x5);
	assert_int_equal(coalesced, 2);
}

static void counter_wraps(void **state)
{
	uint64_t snap[1] = { UINT64_MAX }, now[1] = { 1 }, fired, coalesced;

	(void)state;
	ivshm__counters_diff(snap, now, 1, &fired, &coalesced);
	assert_int_equal(fired, 1);
	assert_int_equal(coalesced, 1);
}

static void top_vector_and_clamp(void **state)
{
	uint64_t snap[UIO_IVSHMEM_MAX_VECTORS] = { 0 }, now[UIO_IVSHMEM_MAX_VECTORS] = { 0 };
	uint64_t fired, coalesced;

	(void)state;
	now[63] = 1;
	ivshm__counters_diff(snap, now, 1000, &fired, &coalesced);
	assert_true(fired == UINT64_C(1) << 63);
	assert_int_equal(coalesced, 0);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(nothing_fired),
		T(one_vector_once),
		T(merged_events),
		T(counter_wraps),
		T(top_vector_and_clamp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
