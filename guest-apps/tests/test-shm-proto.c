// SPDX-License-Identifier: LGPL-2.1-or-later
/* The application header as hostile input: every field out of range on purpose. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shm-proto.h"

#define SIZE 4096

static _Alignas(64) unsigned char buf[SIZE];

static struct ivshm_app_hdr valid(void)
{
	struct ivshm_app_hdr h = {
		.magic = IVSHM_APP_MAGIC,
		.version = IVSHM_APP_VERSION,
		.hdr_size = sizeof(h),
		.kind = IVSHM_APP_EXCHANGE,
		.state = IVSHM_APP_OWNER_READY,
		.owner_id = 7,
		.owner_vector = 1,
		.guest_id = IVSHM_APP_ID_NONE,
		.guest_vector = IVSHM_APP_ID_NONE,
		.msg_off = 64,
		.msg_cap = 1024,
		.msg_len = 5,
	};
	return h;
}

static int setup(void **state)
{
	(void)state;
	memset(buf, 0, sizeof(buf));
	return 0;
}

/* Store @h raw (no validation), as a hostile peer would. */
static int read_raw(const struct ivshm_app_hdr *h, struct ivshm_app_hdr *out)
{
	memcpy(buf, h, sizeof(*h));
	return app_hdr_read(buf, SIZE, IVSHM_APP_EXCHANGE, out);
}

static void empty_buffer(void **state)
{
	struct ivshm_app_hdr out;

	(void)state;
	assert_int_equal(app_hdr_read(buf, SIZE, IVSHM_APP_EXCHANGE, &out), -ENOENT);
}

static void round_trip(void **state)
{
	struct ivshm_app_hdr h = valid(), out;
	char msg[32];

	(void)state;
	memcpy(buf + 64, "hello", 5);
	app_hdr_publish(buf, &h);
	assert_int_equal(app_hdr_read(buf, SIZE, IVSHM_APP_EXCHANGE, &out), 0);
	assert_memory_equal(&out, &h, sizeof(h));
	app_msg_copy(buf, &out, msg, sizeof(msg));
	assert_string_equal(msg, "hello");

	app_hdr_set_guest(buf, 9, IVSHM_APP_ID_NONE, 3);
	app_hdr_set_state(buf, IVSHM_APP_GUEST_DONE);
	assert_int_equal(app_hdr_read(buf, SIZE, IVSHM_APP_EXCHANGE, &out), 0);
	assert_int_equal(out.guest_id, 9);
	assert_int_equal(out.state, IVSHM_APP_GUEST_DONE);
	app_msg_copy(buf, &out, msg, sizeof(msg));
	assert_string_equal(msg, "hel");

	app_hdr_clear(buf);
	assert_int_equal(app_hdr_read(buf, SIZE, IVSHM_APP_EXCHANGE, &out), -ENOENT);
}

static void foreign_magic(void **state)
{
	struct ivshm_app_hdr h = valid(), out;

	(void)state;
	h.magic = 0x464c457f;
	assert_int_equal(read_raw(&h, &out), -EBADMSG);
	assert_int_equal(out.magic, 0x464c457f);
	/* Foreign even while its state word looks "empty". */
	h.state = 0;
	assert_int_equal(read_raw(&h, &out), -EBADMSG);
}

static void other_version(void **state)
{
	struct ivshm_app_hdr h = valid(), out;

	(void)state;
	h.version = 2;
	assert_int_equal(read_raw(&h, &out), -EPROTONOSUPPORT);
}

static void other_program(void **state)
{
	struct ivshm_app_hdr h = valid(), out;

	(void)state;
	h.kind = IVSHM_APP_PINGPONG;
	assert_int_equal(read_raw(&h, &out), -EMEDIUMTYPE);
}

static void owner_not_ready(void **state)
{
	struct ivshm_app_hdr h = valid(), out;

	(void)state;
	h.state = IVSHM_APP_EMPTY;
	h.version = 99;
	assert_int_equal(read_raw(&h, &out), -ENOENT);
}

static void corrupted_fields(void **state)
{
	struct ivshm_app_hdr h, out;

	(void)state;
	h = valid(), h.hdr_size = 32;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.state = 3;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.owner_id = 65536;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.owner_vector = 64;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.guest_id = 70000;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.guest_vector = 64;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
}

static void message_out_of_bounds(void **state)
{
	struct ivshm_app_hdr h, out;

	(void)state;
	h = valid(), h.msg_off = 0;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.msg_off = 63;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.msg_off = SIZE + 1, h.msg_cap = 0, h.msg_len = 0;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.msg_cap = SIZE - 64 + 1;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	/* msg_off + msg_cap wraps around 32 bits: must not pass as small. */
	h = valid(), h.msg_off = SIZE - 16, h.msg_cap = 0xfffffff8u, h.msg_len = 0;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.msg_len = h.msg_cap + 1;
	assert_int_equal(read_raw(&h, &out), -EUCLEAN);
	h = valid(), h.msg_off = SIZE, h.msg_cap = 0, h.msg_len = 0;
	assert_int_equal(read_raw(&h, &out), 0);
}

static void tiny_buffer(void **state)
{
	struct ivshm_app_hdr out;

	(void)state;
	assert_int_equal(app_hdr_read(buf, 63, IVSHM_APP_EXCHANGE, &out), -EMSGSIZE);
	assert_int_equal(app_hdr_read(NULL, SIZE, IVSHM_APP_EXCHANGE, &out), -EINVAL);
}

static void message_sanitized_and_truncated(void **state)
{
	struct ivshm_app_hdr h = valid();
	char msg[6];

	(void)state;
	memcpy(buf + 64, "a\033[2Jb\xff", 7);
	h.msg_len = 7;
	app_msg_copy(buf, &h, msg, sizeof(msg));
	assert_string_equal(msg, "a?[2J");
	app_msg_copy(buf, &h, msg, 1);
	assert_string_equal(msg, "");
}

static void error_strings(void **state)
{
	(void)state;
	assert_string_equal(app_hdr_strerror(-EBADMSG), "foreign header (unknown magic)");
	assert_string_equal(app_hdr_strerror(-ENOENT), "no header published");
	assert_string_equal(app_hdr_strerror(-EUCLEAN), "corrupted header (field out of range)");
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(empty_buffer),
		T(round_trip),
		T(foreign_magic),
		T(other_version),
		T(other_program),
		T(owner_not_ready),
		T(corrupted_fields),
		T(message_out_of_bounds),
		T(tiny_buffer),
		T(message_sanitized_and_truncated),
		T(error_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
