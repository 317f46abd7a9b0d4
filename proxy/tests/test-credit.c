// SPDX-License-Identifier: GPL-2.0-or-later
/* Credit: the window, and the peer's lies (backwards, beyond what was sent, past the buffer), at the 32-bit wrap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "credit.h"

static void window(void **state)
{
	struct credit c = { .peer_buf = 1000 };

	(void)state;
	assert_int_equal(credit_avail(&c), 1000);
	credit_sent(&c, 600);
	assert_int_equal(credit_avail(&c), 400);
	credit_sent(&c, 400);
	assert_int_equal(credit_avail(&c), 0);
	assert_int_equal(credit_peer_fwd(&c, 250), 0);
	assert_int_equal(credit_avail(&c), 250);
	assert_int_equal(credit_peer_fwd(&c, 1000), 0);
	assert_int_equal(credit_avail(&c), 1000);
}

static void peer_lies_about_fwd(void **state)
{
	struct credit c = { .peer_buf = 1000 };

	(void)state;
	credit_sent(&c, 500);
	assert_int_equal(credit_peer_fwd(&c, 300), 0);
	/* Backwards. */
	assert_int_equal(credit_peer_fwd(&c, 299), -EPROTO);
	assert_int_equal(c.peer_fwd, 300);
	/* Beyond what was sent. */
	assert_int_equal(credit_peer_fwd(&c, 501), -EPROTO);
	assert_int_equal(credit_peer_fwd(&c, UINT32_MAX), -EPROTO);
	assert_int_equal(credit_peer_fwd(&c, 500), 0);
	assert_int_equal(credit_avail(&c), 1000);
}

static void wrap(void **state)
{
	struct credit c = { .peer_buf = 1000, .tx_cnt = UINT32_MAX - 100, .peer_fwd = UINT32_MAX - 100 };

	(void)state;
	credit_sent(&c, 600);
	assert_int_equal(credit_avail(&c), 400);
	assert_int_equal(credit_peer_fwd(&c, UINT32_MAX - 100 + 600), 0);
	assert_int_equal(credit_avail(&c), 1000);
	assert_int_equal(credit_peer_fwd(&c, UINT32_MAX - 200), -EPROTO);
}

static void receiver_holds_at_most_buf_alloc(void **state)
{
	struct credit c = { .buf_alloc = 1000, .rx_cnt = UINT32_MAX - 10, .fwd_cnt = UINT32_MAX - 10,
			    .fwd_told = UINT32_MAX - 10 };

	(void)state;
	assert_int_equal(credit_rx(&c, 1000), 0);
	assert_int_equal(credit_rx(&c, 1), -EPROTO);
	credit_delivered(&c, 100);
	assert_false(credit_update_due(&c));
	assert_int_equal(credit_rx(&c, 100), 0);
	assert_int_equal(credit_rx(&c, 1), -EPROTO);
	credit_delivered(&c, 200);
	assert_true(credit_update_due(&c));
	assert_int_equal(credit_rx(&c, UINT32_MAX), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(window),
		cmocka_unit_test(peer_lies_about_fwd),
		cmocka_unit_test(wrap),
		cmocka_unit_test(receiver_holds_at_most_buf_alloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
