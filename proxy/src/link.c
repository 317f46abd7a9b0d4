// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Links: one libivshm packet channel to each peer proxy, carrying every
 * connection between the two (contracts/ivshm-proxy.h). An import opens the
 * link to its peer as soon as the peer shows up (or at its first client);
 * links other proxies open are accepted. A link goes when
 * its channel breaks (the peer closed, died or restarted: libivshm watches it
 * for ivshm_poll()), and every connection on it is reset then.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chanio.h"
#include "clock.h"
#include "proxy.h"

/*
 * How long a new link may wait for the peer to accept it: the peer's accept
 * needs to have seen us alive, within a few heartbeats. The open does not
 * block the loop (IVSHM_CHAN_NONBLOCK); connections queue on the link meanwhile.
 */
#define LINK_OPEN_MS 2000
/* The largest DATA payload: bigger ones would keep other connections waiting longer. */
#define MAX_DATA (64u * 1024)
/* After a failed link, an import waits this long (doubling up to the maximum). */
#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS 30000u

static void opts_init(const struct proxy *px, struct ivshm_chan_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->type = IVSHM_CHAN_PACKET;
	o->ring_size = px->cfg->ring;
	o->wait = IVSHM_WAIT_POLL;	/* the loop switches it (chanio.c) */
	o->vector = px->cfg->vector;
}

/* A smaller ring after -ENOSPC (our arena is shared by every link). Returns 0 at the minimum. */
static int shrink(const struct proxy *px, struct ivshm_chan_opts *o)
{
	struct ivshm_limits lim;

	if (!o->ring_size) {
		if (ivshm_get_limits(px->dev, &lim))
			return 0;
		o->ring_size = lim.default_ring;
	}
	if (o->ring_size <= 4096)
		return 0;
	o->ring_size /= 2;
	return 1;
}

void link_up(struct link *l)
{
	struct ivshm_chan_info info;

	l->connect_deadline = 0;
	if (!ivshm_chan_get_info(l->ch, &info))
		proxy_log(LOG_INFO, "link to peer %u (%s) up: rings %u and %u bytes", l->peer_id,
			  l->role, info.tx_ring, info.rx_ring);
}

struct link *link_new(struct proxy *px, struct ivshm_chan *ch, const struct ivshm_peer *p,
		      int connecting)
{
	struct ivshm_chan_info info;
	struct link *l = calloc(1, sizeof(*l));

	if (!l || ivshm_chan_get_info(ch, &info))
		goto fail;
	l->mine = calloc(px->cfg->max_conns, sizeof(*l->mine));
	l->theirs = calloc(px->cfg->max_conns, sizeof(*l->theirs));
	if (!l->mine || !l->theirs)
		goto fail;
	l->px = px;
	l->ch = ch;
	l->peer_id = p->id;
	l->epoch = p->epoch;
	memcpy(l->role, p->role, sizeof(l->role));
	l->role[sizeof(l->role) - 1] = '\0';
	l->max_send = info.max_send;
	l->max_data = info.max_send - FRAME_HDR < MAX_DATA ? info.max_send - FRAME_HDR : MAX_DATA;
	/* The lower peer ID opens even IDs. */
	l->parity = px->self_id > p->id;
	l->want_hello = 1;
	if (connecting)
		l->connect_deadline = ivshm_clock_ms() + LINK_OPEN_MS;
	l->rl.burst = 5;
	l->rl.period_ms = 10000;
	list_init(&l->ctl);
	list_init(&l->ready);
	list_add_tail(&px->links, &l->node);
	px->n_links++;
	chanio_watch(l);
	if (!connecting)
		link_up(l);
	return l;
fail:
	if (l) {
		free(l->mine);
		free(l->theirs);
		free(l);
	}
	ivshm_chan_close(ch);
	return NULL;
}

static struct link *by_peer(struct proxy *px, unsigned int id)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &px->links) {
		struct link *l = list_entry(pos, struct link, node);

		if (!l->dead && l->peer_id == id)
			return l;
	}
	return NULL;
}

static struct link *open_link(struct proxy *px, const struct ivshm_peer *p)
{
	struct ivshm_chan_opts o;
	struct ivshm_chan *ch;
	int err;

	opts_init(px, &o);
	o.flags = IVSHM_CHAN_NONBLOCK;
	do
		err = ivshm_chan_open(px->dev, p->id, IVSHM_PROXY_PORT, &o, 0, &ch);
	while (err == -ENOSPC && shrink(px, &o));
	if (err && err != -EINPROGRESS) {
		proxy_log(LOG_INFO, "no link to peer %u (%s): %s", p->id, p->role, ivshm_strerror(err));
		return NULL;
	}
	return link_new(px, ch, p, err == -EINPROGRESS);
}

