// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "list.h"
#include "server.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int copy_out(int fd, unsigned long long deadline)
{
	char buf[4096];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = (long long)(deadline - ivshm_clock_ms());
		ssize_t n;
		int ret;

		if (left <= 0)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)left);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (ret == 0)
			return -ETIMEDOUT;
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		ret = write_all(1, buf, (size_t)n);
		if (ret)
			return ret;
	}
}

int ivshmd_list(const char *socket_path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned long long deadline = ivshm_clock_ms() + (unsigned)timeout_ms;
	int fd, ret, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s." IVSHMD_CTL_SUFFIX, socket_path);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ivshmd: socket path too long: %s\n", socket_path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "ivshmd: socket: %s\n", strerror(errno));
		return ret;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		fprintf(stderr, "ivshmd: %s: %s (is ivshmd running?)\n", sa.sun_path,
			strerror(errno));
		goto out_close;
	}
	ret = copy_out(fd, deadline);
	if (ret)
		fprintf(stderr, "ivshmd: reading %s: %s\n", sa.sun_path, strerror(-ret));
out_close:
	close(fd);
	return ret;
}
