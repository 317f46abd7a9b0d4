// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rxbuf.h"

int rxbuf_put(struct rxbuf *b, const void *src, uint32_t n)
{
	uint32_t tail, first;

	if (n > b->cap - b->used)
		return -ENOSPC;
	if (!b->data) {
		b->data = malloc(b->cap);
		if (!b->data)
			return -ENOMEM;
		b->head = 0;
	}
	tail = (uint32_t)(((uint64_t)b->head + b->used) % b->cap);
	first = b->cap - tail < n ? b->cap - tail : n;
	memcpy(b->data + tail, src, first);
	memcpy(b->data, (const char *)src + first, n - first);
	b->used += n;
	return 0;
}

int rxbuf_iov(const struct rxbuf *b, uint32_t off, uint32_t max, struct iovec iov[2])
{
	uint32_t n, start, first;

	if (off >= b->used)
		return 0;
	n = max < b->used - off ? max : b->used - off;
	if (!n)
		return 0;
	start = (uint32_t)(((uint64_t)b->head + off) % b->cap);
	first = b->cap - start < n ? b->cap - start : n;
	iov[0] = (struct iovec){ b->data + start, first };
	if (first == n)
		return 1;
	iov[1] = (struct iovec){ b->data, n - first };
	return 2;
}

void rxbuf_copy(const struct rxbuf *b, void *dst, uint32_t n)
{
	struct iovec iov[2];
	int i, cnt = rxbuf_iov(b, 0, n, iov);
	char *at = dst;

	for (i = 0; i < cnt; i++) {
		memcpy(at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
}

void rxbuf_consume(struct rxbuf *b, uint32_t n)
{
	b->used -= n;
	b->head = (uint32_t)(((uint64_t)b->head + n) % b->cap);
	if (!b->used)
		rxbuf_free(b);
}

void rxbuf_free(struct rxbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->head = b->used = 0;
}
