// SPDX-License-Identifier: LGPL-2.1-or-later
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "world.h"

struct world *world_new(size_t size, unsigned int n, unsigned int flags)
{
	struct world *w = calloc(1, sizeof(*w));
	unsigned int i;

	if (!w || n > WORLD_MAX_PEERS)
		goto fail;
	w->size = size;
	w->mem = aligned_alloc(IVSHM_SHM_PAGE, size);
	if (!w->mem)
		goto fail;
	memset(w->mem, 0, size);
	for (w->n = 0; w->n < n; w->n++) {
		w->peer[w->n] = mem_dev_open(w->mem, size, (int)w->n + 1, 2);
		if (!w->peer[w->n])
			goto fail;
	}
	if ((flags & WORLD_SERVER) && mem_server_start(w->mem, 10))
		goto fail;
	return w;

fail:
	if (w)
		for (i = 0; i < w->n; i++)
			ivshm_close(w->peer[i]);
	free(w ? w->mem : NULL);
	free(w);
	return NULL;
}

void world_free(struct world *w)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		ivshm_close(w->peer[i]);
	mem_server_stop();
	free(w->mem);
	free(w);
}

struct opener {
	struct ivshm_dev *dev;
	unsigned int peer;
	uint32_t port;
	const struct ivshm_chan_opts *o;
	struct ivshm_chan *ch;
	int err;
};

static void *open_thread(void *arg)
{
	struct opener *o = arg;

	o->err = ivshm_chan_open(o->dev, o->peer, o->port, o->o, 5000, &o->ch);
	return NULL;
}

void world_connect(struct ivshm_dev *from, struct ivshm_dev *to, uint32_t port,
		   const struct ivshm_chan_opts *o_from, const struct ivshm_chan_opts *o_to,
		   struct ivshm_chan **cf, struct ivshm_chan **ct)
{
	struct opener o = { .dev = from, .peer = (unsigned int)to->peer_id, .port = port,
			    .o = o_from };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, open_thread, &o), 0);
	assert_int_equal(ivshm_chan_accept(to, port, o_to, 5000, ct), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(o.err, 0);
	*cf = o.ch;
}

int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	/* A ticking server, as ivshmd's: liveness is known at the first look. */
	if (!e || !(e->w = world_new(ENV_SIZE, 3, WORLD_SERVER)))
		return -1;
	e->mem = e->w->mem;
	e->a = e->w->peer[0];
	e->b = e->w->peer[1];
	e->c = e->w->peer[2];
	if (ivshm_publish(e->a, "a", 0, 0) || ivshm_publish(e->b, "b", 0, 0))
		return -1;
	*state = e;
	return 0;
}

int env_teardown(void **state)
{
	struct env *e = *state;

	ivshm_chan_close(e->ca);
	ivshm_chan_close(e->cb);
	world_free(e->w);
	free(e);
	return 0;
}
