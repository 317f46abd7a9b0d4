// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "list-client.h"
#include "msg.h"
#include "server.h"
#include "unix.h"

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
	char path[PATH_MAX];
	int64_t deadline = ivshm_clock_ms() + timeout_ms;
	int fd, ret, n;

	n = snprintf(path, sizeof(path), "%s." IVSHMD_CTL_SUFFIX, socket_path);
	fd = n < 0 || (size_t)n >= sizeof(path) ? -ENAMETOOLONG : ivshm_unix_connect(path);
	if (fd == -ENAMETOOLONG) {
		ivshm_msg_err("socket path too long: %s", socket_path);
		return fd;
	}
	if (fd < 0) {
		ivshm_msg_err("%s: %s (is ivshmd running?)", path, strerror(-fd));
		return fd;
	}
	ret = copy_out(fd, deadline);
	if (ret)
		ivshm_msg_err("reading %s: %s", path, strerror(-ret));
	close(fd);
	return ret;
}
