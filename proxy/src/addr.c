// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "number.h"

static int parse_tcp(const char *s, struct proxy_addr *a, const char **why)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;
	char host[64];
	const char *colon;
	uint64_t port;
	size_t hl;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':') {
			*why = "an IPv6 address goes in brackets: tcp:[::1]:PORT";
			return -EINVAL;
		}
		hl = (size_t)(end - s - 1);
		colon = end + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "no port: tcp:HOST:PORT";
			return -EINVAL;
		}
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host)) {
		*why = "no host";
		return -EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (ivshm_num_parse(colon + 1, IVSHM_NUM_DEC, 0, 65535, &port)) {
		*why = "the port is not a number from 0 to 65535";
		return -EINVAL;
	}
	memset(&a->sa, 0, sizeof(a->sa));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		a->len = sizeof(*in4);
		snprintf(a->text, sizeof(a->text), "tcp:%s:%u", host, (unsigned int)port);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*in6);
		snprintf(a->text, sizeof(a->text), "tcp:[%s]:%u", host, (unsigned int)port);
	} else {
		*why = "the host is not a numeric IPv4 or IPv6 address";
		return -EINVAL;
	}
	a->kind = ADDR_TCP;
	return 0;
}

static int parse_unix(const char *path, enum addr_kind kind, struct proxy_addr *a,
		      const char **why)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->sa;
	size_t n = strlen(path);

	if (n == 0 || (path[0] == '@' && n == 1)) {
		*why = "no path";
		return -EINVAL;
	}
	if (n >= sizeof(un->sun_path)) {
		*why = "the path is longer than a Unix socket address holds (107 bytes)";
		return -EINVAL;
	}
	memset(&a->sa, 0, sizeof(a->sa));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, n);
	/* Abstract: a leading NUL, and the length says where the name ends. */
	if (path[0] == '@') {
		un->sun_path[0] = '\0';
		a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		a->len = sizeof(*un);
	}
	a->kind = kind;
	snprintf(a->text, sizeof(a->text), "%s:%s", kind == ADDR_UNIX ? "unix" : "seqpacket", path);
	return 0;
}

int addr_parse(const char *s, struct proxy_addr *a, const char **why)
{
	if (!strncmp(s, "tcp:", 4))
		return parse_tcp(s + 4, a, why);
	if (!strncmp(s, "unix:", 5))
		return parse_unix(s + 5, ADDR_UNIX, a, why);
	if (!strncmp(s, "seqpacket:", 10))
		return parse_unix(s + 10, ADDR_SEQPACKET, a, why);
	*why = "an address is tcp:HOST:PORT, unix:PATH or seqpacket:PATH";
	return -EINVAL;
}

int addr_any_port(const struct proxy_addr *a)
{
	if (a->kind != ADDR_TCP)
		return 0;
	if (a->sa.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->sa)->sin_port == 0;
	return ((const struct sockaddr_in6 *)&a->sa)->sin6_port == 0;
}

int addr_socktype(const struct proxy_addr *a)
{
	return a->kind == ADDR_SEQPACKET ? SOCK_SEQPACKET : SOCK_STREAM;
}

static int new_socket(const struct proxy_addr *a)
{
	int fd = socket(a->sa.ss_family, addr_socktype(a) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

/* A Unix socket file nobody answers on any more: remove it (and nothing else). */
static void remove_stale(const struct proxy_addr *a)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&a->sa;
	struct stat st;
	int fd, refused;

	if (a->kind == ADDR_TCP || !un->sun_path[0] || lstat(un->sun_path, &st) ||
	    !S_ISSOCK(st.st_mode))
		return;
	fd = new_socket(a);
	if (fd < 0)
		return;
	refused = connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0 && errno == ECONNREFUSED;
	close(fd);
	if (refused)
		unlink(un->sun_path);
}

int addr_listen(const struct proxy_addr *a)
{
	int fd, one = 1, err;

	remove_stale(a);
	fd = new_socket(a);
	if (fd < 0)
		return fd;
	if (a->kind == ADDR_TCP) {
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			goto fail;
		/* A v6 listener takes v6 only: tcp:[::]:P and tcp:0.0.0.0:P can both be configured. */
		if (a->sa.ss_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
			goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0 || listen(fd, SOMAXCONN) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int addr_connect(const struct proxy_addr *a, int *pending)
{
	int fd, one = 1, err;

	fd = new_socket(a);
	if (fd < 0)
		return fd;
	/* Frames arrive whole: Nagle would only hold the last piece of each back. */
	if (a->kind == ADDR_TCP && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto fail;
	*pending = 0;
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0)
		return fd;
	if (errno == EINPROGRESS && a->kind == ADDR_TCP) {
		*pending = 1;
		return fd;
	}
fail:
	err = -errno;
	close(fd);
	return err;
}

void addr_local(int fd, const struct proxy_addr *a, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	if (a->kind != ADDR_TCP || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(buf, size, "%s", a->text);
		return;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "tcp:%s:%u", host, ntohs(in4->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "tcp:[%s]:%u", host, ntohs(in6->sin6_port));
	}
}

void addr_unlink(const struct proxy_addr *a)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&a->sa;

	if (a->kind != ADDR_TCP && un->sun_path[0])
		unlink(un->sun_path);
}

void addr_close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* Fails harmlessly on Unix sockets, whose peer sees the end (or ECONNRESET) anyway. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}
