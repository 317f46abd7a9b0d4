// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "eventfd.h"

int ivshm_eventfd_take(int fd, uint64_t *n)
{
	struct iovec iov = { .iov_base = n, .iov_len = sizeof(*n) };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t got;
	int fl;

	/* Measured on 6.18: data when the count is non-zero, EAGAIN at zero, blocking flag or not. */
	got = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
	if (got == (ssize_t)sizeof(*n))
		return 1;
	if (got >= 0)
		return -EIO;
	if (errno == EAGAIN)
		return 0;
	if (errno != EOPNOTSUPP)
		return -errno;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
		return 0;
	got = read(fd, n, sizeof(*n));
	if (got == (ssize_t)sizeof(*n))
		return 1;
	return got < 0 && errno != EAGAIN ? -errno : 0;
}
