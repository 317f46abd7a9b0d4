// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TCP ping-pong: the same 4-byte sequence echo over a socket, the baseline
 * the doorbell numbers are compared with (virtio-net between the guests).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "parse.h"
#include "pingpong.h"

#define CONNECT_RETRY_MS 20

/* Wait until @fd is ready for @events or the deadline passes. Returns 0 or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - ivshm_clock_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Transfer exactly 4 bytes. Returns 0, -ECONNRESET on EOF, or -errno. */
static int xfer4(int fd, uint32_t *v, int out, int timeout_ms)
{
	int64_t deadline = ivshm_clock_ms() + timeout_ms;
	char *p = (char *)v;
	size_t done = 0;
	ssize_t n;
	int err;

	while (done < sizeof(*v)) {
		err = wait_fd(fd, out ? POLLOUT : POLLIN, deadline);
		if (err)
			return err;
		n = out ? send(fd, p + done, sizeof(*v) - done, MSG_NOSIGNAL)
			: recv(fd, p + done, sizeof(*v) - done, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

static int set_nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int connect_retry(const struct sockaddr_in *sa, int timeout_ms)
{
	int64_t deadline = ivshm_clock_ms() + timeout_ms;
	int fd;

	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return fd;
		close(fd);
		/* Pong may still be starting: only a refused connection is retried. */
		if (errno != ECONNREFUSED)
			return -errno;
		if (ivshm_clock_ms() >= deadline)
			return -ETIMEDOUT;
		ivshm_clock_sleep_ms(CONNECT_RETRY_MS);
	}
}

int pp_tcp_ping(const struct pp_opts *o)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int64_t *rtt, t0;
	char host[64];
	uint16_t port;
	uint32_t i, v;
	int fd, err, ret = EXIT_FAIL;

	if (parse_host_port(o->tcp, host, sizeof(host), &port)) {
		ivshm_msg_err("--tcp-connect: expected IPv4:PORT, got %s", o->tcp);
		return EXIT_USAGE;
	}
	sa.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return EXIT_USAGE;
	rtt = calloc(o->rounds, sizeof(*rtt));
	if (!rtt) {
		ivshm_msg_err("out of memory");
		return EXIT_FAIL;
	}
	fd = connect_retry(&sa, o->timeout_ms);
	if (fd < 0) {
		ivshm_msg_err("connect %s: %s", o->tcp, strerror(-fd));
		goto out_free;
	}
	if (set_nodelay(fd) < 0) {
		ivshm_msg_err("TCP_NODELAY: %s", strerror(errno));
		goto out_close;
	}
	for (i = 1; i <= o->rounds; i++) {
		t0 = ivshm_clock_us();
		v = i;
		err = xfer4(fd, &v, 1, o->timeout_ms);
		if (!err)
			err = xfer4(fd, &v, 0, o->timeout_ms);
		if (err) {
			ivshm_msg_err("round %u: %s", i, strerror(-err));
			goto out_close;
		}
		rtt[i - 1] = ivshm_clock_us() - t0;
		if (v != i) {
			ivshm_msg_err("round %u: pong echoed %u", i, v);
			goto out_close;
		}
	}
	if (!pp_print_latency("tcp", rtt, o->rounds))
		ret = 0;

out_close:
	close(fd);
out_free:
	free(rtt);
	return ret;
}

int pp_tcp_pong(const struct pp_opts *o)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	uint64_t port;
	uint32_t v, echoed = 0;
	int one = 1, lfd, fd, err, ret = EXIT_FAIL;

	if (app_parse_opt("--tcp-listen", o->tcp, 65535, &port) || port == 0)
		return EXIT_USAGE;
	sa.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		ivshm_msg_err("socket: %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		ivshm_msg_err("listen on port %llu: %s", (unsigned long long)port,
			strerror(errno));
		goto out_lfd;
	}
	printf("pingpong role=pong transport=tcp port=%llu waiting (timeout %d ms)\n",
	       (unsigned long long)port, o->timeout_ms);
	err = wait_fd(lfd, POLLIN, ivshm_clock_ms() + o->timeout_ms);
	if (err) {
		ivshm_msg_err("no ping connected: %s", strerror(-err));
		goto out_lfd;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		ivshm_msg_err("accept: %s", strerror(errno));
		goto out_lfd;
	}
	if (set_nodelay(fd) < 0) {
		ivshm_msg_err("TCP_NODELAY: %s", strerror(errno));
		goto out_fd;
	}
	for (;;) {
		err = xfer4(fd, &v, 0, o->timeout_ms);
		if (err == -ECONNRESET)
			break;
		if (!err)
			err = xfer4(fd, &v, 1, o->timeout_ms);
		if (err) {
			ivshm_msg_err("after %u echoes: %s", echoed, strerror(-err));
			goto out_fd;
		}
		echoed++;
	}
	printf("pingpong role=pong transport=tcp echoed=%u\n", echoed);
	ret = 0;

out_fd:
	close(fd);
out_lfd:
	close(lfd);
	return ret;
}
