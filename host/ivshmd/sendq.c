// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"
#include "sendq.h"

/* Messages per sendmmsg(): fewer syscalls when a peer joins a crowded server. */
#define BATCH 64
/* A drained ring bigger than this is freed: a setup burst must not pin memory per peer. */
#define KEEP_CAP 64

void ivshmd_sendq_init(struct ivshmd_sendq *q, size_t limit)
{
	*q = (struct ivshmd_sendq){ .limit = limit };
}

static struct ivshmd_msg *at(const struct ivshmd_sendq *q, size_t i)
{
	return &q->ring[(q->head + i) & (q->cap - 1)];
}

static void drop_head(struct ivshmd_sendq *q)
{
	ivshmd_fdref_put(q->ring[q->head].ref);
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	q->partial = 0;
}

void ivshmd_sendq_clear(struct ivshmd_sendq *q)
{
	while (q->len)
		drop_head(q);
	free(q->ring);
	ivshmd_sendq_init(q, q->limit);
}

static int grow(struct ivshmd_sendq *q)
{
	size_t cap = q->cap ? q->cap * 2 : 16;
	struct ivshmd_msg *ring = malloc(cap * sizeof(*ring));

	if (!ring)
		return -ENOMEM;
	for (size_t i = 0; i < q->len; i++)
		ring[i] = *at(q, i);
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	return 0;
}

int ivshmd_sendq_push(struct ivshmd_sendq *q, int64_t value, struct ivshmd_fdref *ref)
{
	int ret;

	if (q->len >= q->limit)
		return -ENOBUFS;
	if (q->len == q->cap) {
		ret = grow(q);
		if (ret)
			return ret;
	}
	*at(q, q->len) = (struct ivshmd_msg){
		.value = value,
		.ref = ref ? ivshmd_fdref_get(ref) : NULL,
	};
	q->len++;
	return 0;
}

union fdctl {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* Builds message i of the batch; the fd rides only with a message's first byte. */
static void build(struct ivshmd_sendq *q, size_t i, unsigned char data[IVSHMEM_SERVER_MSG_SIZE],
		  struct iovec *iov, union fdctl *ctl, struct msghdr *mh)
{
	const struct ivshmd_msg *m = at(q, i);
	size_t skip = i == 0 ? q->partial : 0;

	ivshm_proto_encode(m->value, data);
	iov->iov_base = data + skip;
	iov->iov_len = IVSHMEM_SERVER_MSG_SIZE - skip;
	*mh = (struct msghdr){ .msg_iov = iov, .msg_iovlen = 1 };
	if (m->ref && skip == 0) {
		struct cmsghdr *c;
		int fd = ivshmd_fdref_fd(m->ref);

		memset(ctl, 0, sizeof(*ctl));
		mh->msg_control = ctl->buf;
		mh->msg_controllen = sizeof(ctl->buf);
		c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
}

int ivshmd_sendq_flush(struct ivshmd_sendq *q, int sock, int *progress)
{
	unsigned char data[BATCH][IVSHMEM_SERVER_MSG_SIZE];
	struct iovec iov[BATCH];
	union fdctl ctl[BATCH];
	struct mmsghdr mm[BATCH];

	*progress = 0;
	while (q->len) {
		size_t n = q->len < BATCH ? q->len : BATCH;
		int sent;

		for (size_t i = 0; i < n; i++) {
			build(q, i, data[i], &iov[i], &ctl[i], &mm[i].msg_hdr);
			mm[i].msg_len = 0;
		}
		sent = sendmmsg(sock, mm, (unsigned)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		for (int i = 0; i < sent; i++) {
			size_t want = iov[i].iov_len;

			if (mm[i].msg_len)
				*progress = 1;
			if (mm[i].msg_len < want) {
				/* A short send: the rest of this message goes next time, without its fd. */
				q->partial += mm[i].msg_len;
				return -EAGAIN;
			}
			drop_head(q);
		}
		if ((size_t)sent < n)
			return -EAGAIN;
	}
	if (q->cap > KEEP_CAP)
		ivshmd_sendq_clear(q);
	return 0;
}
