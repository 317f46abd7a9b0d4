// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>

#include "chanio.h"
#include "proxy.h"

/* Set at the first -ENOSYS: the library predates the call. */
static int no_peek, no_batch, no_poll;

static int peek_once(struct link *l, const char **rec, size_t *len)
{
	const void *msg;
	int err;

	if (!no_peek) {
		err = ivshm_chan_peek(l->ch, &msg, len, 0);
		if (err != -ENOSYS) {
			*rec = msg;
			return err;
		}
		no_peek = 1;
	}
	if (!l->rx.copy) {
		struct ivshm_chan_info info;

		err = ivshm_chan_get_info(l->ch, &info);
		if (err)
			return err;
		l->rx.copy = malloc(info.max_recv);
		if (!l->rx.copy)
			return -ENOMEM;
		l->rx.size = info.max_recv;
	}
	*rec = l->rx.copy;
	return ivshm_chan_recv(l->ch, l->rx.copy, l->rx.size, len, 0);
}

int chanio_peek(struct link *l, const char **rec, size_t *len)
{
	if (l->rx.held) {
		l->rx.held = 0;
		*rec = l->rx.rec;
		*len = l->rx.len;
		return l->rx.err;
	}
	return peek_once(l, rec, len);
}

int chanio_release(struct link *l, size_t len)
{
	return no_peek ? 0 : ivshm_chan_release(l->ch, len);
}

void chanio_batch_begin(struct link *l)
{
	if (!no_batch && ivshm_chan_batch_begin(l->ch) == -ENOSYS)
		no_batch = 1;
}

int chanio_batch_end(struct link *l)
{
	int err;

	if (no_batch)
		return 0;
	err = ivshm_chan_batch_end(l->ch);
	if (!err)
		l->st.batches++;
	return err == -ENOSYS ? 0 : err;
}

void chanio_watch(struct link *l)
{
	uint32_t ev = IVSHM_CHAN_IN | (l->tx_blocked ? IVSHM_CHAN_OUT : 0);

	if (!no_poll && ivshm_chan_set_events(l->ch, ev, l) == -ENOSYS)
		no_poll = 1;
}

void chanio_forget(struct link *l)
{
	if (!no_poll)
		(void)ivshm_chan_set_events(l->ch, 0, NULL);
}

/* ivshm_poll(), and what its events mean for the links. Returns -ENOSYS, an error, or how many. */
static int poll_events(struct proxy *px)
{
	struct ivshm_chan_event evs[64];
	unsigned int n, i;
	int err;

	err = ivshm_poll(px->dev, evs, 64, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct link *l = evs[i].data;

		if (evs[i].events & (IVSHM_CHAN_OUT | IVSHM_CHAN_ERR))
			l->tx_blocked = 0;
		if (evs[i].events & (IVSHM_CHAN_IN | IVSHM_CHAN_ERR))
			l->rx_more = 1;
	}
	return (int)n;
}

int chanio_poll(struct proxy *px)
{
	int err;

	if (!no_poll) {
		err = poll_events(px);
		if (err != -ENOSYS)
			return err < 0 ? err : 0;
		no_poll = 1;
	}
	err = ivshm_ack(px->dev, NULL, NULL);
	if (err && err != -EAGAIN)
		return err;
	err = ivshm_heartbeat(px->dev);
	return err == -ENOENT ? 0 : err;
}

/* The stand-in's arming: a look at each ring in interrupt mode asks the peer to ring. */
static int arm_link(struct link *l)
{
	void *room;
	int err;

	if (l->rx_more || l->rx.held)
		return 1;
	if (l->tx_blocked) {
		err = ivshm_chan_reserve(l->ch, l->max_send, &room, 0);
		if (err != -EAGAIN) {
			/* Room after all (an empty record says nothing), or an error for the next turn. */
			if (!err)
				(void)ivshm_chan_commit(l->ch, 0);
			l->tx_blocked = 0;
			return 1;
		}
	}
	err = peek_once(l, &l->rx.rec, &l->rx.len);
	if (err == -EAGAIN)
		return 0;
	/* A record or an error: either is work for link_input(). */
	l->rx.err = err;
	l->rx.held = 1;
	return 1;
}

int chanio_arm(struct proxy *px)
{
	struct list *pos, *tmp;
	int ready = 0, n;

	if (!no_poll) {
		n = poll_events(px);
		if (n != -ENOSYS)
			return n != 0;
		no_poll = 1;
	}
	list_for_each_safe(pos, tmp, &px->links) {
		struct link *l = list_entry(pos, struct link, node);

		if (!l->dead)
			ready |= arm_link(l);
	}
	return ready;
}

void chanio_busy(struct proxy *px, int busy)
{
	enum ivshm_wait_mode mode = busy || px->cfg->wait == IVSHM_WAIT_POLL ? IVSHM_WAIT_POLL :
				    IVSHM_WAIT_INTERRUPT;
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &px->links) {
		struct link *l = list_entry(pos, struct link, node);

		(void)ivshm_chan_set_wait(l->ch, mode, 0);
	}
}
