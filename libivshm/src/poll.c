// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Readiness of many channels for an event loop: the device fd wakes the loop,
 * ivshm_poll() says which channels can go on. It looks at the channels that
 * asked (a few loads each, no system call), and asks the peer of every one
 * that cannot go on yet to ring when it can.
 */
#include <errno.h>
#include <syslog.h>

#include "chan.h"
#include "clock.h"

int ivshm_chan_set_events(struct ivshm_chan *ch, uint32_t events, void *data)
{
	if (!ch || (events & ~(IVSHM_CHAN_IN | IVSHM_CHAN_OUT))) {
		ivshm__log(LOG_DEBUG, "set_events: IVSHM_CHAN_IN and IVSHM_CHAN_OUT only");
		return -EINVAL;
	}
	ch->events = events;
	ch->data = data;
	return 0;
}

/* Room that makes a channel writable: a largest message, or a quarter of a stream ring. */
static uint32_t out_need(const struct ivshm_chan *ch)
{
	if (ch->mine.type == IVSHM_CHAN_PACKET)
		return ivshm__rec_span(ch->mine.max_msg);
	return ch->tx_size / 4;
}

/* What @ch is ready for now, among what it asked; arms what it is not ready for. */
static uint32_t readiness(struct ivshm_chan *ch, int64_t now_ms)
{
	uint32_t ev = 0;
	int err;

	/* A channel opened without waiting: connected now is writable now. */
	if (ch->connecting) {
		err = ivshm__chan_connect_step(ch);
		if (err == -EAGAIN)
			return 0;
		if (err)
			return IVSHM_CHAN_ERR;
	}
	err = ivshm__chan_usable(ch);
	if (!err && !ch->peer_closed && now_ms >= ch->next_check_ms)
		err = ivshm__chan_fail(ch, ivshm__chan_check_peer(ch));
	/* The cheap look every call makes: a peer that closed, left or broke its end. */
	if (!err && !ch->peer_closed)
		err = ivshm__chan_idle(ch, IVSHM_RX);
	if (err && err != -EPIPE)
		return IVSHM_CHAN_ERR;
	/* Closed: reading drains then says -EPIPE, writing says -EPIPE: both can go on. */
	if (ch->peer_closed)
		return ch->events & (IVSHM_CHAN_IN | IVSHM_CHAN_OUT);
	if (ch->events & IVSHM_CHAN_IN) {
		if (ch->peeked || ivshm__chan_ready(ch, IVSHM_RX, 0))
			ev |= IVSHM_CHAN_IN;
		else if (ch->wait != IVSHM_WAIT_POLL) {
			/* Armed, then looked at again: data that came in between is not missed. */
			ivshm__chan_arm(ch, IVSHM_RX, 1);
			if (ivshm__chan_ready(ch, IVSHM_RX, 0))
				ev |= IVSHM_CHAN_IN;
		}
	}
	if (ch->events & IVSHM_CHAN_OUT) {
		if (ivshm__chan_ready(ch, IVSHM_TX, out_need(ch)))
			ev |= IVSHM_CHAN_OUT;
		else if (ch->wait != IVSHM_WAIT_POLL) {
			ivshm__chan_arm(ch, IVSHM_TX, 1);
			if (ivshm__chan_ready(ch, IVSHM_TX, out_need(ch)))
				ev |= IVSHM_CHAN_OUT;
		}
	}
	return ev;
}

/* How often ivshm_poll() looks for requests without a doorbell saying there may be one. */
#define LISTEN_SCAN_MS 250

/*
 * The listened ports a peer asks a channel on, as events, when a doorbell
 * came (an opener rings the peer it asks) or a while passed. Returns how many
 * of @evs it filled.
 */
static unsigned int listened(struct ivshm_region *r, uint64_t fired, int64_t now,
			     struct ivshm_chan_event *evs, unsigned int max)
{
	uint32_t ports[IVSHM__MAX_LISTENS];
	unsigned char pending[IVSHM__MAX_LISTENS] = { 0 };
	unsigned int n = 0, k, got = 0, map[IVSHM__MAX_LISTENS];

