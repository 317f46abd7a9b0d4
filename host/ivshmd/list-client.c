// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "list-client.h"
#include "msg.h"
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

/*
 * Whoever listens on PATH.ctl writes to our terminal: print text and line
 * breaks only, anything else (escape sequences, control bytes, bytes above
 * ASCII) as \xHH, so a spoofed control socket cannot drive the terminal.
 */
static int write_escaped(const char *in, size_t n)
{
	char out[4 * 4096 + 1];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if ((c >= 0x20 && c < 0x7f && c != '\\') || c == '\n')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
	}
	return write_all(1, out, o);
}

static int copy_out(int fd, int64_t deadline)
{
	char buf[4096];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - ivshm_clock_ms();
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
		ret = write_escaped(buf, (size_t)n);
		if (ret)
			return ret;
	}
}

int ivshmd_list_peers(const char *socket_path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = ivshm_clock_ms() + timeout_ms;
	int fd, ret, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s." IVSHMD_CTL_SUFFIX, socket_path);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		ivshm_msg_err("socket path too long: %s", socket_path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		ivshm_msg_err("socket: %s", strerror(-ret));
		return ret;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		ivshm_msg_err("%s: %s (is ivshmd running?)", sa.sun_path, strerror(-ret));
		goto out_close;
	}
	ret = copy_out(fd, deadline);
	if (ret)
		ivshm_msg_err("reading %s: %s", sa.sun_path, strerror(-ret));
out_close:
	close(fd);
	return ret;
}
