/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a connection received but its socket did not take yet: a byte ring of
 * at most the buf_alloc it announced (credit keeps the peer within it), so it
 * never grows. Allocated at the first stall and freed once drained: a
 * connection whose socket keeps up holds no buffer at all.
 */
#ifndef PROXY_RXBUF_H
#define PROXY_RXBUF_H

#include <stdint.h>
#include <sys/uio.h>

struct rxbuf {
	char *data;		/* NULL while empty */
	uint32_t cap;		/* set once, before the first put */
	uint32_t head;		/* offset of the oldest byte */
	uint32_t used;
};

/* Append @n bytes. Returns 0, -ENOSPC (more than cap - used), or -ENOMEM. */
int rxbuf_put(struct rxbuf *b, const void *src, uint32_t n);

/* Up to @max buffered bytes from offset @off, as one or two iovecs; returns how many iovecs. */
int rxbuf_iov(const struct rxbuf *b, uint32_t off, uint32_t max, struct iovec iov[2]);

/* Copy the first @n buffered bytes out without consuming them (@n <= used). */
void rxbuf_copy(const struct rxbuf *b, void *dst, uint32_t n);

/* Drop the first @n bytes (@n <= used); the memory goes once empty. */
void rxbuf_consume(struct rxbuf *b, uint32_t n);

void rxbuf_free(struct rxbuf *b);

#endif
