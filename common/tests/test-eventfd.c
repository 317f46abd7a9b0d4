// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * common/eventfd.c: a server's eventfd is shared by every peer, and any of
 * them can clear O_NONBLOCK. Taking the counter must never block: not on a
 * blocking eventfd at zero, and it must still take what is there.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "eventfd.h"

static void blocking_and_empty_does_not_block(void **state)
{
	int fd = eventfd(0, EFD_CLOEXEC);	/* no O_NONBLOCK: what a hostile peer leaves */
	uint64_t n = 0, add = 5;
	int64_t t0 = ivshm_clock_ms();

	(void)state;
	assert_true(fd >= 0);
	alarm(5);	/* a blocking read would hang the test: fail it instead */
	assert_int_equal(ivshm_eventfd_take(fd, &n), 0);
	assert_true(ivshm_clock_ms() - t0 < 1000);
	assert_int_equal(write(fd, &add, sizeof(add)), sizeof(add));
	assert_int_equal(ivshm_eventfd_take(fd, &n), 1);
	assert_int_equal(n, 5);
	assert_int_equal(ivshm_eventfd_take(fd, &n), 0);
	alarm(0);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
}

static void bad_fd(void **state)
{
	uint64_t n;

	(void)state;
	assert_int_equal(ivshm_eventfd_take(-1, &n), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocking_and_empty_does_not_block),
		cmocka_unit_test(bad_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
