// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd's choice of unpinned peer IDs (ids.c): upward from the last one
 * handed out, skipping taken and pinned IDs, wrapping at the top as QEMU's
 * ivshmem-server does, so a just-freed ID is the last one reused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ids.h"

#define NIDS 65536u

static bool used[NIDS];

static bool taken(const void *ctx, unsigned id)
{
	(void)ctx;
	return used[id];
}

/* Take the next ID as ivshmd would, marking it used. */
static int take(unsigned *next)
{
	int id = ivshmd_ids_pick(NIDS, next, taken, NULL);

	if (id >= 0)
		used[id] = true;
	return id;
}

static int reset(void **state)
{
	(void)state;
	memset(used, 0, sizeof(used));
	return 0;
}

static void upward_from_zero(void **state)
{
	unsigned next = 0;

	(void)state;
	assert_int_equal(take(&next), 0);
	assert_int_equal(take(&next), 1);
	assert_int_equal(take(&next), 2);
	assert_int_equal(next, 3);
}

/* A departed peer's ID is not handed to the next newcomer. */
static void freed_id_not_reused_at_once(void **state)
{
	unsigned next = 0;

	(void)state;
	assert_int_equal(take(&next), 0);
	assert_int_equal(take(&next), 1);
	used[1] = false;
	assert_int_equal(take(&next), 2);
	used[0] = false;
	assert_int_equal(take(&next), 3);
}

static void taken_and_pinned_ids_skipped(void **state)
{
	unsigned next = 0;

	(void)state;
	used[1] = used[2] = used[4] = true;
	assert_int_equal(take(&next), 0);
	assert_int_equal(take(&next), 3);
	assert_int_equal(take(&next), 5);
}

/* At the top it wraps to the lowest free ID, as QEMU's 16-bit counter does. */
static void wraps_at_the_top(void **state)
{
	unsigned next = NIDS - 2;

	(void)state;
	used[0] = true;
	assert_int_equal(take(&next), NIDS - 2);
	assert_int_equal(take(&next), NIDS - 1);
	assert_int_equal(next, 0);
	assert_int_equal(take(&next), 1);
	used[NIDS - 1] = false;
	assert_int_equal(take(&next), 2);
}

/* Every ID taken but one: found whatever the start; none free: -1. */
static void full_and_nearly_full(void **state)
{
	unsigned next = 17;

	(void)state;
	memset(used, 1, sizeof(used));
	used[5] = false;
	assert_int_equal(take(&next), 5);
	assert_int_equal(next, 6);
	assert_int_equal(take(&next), -1);
	assert_int_equal(next, 6);
	/* A start beyond the range (never set by ivshmd) is read as 0. */
	used[9] = false;
	next = NIDS + 3;
	assert_int_equal(take(&next), 9);
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(upward_from_zero),
		T(freed_id_not_reused_at_once),
		T(taken_and_pinned_ids_skipped),
		T(wraps_at_the_top),
		T(full_and_nearly_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
