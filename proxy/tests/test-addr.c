// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Addresses: the forms, listening (port 0, stale Unix sockets left alone or replaced),
 * connecting, and reading a socket's address back (what socket activation matches).
 */
#include <errno.h>
#include <fcntl.h>
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

/* A socket's address read back equals the configured one; another kind, port or path does not. */
static void address_of_a_socket(void **state)
{
	static const char *const forms[] = { "tcp:127.0.0.1:0", "tcp:[::1]:0", "unix:%s",
					     "seqpacket:%s", "unix:@test-addr-%d" };
	struct proxy_addr a, got, other;
	char path[64], text[96];
	const char *why;
	unsigned int i;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test-addr-of-%d.sock", (int)getpid());
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (strstr(forms[i], "%d"))
			snprintf(text, sizeof(text), forms[i], (int)getpid());
		else
			snprintf(text, sizeof(text), forms[i], path);
		assert_int_equal(addr_parse(text, &a, &why), 0);
		fd = addr_listen(&a);
		if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
			continue;	/* no IPv6 here */
		assert_true(fd >= 0);
		assert_int_equal(addr_of_fd(fd, &got), 0);
		if (a.kind == ADDR_TCP) {
			/* The port the kernel gave, as the status shows it. */
			assert_false(addr_equal(&got, &a));
			addr_local(fd, &a, text, sizeof(text));
			assert_int_equal(addr_parse(text, &a, &why), 0);
		}
		assert_true(addr_equal(&got, &a));
		assert_string_equal(got.text, a.text);
		close(fd);
		addr_unlink(&a);
	}
	/* Same path, other kind; same kind, other path; same host, other port. */
	assert_int_equal(addr_parse("unix:/run/a.sock", &a, &why), 0);
	assert_int_equal(addr_parse("seqpacket:/run/a.sock", &other, &why), 0);
	assert_false(addr_equal(&a, &other));
	assert_int_equal(addr_parse("unix:/run/b.sock", &other, &why), 0);
	assert_false(addr_equal(&a, &other));
	assert_int_equal(addr_parse("tcp:127.0.0.1:80", &a, &why), 0);
	assert_int_equal(addr_parse("tcp:127.0.0.1:81", &other, &why), 0);
	assert_false(addr_equal(&a, &other));
	/* Not a socket, a datagram socket, an unnamed one: no address. */
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(addr_of_fd(fd, &got), -ENOTSOCK);
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(addr_of_fd(fd, &got), -EAFNOSUPPORT);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(addr_of_fd(fd, &got), -EAFNOSUPPORT);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forms),
		cmocka_unit_test(tcp_port_zero),
		cmocka_unit_test(unix_stale_and_live),
		cmocka_unit_test(not_a_socket_left_alone),
		cmocka_unit_test(address_of_a_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
