// SPDX-License-Identifier: GPL-2.0-or-later
#include "ids.h"

int ivshmd_ids_pick(unsigned nids, unsigned *next, bool (*taken)(const void *ctx, unsigned id),
		    const void *ctx)
{
	unsigned id = *next < nids ? *next : 0;

	for (unsigned tried = 0; tried < nids; tried++, id = id + 1 < nids ? id + 1 : 0) {
		if (taken(ctx, id))
			continue;
		*next = id + 1 < nids ? id + 1 : 0;
		return (int)id;
	}
	return -1;
}