	for (k = 0; k < IVSHM__MAX_LISTENS; k++)
		if (r->listens[k].used) {
			map[n] = k;
			ports[n++] = r->listens[k].port;
		}
	if (!n || (!fired && now < r->listen_next_ms) || !r->published)
		return 0;
	r->listen_next_ms = now + LISTEN_SCAN_MS;
	ivshm__find_requests(r, ports, n, pending);
	for (k = 0; k < n && got < max; k++)
		if (pending[k])
			evs[got++] = (struct ivshm_chan_event){ .data = r->listens[map[k]].data,
								.events = IVSHM_CHAN_ACCEPT };
	return got;
}

int ivshm_listen(struct ivshm_dev *dev, uint32_t port, void *data)
{
	struct ivshm_region *r;
	int k, free_k = -1, err;

	err = ivshm__region_of(dev, &r);
	if (err)
		return err;
	for (k = 0; k < IVSHM__MAX_LISTENS; k++) {
		if (r->listens[k].used && r->listens[k].port == port) {
			r->listens[k].data = data;
			return 0;
		}
		if (!r->listens[k].used && free_k < 0)
			free_k = k;
	}
	if (free_k < 0) {
		ivshm__log(LOG_DEBUG, "listen on port %u: %u ports listened already", port,
			   IVSHM__MAX_LISTENS);
		return -ENOSPC;
	}
	r->listens[free_k] = (struct ivshm_listen){ .port = port, .used = 1, .data = data };
	/* The next ivshm_poll() looks at once: a request may be waiting already. */
	r->listen_next_ms = 0;
	return 0;
}

int ivshm_unlisten(struct ivshm_dev *dev, uint32_t port)
{
	struct ivshm_region *r;
	int k, err;

	err = ivshm__region_of(dev, &r);
	if (err)
		return err;
	for (k = 0; k < IVSHM__MAX_LISTENS; k++)
		if (r->listens[k].used && r->listens[k].port == port) {
			r->listens[k].used = 0;
			return 0;
		}
	ivshm__log(LOG_DEBUG, "unlisten: port %u is not listened", port);
	return -ENOENT;
}

int ivshm_poll(struct ivshm_dev *dev, struct ivshm_chan_event *evs, unsigned int max,
	       unsigned int *n)
{
	uint64_t fired, coalesced;
	struct ivshm_region *r;
	struct ivshm_chan *ch;
	unsigned int got = 0;
	int64_t now;
	uint32_t ev;
	int err;

	if (!n || (!evs && max))
		return ivshm__bad_arg(__func__, "a NULL pointer");
	*n = 0;
	err = ivshm__region_of(dev, &r);
	if (err)
		return err;
	fired = 0;
	if (dev->mode == IVSHM_MODE_DOORBELL) {
		err = ivshm__consume(dev, &fired, &coalesced);
		if (err)
			return err;
	}
	/* A lost slot shows on each channel (-ENOTCONN), not here. */
	ivshm__heartbeat(r, 0);
	now = ivshm_clock_ms();
	got = listened(r, fired, now, evs, max);
	for (ch = r->chans; ch && got < max; ch = ch->next) {
		if (!ch->events)
			continue;
		ev = readiness(ch, now);
		if (ev)
			evs[got++] = (struct ivshm_chan_event){ .ch = ch, .data = ch->data,
								.events = ev };
	}
	/* The first channel goes last next time: with more ready than @max, none starves. */
	if (got == max && r->chans && r->chans->next) {
		struct ivshm_chan *first = r->chans, *last = first;

		while (last->next)
			last = last->next;
		r->chans = first->next;
		r->chans->prev = NULL;
		first->next = NULL;
		first->prev = last;
		last->next = first;
	}
	*n = got;
	return 0;
}
