// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The frame parser and the credit rules against any bytes: the input is a
 * series of records (a 2-byte little-endian length, then that many bytes,
 * each copied to a buffer of exactly its size so ASan sees any read past it);
 * every frame is checked, OPEN names copied and checked, and DATA and credit
 * frames applied to eight connections (an OPEN stands for a send of ours), whose
 * invariants must hold whatever comes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "frame.h"

#define CONNS 8

static void apply(struct credit *c, const struct frame *f)
{
	uint32_t before = c->peer_fwd;

	switch (f->h.type) {
	case IVSHM_PROXY_DATA:
		if (!credit_rx(c, f->h.len))
			credit_delivered(c, f->h.len / 2);
		/* fall through: DATA carries the reverse direction's fwd_cnt */
	case IVSHM_PROXY_CREDIT:
	case IVSHM_PROXY_SHUTDOWN:
		if (credit_peer_fwd(c, f->h.arg))
			/* Refused: nothing changed. */
			if (c->peer_fwd != before)
				abort();
		break;
	case IVSHM_PROXY_OPEN: {
		char name[IVSHM_PROXY_SERVICE_MAX + 1];

		if (f->h.len <= IVSHM_PROXY_SERVICE_MAX) {
			memcpy(name, f->payload, f->h.len);
			name[f->h.len] = '\0';
			(void)frame_service_ok(name, f->h.len);
		}
		/* An OPEN stands for our own sends here, within the credit, as the proxy sends. */
		if (f->h.arg % 5000 <= credit_avail(c))
			credit_sent(c, f->h.arg % 5000);
		break;
	}
	}
	/* What the rules promise: never more in flight, or held, than was granted. */
	if (c->tx_cnt - c->peer_fwd > c->peer_buf || credit_avail(c) > c->peer_buf ||
	    c->rx_cnt - c->fwd_cnt > c->buf_alloc)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct credit cr[CONNS];
	size_t at = 0, len, pos;
	struct frame f;
	int i;

	for (i = 0; i < CONNS; i++)
		cr[i] = (struct credit){ .peer_buf = 65536, .buf_alloc = 65536 };
	while (size - at >= 2) {
		char *rec;

		len = (size_t)data[at] | (size_t)data[at + 1] << 8;
		at += 2;
		if (len > size - at)
			len = size - at;
		rec = malloc(len ? len : 1);
		if (!rec)
			return 0;
		memcpy(rec, data + at, len);
		at += len;
		pos = 0;
		while (frame_next(rec, len, &pos, &f) == 1) {
			if (pos > len || f.payload + f.h.len > rec + len)
				abort();
			if (!frame_check(&f))
				apply(&cr[f.h.conn % CONNS], &f);
		}
		free(rec);
	}
	return 0;
}
