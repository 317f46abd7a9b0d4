/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the channel and directory tests start from: peers (each its own
 * handle, IDs 1, 2, ...) over one buffer, with or without a ticking server
 * page, and two of them connected by a channel. Failures are cmocka
 * assertions.
 */
#ifndef WORLD_H
#define WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "mem-dev.h"

#define WORLD_MAX_PEERS 4
#define WORLD_SERVER    1u	/* a ticking server page, as ivshmd keeps */

struct world {
	char *mem;
	size_t size;
	struct ivshm_dev *peer[WORLD_MAX_PEERS];	/* peer[i] has ID i + 1, 2 vectors */
	unsigned int n;
};

/* @n peers over @size zeroed bytes; with WORLD_SERVER the server page ticks every 10 ms. */
struct world *world_new(size_t size, unsigned int n, unsigned int flags);

/* Close every peer still open (a test that closed one sets it NULL), stop the server, free. */
void world_free(struct world *w);

/*
 * @from opens a channel to @to on @port (in a thread, @o_from) while @to
 * accepts it (@o_to): both ends connected, in *@cf and *@ct.
 */
void world_connect(struct ivshm_dev *from, struct ivshm_dev *to, uint32_t port,
		   const struct ivshm_chan_opts *o_from, const struct ivshm_chan_opts *o_to,
		   struct ivshm_chan **cf, struct ivshm_chan **ct);

/*
 * The fixture most channel tests share (cmocka setup/teardown): peers 1 to 3
 * over SIZE bytes with a ticking server, a and b published as "a" and "b";
 * ca and cb for the test's channel, closed at the teardown.
 */
struct env {
	struct world *w;
	char *mem;
	struct ivshm_dev *a, *b, *c;
	struct ivshm_chan *ca, *cb;
};

#define ENV_SIZE (4u << 20)

int env_setup(void **state);
int env_teardown(void **state);

#endif /* WORLD_H */
