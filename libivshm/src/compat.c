// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The 1.1 ABI of the functions whose structures grew reserved space in 1.2:
 * programs linked against libivshm 1.1 call these (the @LIBIVSHM_1.1
 * versions), with the smaller structures they were built with; programs built
 * against the 1.2 header get the plain names. Never change a layout here.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

struct ivshm_chan_opts_v11 {
	enum ivshm_chan_type type;
	uint32_t ring_size;
	uint32_t max_msg;
	enum ivshm_wait_mode wait;
	unsigned int spin_us;
	unsigned int vector;
};

struct ivshm_chan_info_v11 {
	unsigned int peer;
	uint32_t port;
	enum ivshm_chan_type type;
	uint32_t tx_ring, rx_ring;
	uint32_t max_send, max_recv;
};

struct ivshm_chan_stats_v11 {
	uint64_t sent, received;
	uint64_t bytes_sent, bytes_received;
	uint64_t doorbells;
	uint64_t sleeps;
};

struct ivshm_peer_v11 {
	unsigned int id;
	unsigned int vector;
	enum ivshm_peer_state state;
	uint32_t generation;
	uint64_t epoch;
	uint64_t user;
	char role[IVSHM_ROLE_MAX];
};

#define COMPAT(name) __asm__(".symver ivshm__" #name "_v11, ivshm_" #name "@LIBIVSHM_1.1")

static const struct ivshm_chan_opts *opts_from(const struct ivshm_chan_opts_v11 *in,
					       struct ivshm_chan_opts *o)
{
	if (!in)
		return NULL;
	memset(o, 0, sizeof(*o));
	memcpy(o, in, sizeof(*in));
	return o;
}

static void peer_to(struct ivshm_peer_v11 *out, const struct ivshm_peer *p)
{
	memcpy(out, p, sizeof(*out));
}

COMPAT(chan_open);
int ivshm__chan_open_v11(struct ivshm_dev *dev, unsigned int peer, uint32_t port,
			 const struct ivshm_chan_opts_v11 *opts, int timeout_ms,
			 struct ivshm_chan **chp)
{
	struct ivshm_chan_opts o;

	return ivshm_chan_open(dev, peer, port, opts_from(opts, &o), timeout_ms, chp);
}

COMPAT(chan_accept);
int ivshm__chan_accept_v11(struct ivshm_dev *dev, uint32_t port,
			   const struct ivshm_chan_opts_v11 *opts, int timeout_ms,
			   struct ivshm_chan **chp)
{
	struct ivshm_chan_opts o;

	return ivshm_chan_accept(dev, port, opts_from(opts, &o), timeout_ms, chp);
}

COMPAT(chan_get_info);
int ivshm__chan_get_info_v11(const struct ivshm_chan *ch, struct ivshm_chan_info_v11 *info)
{
	struct ivshm_chan_info i;
	int err;

	if (!info)
		return -EINVAL;
	err = ivshm_chan_get_info(ch, &i);
	if (!err)
		memcpy(info, &i, sizeof(*info));
	return err;
}

COMPAT(chan_get_stats);
int ivshm__chan_get_stats_v11(const struct ivshm_chan *ch, struct ivshm_chan_stats_v11 *stats)
{
	struct ivshm_chan_stats s;
	int err;

	if (!stats)
		return -EINVAL;
	err = ivshm_chan_get_stats(ch, &s);
	if (!err)
		memcpy(stats, &s, sizeof(*stats));
	return err;
}

COMPAT(find_peer);
int ivshm__find_peer_v11(struct ivshm_dev *dev, const char *role, int timeout_ms,
			 struct ivshm_peer_v11 *peer)
{
	struct ivshm_peer p;
	int err;

	if (!peer)
		return -EINVAL;
	err = ivshm_find_peer(dev, role, timeout_ms, &p);
	if (!err)
		peer_to(peer, &p);
	return err;
}

COMPAT(get_peer);
int ivshm__get_peer_v11(struct ivshm_dev *dev, unsigned int id, struct ivshm_peer_v11 *peer)
{
	struct ivshm_peer p;
	int err;

	if (!peer)
		return -EINVAL;
	err = ivshm_get_peer(dev, id, &p);
	if (!err)
		peer_to(peer, &p);
	return err;
}

COMPAT(list_peers);
int ivshm__list_peers_v11(struct ivshm_dev *dev, struct ivshm_peer_v11 *peers, unsigned int max,
			  unsigned int *n)
{
	struct ivshm_peer p[IVSHM_SHM_MAX_SLOTS];
	unsigned int i, got;
	int err;

	if ((!peers && max) || !n)
		return -EINVAL;
	err = ivshm_list_peers(dev, p, IVSHM_SHM_MAX_SLOTS, &got);
	if (err)
		return err;
	for (i = 0; i < got && i < max; i++)
		peer_to(&peers[i], &p[i]);
	*n = got;
	return got > max ? -ENOSPC : 0;
}
