// SPDX-License-Identifier: GPL-2.0-or-later
/* The per-connection buffer: bounded, wraps, gives its memory back when drained. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rxbuf.h"

static void bounded_and_wrapping(void **state)
{
	struct rxbuf b = { .cap = 10 };
	struct iovec iov[2];
	char out[16];

	(void)state;
	assert_null(b.data);
	assert_int_equal(rxbuf_put(&b, "abcdefgh", 8), 0);
	assert_int_equal(rxbuf_put(&b, "xyz", 3), -ENOSPC);
	rxbuf_consume(&b, 6);
	assert_int_equal(rxbuf_put(&b, "ijklmn", 6), 0);
	assert_int_equal(b.used, 8);
	/* "ghijklmn" across the end: two pieces. */
	assert_int_equal(rxbuf_iov(&b, 0, 100, iov), 2);
	assert_int_equal(iov[0].iov_len + iov[1].iov_len, 8);
	rxbuf_copy(&b, out, 8);
	assert_memory_equal(out, "ghijklmn", 8);
	assert_int_equal(rxbuf_iov(&b, 3, 2, iov), 2);
	assert_memory_equal(iov[0].iov_base, "j", 1);
	assert_memory_equal(iov[1].iov_base, "k", 1);
	assert_int_equal(rxbuf_iov(&b, 4, 2, iov), 1);
	assert_memory_equal(iov[0].iov_base, "kl", 2);
	assert_int_equal(rxbuf_iov(&b, 8, 2, iov), 0);
	rxbuf_consume(&b, 8);
	assert_null(b.data);
	assert_int_equal(b.used, 0);
}

static void full_exactly(void **state)
{
	struct rxbuf b = { .cap = 4 };

	(void)state;
	assert_int_equal(rxbuf_put(&b, "abcd", 4), 0);
	assert_int_equal(rxbuf_put(&b, "e", 1), -ENOSPC);
	rxbuf_free(&b);
	assert_null(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bounded_and_wrapping),
		cmocka_unit_test(full_exactly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
