/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server page of contracts/ivshm-shm.h (offset IVSHM_SHM_SERVER_OFF of
 * the shared memory; on unless --no-publish-peers): a bitmap of the connected
 * peer IDs below IVSHM_SHM_SERVER_IDS that libivshm reads to see a departed
 * peer at once instead of after its heartbeat stops, the vector count, and a
 * tick that grows every IVSHM_SHM_TICK_MS while ivshmd runs. ivshmd keeps the
 * bitmap in its own memory and rewrites the whole page from it on every
 * change: peers can write the page, and ivshmd never reads back what they
 * wrote, except the tick once at the start, so that a restart keeps the
 * ticks peers wrote comparable (a peer that forged it only moves the clock).
 */
#ifndef IVSHMD_PUBLISH_H
#define IVSHMD_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "ivshm-shm.h"

struct ivshmd_publish {
	struct ivshm_shm_server *page;	/* NULL: not publishing */
	void *map;
	uint64_t map_len;
	uint32_t seq;
	uint32_t vectors;
	uint32_t tick;			/* the last tick stored */
	uint32_t live[IVSHM_SHM_SERVER_IDS / 32];
	bool held;			/* a restart: the table found stays until the peers are back */
};

/*
 * Map the first page of fd (page: the backing's page size, the least it can
 * map) and publish an empty table, the server's vector count and the tick
 * period; the tick goes on from the one the page holds. With @restart (a
 * supervised restart or an upgrade, the peers still to be restored) the table
 * found stays as it is until ivshmd_publish_release(): an empty or partial one
 * meanwhile would tell every peer that the others are gone, for good. Returns
 * 0 or a negative errno, logged.
 */
int ivshmd_publish_start(struct ivshmd_publish *pub, int fd, uint64_t page, unsigned vectors,
			 bool restart);

/* The peers are restored: publish the table ivshmd_publish_set() built meanwhile. */
void ivshmd_publish_release(struct ivshmd_publish *pub);

/* One more tick (never 0: it wraps to 1), stored alone, outside the seqlock. */
void ivshmd_publish_tick(struct ivshmd_publish *pub);

/* Mark id connected or not; rewrites the page. IDs the bitmap lacks are ignored. */
void ivshmd_publish_set(struct ivshmd_publish *pub, unsigned id, bool live);

/* Withdraw the page (magic 0, tick_ms 0: readers fall back to heartbeats) and unmap it. */
void ivshmd_publish_stop(struct ivshmd_publish *pub);

#endif
