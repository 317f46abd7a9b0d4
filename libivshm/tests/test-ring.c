// SPDX-License-Identifier: LGPL-2.1-or-later
/* Ring arithmetic and records, right across the 2^32 wrap of the indices. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"

#define SIZE 4096u
#define NEAR_WRAP (UINT32_MAX - 100)

static void used_counts_across_the_wrap(void **state)
{
	uint32_t used = 7;

	(void)state;
	assert_int_equal(ivshm__ring_used(NEAR_WRAP, NEAR_WRAP, SIZE, &used), 0);
	assert_int_equal(used, 0);
	/* prod wrapped past 2^32, cons not yet: still 300 bytes. */
	assert_int_equal(ivshm__ring_used(NEAR_WRAP + 300, NEAR_WRAP, SIZE, &used), 0);
	assert_int_equal(used, 300);
	assert_int_equal(ivshm__ring_used(NEAR_WRAP + SIZE, NEAR_WRAP, SIZE, &used), 0);
	assert_int_equal(used, SIZE);
	/* More than the ring holds, or a producer behind its consumer: lies. */
	assert_int_equal(ivshm__ring_used(NEAR_WRAP + SIZE + 1, NEAR_WRAP, SIZE, &used), -EPROTO);
	assert_int_equal(ivshm__ring_used(NEAR_WRAP - 1, NEAR_WRAP, SIZE, &used), -EPROTO);
	assert_int_equal(used, SIZE);
}

static void copies_wrap_at_the_ring_end(void **state)
{
	static char ring[SIZE];
	char in[64], out[64];
	uint32_t at;
	int i;

	(void)state;
	for (i = 0; i < 64; i++)
		in[i] = (char)i;
	/* Index 2^32 - 32 sits 32 bytes before the ring's end: the copy splits. */
	at = UINT32_MAX - 31;
	ivshm__ring_put(ring, SIZE, at, in, sizeof(in));
	assert_memory_equal(ring + SIZE - 32, in, 32);
	assert_memory_equal(ring, in + 32, 32);
	memset(out, 0, sizeof(out));
	ivshm__ring_get(ring, SIZE, at, out, sizeof(out));
	assert_memory_equal(out, in, sizeof(in));
	/* The same bytes at index + 2^32 mod the ring: the position depends on the low bits. */
	ivshm__ring_get(ring, SIZE, at + SIZE, out, sizeof(out));
	assert_memory_equal(out, in, sizeof(in));
}

static void record_spans(void **state)
{
	(void)state;
	assert_int_equal(ivshm__rec_span(0), 8);
	assert_int_equal(ivshm__rec_span(1), 16);
	assert_int_equal(ivshm__rec_span(8), 16);
	assert_int_equal(ivshm__rec_span(64), 72);
}

static void records_are_checked(void **state)
{
	struct ivshm_shm_rec h;
	uint32_t span = 0, cons = NEAR_WRAP & ~7u;
	uint32_t to_end = SIZE - (cons & (SIZE - 1));

	(void)state;
	h = (struct ivshm_shm_rec){ .len = 64 };
	assert_int_equal(ivshm__rec_check(&h, cons, SIZE, 72, 1000, &span), 0);
	assert_int_equal(span, 72);
	/* Not all of it published, longer than the sender's maximum, unknown flags. */
	assert_int_equal(ivshm__rec_check(&h, cons, SIZE, 64, 1000, &span), -EPROTO);
	assert_int_equal(ivshm__rec_check(&h, cons, SIZE, 72, 63, &span), -EPROTO);
	h.flags = 2;
	assert_int_equal(ivshm__rec_check(&h, cons, SIZE, 72, 1000, &span), -EPROTO);
	/* A pad must fill exactly the rest of the ring. */
	h = (struct ivshm_shm_rec){ .len = to_end - 8, .flags = IVSHM_SHM_REC_PAD };
	assert_int_equal(ivshm__rec_check(&h, cons, SIZE, SIZE, 1000, &span), 0);
	assert_int_equal(span, to_end);
	h.len -= 8;
	assert_int_equal(ivshm__rec_check(&h, cons, SIZE, SIZE, 1000, &span), -EPROTO);
	/* Never a pad over the whole ring: a sender would have fitted the record. */
	h = (struct ivshm_shm_rec){ .len = SIZE - 8, .flags = IVSHM_SHM_REC_PAD };
	assert_int_equal(ivshm__rec_check(&h, 0, SIZE, SIZE, 1000, &span), -EPROTO);
	/* A record may not run over the ring's end. */
	h = (struct ivshm_shm_rec){ .len = to_end };
	assert_int_equal(ivshm__rec_check(&h, cons, SIZE, SIZE, SIZE, &span), -EPROTO);
	/* A huge length cannot wrap the arithmetic into something small. */
	h = (struct ivshm_shm_rec){ .len = UINT32_MAX - 3 };
	assert_int_equal(ivshm__rec_check(&h, cons, SIZE, SIZE, UINT32_MAX, &span), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(used_counts_across_the_wrap),
		cmocka_unit_test(copies_wrap_at_the_ring_end),
		cmocka_unit_test(record_spans),
		cmocka_unit_test(records_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
