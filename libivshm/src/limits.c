// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What a region allows, from its size alone (the layout of
 * contracts/ivshm-shm.h): every peer computes the same numbers.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* A channel's default ring carries a 64 KiB message (ring / 2 - 8 bytes)... */
#define DEFAULT_RING_MAX (256u * 1024)

static uint32_t pow2_floor(uint64_t v)
{
	uint32_t p = IVSHM__MIN_RING;

	if (v < p)
		return 0;
	while ((uint64_t)p * 2 <= v && p < (1u << 31))
		p *= 2;
	return p;
}

/* Bytes a channel end with a ring of @ring takes in its owner's heap: halves start on a page. */
static uint64_t end_bytes(uint32_t ring)
{
	return ((uint64_t)sizeof(struct ivshm_shm_half) + ring + IVSHM_SHM_PAGE - 1) /
	       IVSHM_SHM_PAGE * IVSHM_SHM_PAGE;
}

uint32_t ivshm__max_ring(const struct ivshm_region *r)
{
	uint64_t heap = r->l.arena_size - IVSHM_SHM_HEAP_OFF;

	return pow2_floor(heap - sizeof(struct ivshm_shm_half));
}

uint32_t ivshm__default_ring(const struct ivshm_region *r)
{
	uint64_t heap = r->l.arena_size - IVSHM_SHM_HEAP_OFF;
	uint32_t ring;

	/* ... where two of them fit an arena; a smaller one where they would not. */
	ring = pow2_floor(heap / 2 - IVSHM_SHM_PAGE);
	if (ring > DEFAULT_RING_MAX)
		ring = DEFAULT_RING_MAX;
	if (ring < IVSHM__MIN_RING || end_bytes(ring) > heap)
		ring = IVSHM__MIN_RING;
	return ring;
}

uint32_t ivshm__max_msg(uint32_t ring)
{
	return ring / 2 - (uint32_t)sizeof(struct ivshm_shm_rec);
}

int ivshm_get_limits(const struct ivshm_dev *dev, struct ivshm_limits *lim)
{
	const struct ivshm_region *r;

	if (!dev || !lim)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	memset(lim, 0, sizeof(*lim));
	lim->size = dev->shm_size;
	if (dev->region_err)
		return dev->region_err;
	r = &dev->region;
	lim->max_peers = r->l.dir_slots;
	lim->max_chans = IVSHM_SHM_MAX_CHANS;
	lim->arena_size = r->l.arena_size;
	lim->user_area = IVSHM_SHM_USER_SIZE;
	lim->max_ring = ivshm__max_ring(r);
	lim->max_msg = lim->max_ring ? ivshm__max_msg(lim->max_ring) : 0;
	lim->default_ring = ivshm__default_ring(r);
	lim->default_max_msg = ivshm__max_msg(lim->default_ring);
	return 0;
}
