// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One ring of a channel: free-running 32-bit byte indices over a power-of-two
 * buffer, and the packet records in it. Pure functions of values the caller
 * loaded once from shared memory; nothing here loads an index itself.
 */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "internal.h"

int ivshm__ring_used(uint32_t prod, uint32_t cons, uint32_t size, uint32_t *used)
{
	/* Unsigned: right across the 2^32 wrap. More than the ring holds is a lie. */
	uint32_t n = prod - cons;

	if (n > size)
		return -EPROTO;
	*used = n;
	return 0;
}

void ivshm__ring_put(char *ring, uint32_t size, uint32_t at, const void *src, uint32_t len)
{
	uint32_t pos = at & (size - 1), first = size - pos;

	if (first >= len) {
		memcpy(ring + pos, src, len);
	} else {
		memcpy(ring + pos, src, first);
		memcpy(ring, (const char *)src + first, len - first);
	}
}

void ivshm__ring_get(const char *ring, uint32_t size, uint32_t at, void *dst, uint32_t len)
{
	uint32_t pos = at & (size - 1), first = size - pos;

	if (first >= len) {
		memcpy(dst, ring + pos, len);
	} else {
		memcpy(dst, ring + pos, first);
		memcpy((char *)dst + first, ring, len - first);
	}
}

uint32_t ivshm__rec_span(uint32_t len)
{
	return (uint32_t)sizeof(struct ivshm_shm_rec) +
	       ((len + IVSHM_SHM_REC_ALIGN - 1) & ~(IVSHM_SHM_REC_ALIGN - 1));
}

int ivshm__rec_check(const struct ivshm_shm_rec *h, uint32_t cons, uint32_t size,
		     uint32_t avail, uint32_t max_msg, uint32_t *span)
{
	uint32_t pos = cons & (size - 1), to_end = size - pos, need;

	if (h->flags & ~IVSHM_SHM_REC_PAD) {
		ivshm__log(LOG_ERR, "channel record at %u: unknown flags %#x", cons, h->flags);
		return -EPROTO;
	}
	if (h->flags & IVSHM_SHM_REC_PAD) {
		/*
		 * A pad fills exactly the rest of the ring, and never all of it: a
		 * record always fits an empty ring, so no sender pads from 0. That
		 * also bounds a reader to one pad per record.
		 */
		if (h->len != to_end - sizeof(*h) || to_end > avail || to_end == size) {
			ivshm__log(LOG_ERR, "channel record at %u: pad of %u bytes, %u to the ring's end",
				   cons, h->len, to_end);
			return -EPROTO;
		}
		*span = to_end;
		return 0;
	}
	if (h->len > max_msg || h->len > size) {
		ivshm__log(LOG_ERR, "channel record at %u: %u bytes, the peer's maximum is %u", cons,
			   h->len, max_msg);
		return -EPROTO;
	}
	need = ivshm__rec_span(h->len);
	if (need > avail || need > to_end) {
		ivshm__log(LOG_ERR, "channel record at %u: %u bytes, %u published, %u to the ring's end",
			   cons, need, avail, to_end);
		return -EPROTO;
	}
	*span = need;
	return 0;
}
