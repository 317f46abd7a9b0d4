// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One ring of a channel: free-running 32-bit byte indices over a power-of-two
 * buffer (the packet records in it are sized and checked inline, in
 * internal.h). Pure functions of values the caller loaded once from shared
 * memory; nothing here loads an index itself.
 */
#include <errno.h>
#include <string.h>

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
