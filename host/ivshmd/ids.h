/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Choosing the ID of an unpinned peer. IDs go upward from just past the last
 * one handed out and wrap at the top, as in QEMU's ivshmem-server: a freed ID
 * is the last to be reused, so a doorbell still aimed at a departed peer
 * cannot reach the newcomer that took its place.
 */
#ifndef IVSHMD_IDS_H
#define IVSHMD_IDS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The first ID from *next upward, wrapping to 0 after nids - 1, for which
 * taken(ctx, id) is false. On success returns the ID and sets *next past it;
 * returns -1 when every ID is taken.
 */
int ivshmd_ids_pick(unsigned nids, unsigned *next, bool (*taken)(const void *ctx, unsigned id),
		    const void *ctx);

#endif
