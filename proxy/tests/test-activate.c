// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Socket activation's variables: the fds are taken only when LISTEN_PID is
 * ours, become close-on-exec, and the variables leave the environment either
 * way; malformed ones are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "activate.h"

static void set_env(const char *pid, const char *n)
{
	char own[16];

	if (!pid) {
		snprintf(own, sizeof(own), "%d", (int)getpid());
		pid = own;
	}
	assert_int_equal(setenv("LISTEN_PID", pid, 1), 0);
	assert_int_equal(setenv("LISTEN_FDS", n, 1), 0);
	assert_int_equal(setenv("LISTEN_FDNAMES", "a:b", 1), 0);
}

static void env_gone(void)
{
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_FDNAMES"));
}

/* Sockets at fds 3 and 4, as systemd passes them, without close-on-exec. */
static void passed_sockets(void)
{
	int fd, i;

	for (i = 3; i <= 4; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		if (fd != i) {
			assert_int_equal(dup2(fd, i), i);
			close(fd);
		}
		assert_int_equal(fcntl(i, F_GETFD) & FD_CLOEXEC, 0);
	}
}

static void ours(void **state)
{
	int *fds, i;

	(void)state;
	passed_sockets();
	set_env(NULL, "2");
	assert_int_equal(activate_fds(&fds), 2);
	env_gone();
	assert_non_null(fds);
	for (i = 0; i < 2; i++) {
		assert_int_equal(fds[i], 3 + i);
		assert_int_equal(fcntl(fds[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		close(fds[i]);
	}
	free(fds);
}

static void someone_elses_or_none(void **state)
{
	int *fds;

	(void)state;
	passed_sockets();
	set_env("1", "2");
	assert_int_equal(activate_fds(&fds), 0);
	assert_null(fds);
	env_gone();
	/* Not taken: still without close-on-exec. */
	assert_int_equal(fcntl(3, F_GETFD) & FD_CLOEXEC, 0);
	assert_int_equal(activate_fds(&fds), 0);
	assert_null(fds);
	set_env(NULL, "0");
	assert_int_equal(activate_fds(&fds), 0);
	assert_null(fds);
	env_gone();
	close(3);
	close(4);
}

static void malformed(void **state)
{
	static const char *const bad[][2] = {
		{ "x", "1" }, { "", "1" }, { "-1", "1" }, { NULL, "one" }, { NULL, "-1" },
		{ NULL, "1025" }, { NULL, "2 " },
	};
	unsigned int i;
	int *fds;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_env(bad[i][0], bad[i][1]);
		assert_int_equal(activate_fds(&fds), -EINVAL);
		assert_null(fds);
		env_gone();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ours),
		cmocka_unit_test(someone_elses_or_none),
		cmocka_unit_test(malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