struct link *link_for_role(struct proxy *px, struct listener *lst)
{
	const char *role = lst->imp->role;
	struct list *pos, *tmp;
	struct ivshm_peer p;
	struct link *l;
	int64_t now;

	list_for_each_safe(pos, tmp, &px->links) {
		l = list_entry(pos, struct link, node);
		if (!l->dead && !strcmp(l->role, role))
			return l;
	}
	now = ivshm_clock_ms();
	if (!px->published || now < lst->retry_ms || ivshm_find_peer(px->dev, role, 0, &p))
		return NULL;
	/* A link to it under another role (it published again): the same peer. */
	l = by_peer(px, p.id);
	if (!l)
		l = open_link(px, &p);
	if (!l) {
		lst->backoff_ms = lst->backoff_ms ? lst->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (lst->backoff_ms > BACKOFF_MAX_MS)
			lst->backoff_ms = BACKOFF_MAX_MS;
		lst->retry_ms = ivshm_clock_ms() + lst->backoff_ms;
		return NULL;
	}
	lst->backoff_ms = 0;
	return l;
}

void links_import(struct proxy *px)
{
	unsigned int i;

	px->unlinked = 0;
	for (i = 0; i < px->cfg->n_imports; i++)
		if (!px->published || !link_for_role(px, &px->listeners[i]))
			px->unlinked++;
}

void links_accept(struct proxy *px)
{
	struct ivshm_chan_opts o;
	struct ivshm_chan_info info;
	struct ivshm_chan *ch;
	struct ivshm_peer p;
	struct link *old;
	int err;

	if (!px->published)
		return;
	opts_init(px, &o);
	for (;;) {
		err = ivshm_chan_accept(px->dev, IVSHM_PROXY_PORT, &o, 0, &ch);
		if (err == -ENOSPC && shrink(px, &o))
			continue;
		if (err) {
			if (err != -ETIMEDOUT)
				proxy_log(LOG_WARNING, "accepting a link: %s", ivshm_strerror(err));
			return;
		}
		if (ivshm_chan_get_info(ch, &info) || ivshm_get_peer(px->dev, info.peer, &p)) {
			ivshm_chan_close(ch);
			continue;
		}
		old = by_peer(px, p.id);
		if (old)
			link_fail(old, "the peer opened a new link");
		link_new(px, ch, &p, 0);
	}
}

void link_fail(struct link *l, const char *why)
{
	if (l->dead)
		return;
	l->dead = why;
	proxy_log(LOG_INFO, "link to peer %u (%s) down: %s; resetting %u connections", l->peer_id,
		  l->role, why, l->n_mine + l->n_theirs);
}

void links_check(struct proxy *px, int64_t now)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &px->links) {
		struct link *l = list_entry(pos, struct link, node);

		if (l->connect_deadline && now >= l->connect_deadline)
			link_fail(l, "the peer did not answer");
	}
}

void link_error(struct link *l, int err)
{
	/* Not the link's doing: this peer lost its slot, or the device went away. */
	if (err == -ENOTCONN || err == -ENOLINK || err == -ENODEV)
		l->px->dev_err = err;
	link_fail(l, ivshm_strerror(err));
}

static void link_free(struct link *l)
{
	struct proxy *px = l->px;
	uint32_t i;

	for (i = 0; i < px->cfg->max_conns; i++) {
		if (l->mine[i])
			conn_free(l->mine[i]);
		if (l->theirs[i])
			conn_free(l->theirs[i]);
	}
	ivshm_chan_close(l->ch);
	list_del(&l->node);
	px->n_links--;
	free(l->mine);
	free(l->theirs);
	free(l);
}

void links_reap(struct proxy *px)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &px->links) {
		struct link *l = list_entry(pos, struct link, node);

		if (l->dead)
			link_free(l);
	}
}

void links_free_all(struct proxy *px, const char *why)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &px->links)
		link_fail(list_entry(pos, struct link, node), why);
	links_reap(px);
}

struct conn *link_conn(struct link *l, uint32_t id, int *theirs, uint32_t *idx, int *valid)
{
	*theirs = (id & 1) != l->parity;
	*idx = id / 2 - 1;
	*valid = id >= 2 && *idx < l->px->cfg->max_conns;
	if (!*valid)
		return NULL;
	return (*theirs ? l->theirs : l->mine)[*idx];
}
