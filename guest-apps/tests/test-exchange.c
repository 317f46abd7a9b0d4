// SPDX-License-Identifier: LGPL-2.1-or-later
/* The shm-server / shm-client message as hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exchange.h"

static struct ivshm_exchange_msg m;

static int setup(void **state)
{
	(void)state;
	memset(&m, 0, sizeof(m));
	exchange_write(&m, 1, "Hello from server!");
	return 0;
}

static void client_reads_the_server_message(void **state)
{
	struct exchange_reply r;

	(void)state;
	assert_int_equal(exchange_read_message(&m, sizeof(m), &r), 0);
	assert_string_equal(r.text, "Hello from server!");
	assert_int_equal(r.from, 1);
	assert_int_equal(exchange_read_message(&m, sizeof(m) - 1, &r), -EMSGSIZE);
}

static void server_sees_a_reply_only_from_another_peer(void **state)
{
	struct exchange_reply r;

	(void)state;
	assert_int_equal(exchange_read_reply(&m, 1, &r), -EAGAIN);
	exchange_write_reply(&m, 2, "Hello from client, too!");
	assert_int_equal(exchange_read_reply(&m, 1, &r), 0);
	assert_int_equal(r.from, 2);
	assert_string_equal(r.text, "Hello from client, too!");
}

static void lies_are_refused(void **state)
{
	struct exchange_reply r;

	(void)state;
	m.len = IVSHM_EXCHANGE_CAP + 1;
	assert_int_equal(exchange_read_message(&m, sizeof(m), &r), -EUCLEAN);
	m.from = 2;
	assert_int_equal(exchange_read_reply(&m, 1, &r), -EUCLEAN);
	m.len = 3;
	m.from = 65536;
	assert_int_equal(exchange_read_reply(&m, 1, &r), -EUCLEAN);
	m.from = 2;
	m.magic = 0x464c457f;
	assert_int_equal(exchange_read_message(&m, sizeof(m), &r), -EUCLEAN);
	assert_int_equal(exchange_read_reply(&m, 1, &r), -EUCLEAN);
}

static void unprintable_bytes_are_masked_and_text_ends(void **state)
{
	struct exchange_reply r;

	(void)state;
	memset(m.text, 'A', sizeof(m.text));
	m.text[1] = '\n';
	m.text[2] = (char)0xff;
	m.len = IVSHM_EXCHANGE_CAP;
	assert_int_equal(exchange_read_message(&m, sizeof(m), &r), 0);
	assert_int_equal(strlen(r.text), IVSHM_EXCHANGE_CAP);
	assert_memory_equal(r.text, "A??A", 4);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(client_reads_the_server_message),
		T(server_sees_a_reply_only_from_another_peer),
		T(lies_are_refused),
		T(unprintable_bytes_are_masked_and_text_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
