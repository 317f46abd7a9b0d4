// SPDX-License-Identifier: GPL-2.0-or-later
/* Addresses: the forms, listening (port 0, stale Unix sockets left alone or replaced), connecting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"

static void forms(void **state)
{
	struct proxy_addr a;
	const char *why;

	(void)state;
	assert_int_equal(addr_parse("tcp:127.0.0.1:80", &a, &why), 0);
	assert_int_equal(a.sa.ss_family, AF_INET);
	assert_int_equal(addr_parse("tcp:[::1]:443", &a, &why), 0);
	assert_int_equal(a.sa.ss_family, AF_INET6);
	assert_string_equal(a.text, "tcp:[::1]:443");
	assert_int_equal(addr_parse("unix:/run/x.sock", &a, &why), 0);
	assert_int_equal(addr_socktype(&a), SOCK_STREAM);
	assert_int_equal(addr_parse("seqpacket:@wl", &a, &why), 0);
	assert_int_equal(addr_socktype(&a), SOCK_SEQPACKET);
	assert_int_equal(a.len, offsetof(struct sockaddr_un, sun_path) + 3);
	assert_int_equal(addr_parse("tcp:[::1]80", &a, &why), -EINVAL);
	assert_int_equal(addr_parse("tcp:1.2.3.4", &a, &why), -EINVAL);
	assert_int_equal(addr_parse("tcp::80", &a, &why), -EINVAL);
	assert_int_equal(addr_parse("tcp:1.2.3.4:-1", &a, &why), -EINVAL);
	assert_int_equal(addr_parse("unix:", &a, &why), -EINVAL);
	assert_int_equal(addr_parse("unix:@", &a, &why), -EINVAL);
	assert_int_equal(addr_parse("unix:/012345678901234567890123456789012345678901234567890123456789"
				    "01234567890123456789012345678901234567890123456789", &a, &why),
			 -EINVAL);
	assert_int_equal(addr_parse("/run/x.sock", &a, &why), -EINVAL);
}

static void tcp_port_zero(void **state)
{
	struct proxy_addr a, b;
	char local[128];
	const char *why;
	int lfd, cfd, pending;

	(void)state;
	assert_int_equal(addr_parse("tcp:127.0.0.1:0", &a, &why), 0);
	lfd = addr_listen(&a);
	assert_true(lfd >= 0);
	addr_local(lfd, &a, local, sizeof(local));
	assert_int_equal(strncmp(local, "tcp:127.0.0.1:", 14), 0);
	assert_string_not_equal(local, "tcp:127.0.0.1:0");
	assert_int_equal(addr_parse(local, &b, &why), 0);
	cfd = addr_connect(&b, &pending);
	assert_true(cfd >= 0);
	addr_close_reset(cfd);
	close(lfd);
}

static void unix_stale_and_live(void **state)
{
	char path[64], text[80];
	struct proxy_addr a;
	const char *why;
	int lfd, again, cfd, pending;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test-addr-%d.sock", (int)getpid());
	snprintf(text, sizeof(text), "unix:%s", path);
	assert_int_equal(addr_parse(text, &a, &why), 0);
	lfd = addr_listen(&a);
	assert_true(lfd >= 0);
	/* Someone answers there: not replaced. */
	assert_int_equal(addr_listen(&a), -EADDRINUSE);
	cfd = addr_connect(&a, &pending);
	assert_true(cfd >= 0);
	assert_int_equal(pending, 0);
	close(cfd);
	close(lfd);
	/* Left behind by a process that is gone: replaced. */
	again = addr_listen(&a);
	assert_true(again >= 0);
	close(again);
	addr_unlink(&a);
	assert_int_equal(access(path, F_OK), -1);
	/* Nobody there at all. */
	assert_int_equal(addr_connect(&a, &pending), -ENOENT);
}

static void not_a_socket_left_alone(void **state)
{
	char path[64], text[80];
	struct proxy_addr a;
	const char *why;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test-addr-file-%d", (int)getpid());
	snprintf(text, sizeof(text), "seqpacket:%s", path);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(addr_parse(text, &a, &why), 0);
	assert_int_equal(addr_listen(&a), -EADDRINUSE);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forms),
		cmocka_unit_test(tcp_port_zero),
		cmocka_unit_test(unix_stale_and_live),
		cmocka_unit_test(not_a_socket_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
