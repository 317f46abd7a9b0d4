/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-connection credit (virtio-vsock's buf_alloc/fwd_cnt, contracts/ivshm-proxy.h):
 * how much this side may send, and whether what the peer sends or reports
 * keeps the rules. Free-running 32-bit counts; pure arithmetic, no I/O.
 */
#ifndef PROXY_CREDIT_H
#define PROXY_CREDIT_H

#include <errno.h>
#include <stdint.h>

struct credit {
	/* Sending: our count, what the peer delivered, what it can hold. */
	uint32_t tx_cnt, peer_fwd, peer_buf;
	/* Receiving: what arrived, what we delivered, what we last told, what we hold. */
	uint32_t rx_cnt, fwd_cnt, fwd_told, buf_alloc;
};

/* Bytes we may send now. */
static inline uint32_t credit_avail(const struct credit *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd;

	return in_flight >= c->peer_buf ? 0 : c->peer_buf - in_flight;
}

/* We sent @n bytes (or a message costing @n); the caller checked credit_avail(). */
static inline void credit_sent(struct credit *c, uint32_t n)
{
	c->tx_cnt += n;
}

/*
 * The peer reports @fwd delivered. Returns 0, or -EPROTO: it went backwards
 * or past what we sent (the same test: as 32-bit counts, both move the
 * report further from ours than what is in flight).
 */
static inline int credit_peer_fwd(struct credit *c, uint32_t fwd)
{
	if ((uint32_t)(fwd - c->peer_fwd) > (uint32_t)(c->tx_cnt - c->peer_fwd))
		return -EPROTO;
	c->peer_fwd = fwd;
	return 0;
}

/* @n bytes arrive. Returns 0, or -EPROTO: they would not fit what we announced. */
static inline int credit_rx(struct credit *c, uint32_t n)
{
	if (n > c->buf_alloc - (c->rx_cnt - c->fwd_cnt))
		return -EPROTO;
	c->rx_cnt += n;
	return 0;
}

/* @n bytes went to our socket. */
static inline void credit_delivered(struct credit *c, uint32_t n)
{
	c->fwd_cnt += n;
}

/*
 * Whether to tell the peer our fwd_cnt now: once a quarter of the buffer was
 * delivered unannounced, the peer's window has shrunk enough to matter; less
 * often would stall a fast stream, more often costs a frame per write.
 */
static inline int credit_update_due(const struct credit *c)
{
	return c->fwd_cnt - c->fwd_told >= c->buf_alloc / 4;
}

#endif
