// SPDX-License-Identifier: GPL-2.0-or-later
/* Frames out of hostile records: lying lengths, truncated headers, every type's rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

static size_t put(char *rec, size_t at, uint8_t type, uint32_t conn, uint32_t len, uint32_t arg,
		  const char *payload)
{
	frame_put(rec + at, type, 0, conn, len, arg);
	if (payload)
		memcpy(rec + at + FRAME_HDR, payload, len);
	return at + FRAME_HDR + len;
}

static void frames_back_to_back(void **state)
{
	char rec[256];
	size_t len = 0, pos = 0;
	struct frame f;

	(void)state;
	len = put(rec, len, IVSHM_PROXY_OPEN, 2, 3, 4096, "web");
	len = put(rec, len, IVSHM_PROXY_DATA, 2, 5, 17, "hello");
	len = put(rec, len, IVSHM_PROXY_CLOSE, 2, 0, 0, NULL);
	assert_int_equal(frame_next(rec, len, &pos, &f), 1);
	assert_int_equal(f.h.type, IVSHM_PROXY_OPEN);
	assert_memory_equal(f.payload, "web", 3);
	assert_null(frame_check(&f));
	assert_int_equal(frame_next(rec, len, &pos, &f), 1);
	assert_int_equal(f.h.type, IVSHM_PROXY_DATA);
	assert_int_equal(f.h.arg, 17);
	assert_int_equal(f.h.len, 5);
	assert_int_equal(frame_next(rec, len, &pos, &f), 1);
	assert_int_equal(f.h.type, IVSHM_PROXY_CLOSE);
	assert_int_equal(frame_next(rec, len, &pos, &f), 0);
	assert_int_equal(pos, len);
}

static void lying_lengths(void **state)
{
	char rec[64];
	size_t len, pos = 0;
	struct frame f;

	(void)state;
	/* A payload one byte past the record's end. */
	len = put(rec, 0, IVSHM_PROXY_DATA, 2, 8, 0, "12345678") - 1;
	assert_int_equal(frame_next(rec, len, &pos, &f), -EPROTO);
	assert_int_equal(pos, 0);
	/* The largest length a header can claim. */
	frame_put(rec, IVSHM_PROXY_DATA, 0, 2, UINT32_MAX, 0);
	assert_int_equal(frame_next(rec, 40, &pos, &f), -EPROTO);
	/* Half a header after a whole frame. */
	len = put(rec, 0, IVSHM_PROXY_CREDIT, 2, 0, 0, NULL) + 7;
	assert_int_equal(frame_next(rec, len, &pos, &f), 1);
	assert_int_equal(frame_next(rec, len, &pos, &f), -EPROTO);
	assert_int_equal(pos, FRAME_HDR);
}

static const char *check(uint8_t type, uint32_t conn, uint32_t len, uint32_t arg, const char *p)
{
	static char rec[256];
	struct frame f;
	size_t pos = 0;

	put(rec, 0, type, conn, len, arg, p);
	assert_int_equal(frame_next(rec, FRAME_HDR + len, &pos, &f), 1);
	return frame_check(&f);
}

static void type_rules(void **state)
{
	char hello[sizeof(struct ivshm_proxy_hello)] = { 0 };

	(void)state;
	assert_null(check(IVSHM_PROXY_HELLO, 0, sizeof(hello), 1 << 16, hello));
	assert_non_null(check(IVSHM_PROXY_HELLO, 0, sizeof(hello) - 1, 1 << 16, hello));
	assert_non_null(check(IVSHM_PROXY_HELLO, 2, sizeof(hello), 1 << 16, hello));
	assert_non_null(check(IVSHM_PROXY_DATA, 0, 1, 0, "x"));
	assert_non_null(check(IVSHM_PROXY_DATA, 2, 0, 0, NULL));
	assert_null(check(IVSHM_PROXY_OPEN, 3, 3, IVSHM_PROXY_BUF_MIN, "web"));
	assert_non_null(check(IVSHM_PROXY_OPEN, 3, 3, IVSHM_PROXY_BUF_MIN - 1, "web"));
	assert_non_null(check(IVSHM_PROXY_OPEN, 3, 3, IVSHM_PROXY_BUF_MAX + 1, "web"));
	assert_non_null(check(IVSHM_PROXY_OPEN, 3, 0, IVSHM_PROXY_BUF_MIN, NULL));
	assert_non_null(check(IVSHM_PROXY_OPEN, 3, IVSHM_PROXY_SERVICE_MAX + 1, IVSHM_PROXY_BUF_MIN,
			      "0123456789012345678901234567890123456789012345678901234567890123"));
	assert_null(check(IVSHM_PROXY_ACCEPT, 3, 0, 65536, NULL));
	assert_non_null(check(IVSHM_PROXY_ACCEPT, 3, 0, 1, NULL));
	assert_non_null(check(IVSHM_PROXY_ACCEPT, 3, 1, 65536, "x"));
	assert_non_null(check(IVSHM_PROXY_CREDIT, 3, 1, 0, "x"));
	assert_non_null(check(IVSHM_PROXY_RESET, 3, 2, 0, "xx"));
	assert_null(check(IVSHM_PROXY_SHUTDOWN, 3, 0, 0, NULL));
	assert_non_null(check(0, 3, 0, 0, NULL));
	assert_non_null(check(200, 3, 0, 0, NULL));
	assert_string_equal(frame_type_name(200), "type 200");
	assert_string_equal(frame_type_name(IVSHM_PROXY_CREDIT), "CREDIT");
}

static void service_names(void **state)
{
	(void)state;
	assert_true(frame_service_ok("web-1.a_b", 9));
	assert_false(frame_service_ok("", 0));
	assert_false(frame_service_ok("a b", 3));
	assert_false(frame_service_ok("a/b", 3));
	assert_false(frame_service_ok("a\0b", 3));
	assert_false(frame_service_ok("x:y", 3));
}

static void little_endian_on_the_wire(void **state)
{
	unsigned char rec[FRAME_HDR];

	(void)state;
	frame_put(rec, IVSHM_PROXY_DATA, 1, 0x01020304, 0x0a0b0c0d, 0x11223344);
	assert_int_equal(rec[0], IVSHM_PROXY_DATA);
	assert_int_equal(rec[1], 1);
	assert_int_equal(rec[4], 0x04);
	assert_int_equal(rec[7], 0x01);
	assert_int_equal(rec[8], 0x0d);
	assert_int_equal(rec[12], 0x44);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_back_to_back),
		cmocka_unit_test(lying_lengths),
		cmocka_unit_test(type_rules),
		cmocka_unit_test(service_names),
		cmocka_unit_test(little_endian_on_the_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
