// SPDX-License-Identifier: LGPL-2.1-or-later
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

/* Room for a few fds so a misbehaving server is detected, not truncated silently. */
#define MAX_FDS_PER_READ 8

void ivshm_proto_encode(int64_t value, unsigned char out[IVSHMEM_SERVER_MSG_SIZE])
{
	uint64_t le = htole64((uint64_t)value);

	memcpy(out, &le, sizeof(le));
}

int64_t ivshm_proto_decode(const unsigned char in[IVSHMEM_SERVER_MSG_SIZE])
{
	uint64_t le;

	memcpy(&le, in, sizeof(le));
	return (int64_t)le64toh(le);
}

void ivshm_proto_reader_init(struct ivshm_proto_reader *r)
{
	r->have = 0;
	r->fd = -1;
}

void ivshm_proto_reader_reset(struct ivshm_proto_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	ivshm_proto_reader_init(r);
}

/* Takes every fd out of msg; keeps the first in *fd, closes the rest. */
static int collect_fds(struct msghdr *msg, int *fd)
{
	int ret = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			ret = -EPROTO;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0) {
				*fd = f;
			} else {
				close(f);
				ret = -EPROTO;
			}
		}
	}
	if (msg->msg_flags & MSG_CTRUNC)
		ret = -EPROTO;
	return ret;
}

int ivshm_proto_read(struct ivshm_proto_reader *r, int sock, int64_t *value, int *fd)
{
	union {
		char buf[CMSG_SPACE(MAX_FDS_PER_READ * sizeof(int))];
		struct cmsghdr align;
	} ctl;

	while (r->have < IVSHMEM_SERVER_MSG_SIZE) {
		struct iovec iov = {
			.iov_base = r->buf + r->have,
			.iov_len = IVSHMEM_SERVER_MSG_SIZE - r->have,
		};
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n;
		int ret;

		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		ret = collect_fds(&msg, &r->fd);
		if (ret) {
			ivshm_proto_reader_reset(r);
			return ret;
		}
		if (n == 0) {
			if (r->have == 0 && r->fd < 0)
				return 0;
			ivshm_proto_reader_reset(r);
			return -EPROTO;
		}
		r->have += (size_t)n;
	}
	*value = ivshm_proto_decode(r->buf);
	*fd = r->fd;
	r->have = 0;
	r->fd = -1;
	return 1;
}
