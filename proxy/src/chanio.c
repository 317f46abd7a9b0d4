// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>

#include "chanio.h"
#include "proxy.h"

#define MAX_EVENTS 64

void chanio_watch(struct link *l)
{
	/* Only fails for a bad argument. */
	int out = l->tx_blocked || l->connect_deadline;

	(void)ivshm_chan_set_events(l->ch, IVSHM_CHAN_IN | (out ? IVSHM_CHAN_OUT : 0), l);
}

/* ivshm_poll(), marking the links it names. Returns how many, or an error. */
static int poll_links(struct proxy *px)
{
	struct ivshm_chan_event evs[MAX_EVENTS];
	unsigned int n, i;
	int err;

	err = ivshm_poll(px->dev, evs, MAX_EVENTS, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct link *l = evs[i].data;

		/* A peer opens a link to us (ivshm_listen()). */
		if (!evs[i].ch) {
			px->accept_now = 1;
			continue;
		}
		if (evs[i].events & IVSHM_CHAN_OUT && l->connect_deadline) {
			link_up(l);
			if (!l->tx_blocked)
				chanio_watch(l);
		}
		/* An error shows at the link's next call, which link_input() makes. */
		if (evs[i].events & (IVSHM_CHAN_IN | IVSHM_CHAN_ERR))
			l->rx_more = 1;
		if (evs[i].events & (IVSHM_CHAN_OUT | IVSHM_CHAN_ERR) && l->tx_blocked) {
			l->tx_blocked = 0;
			chanio_watch(l);
		}
	}
	return (int)n;
}

int chanio_poll(struct proxy *px)
{
	int n = poll_links(px);

	return n < 0 ? n : 0;
}

static void set_wait(struct proxy *px, enum ivshm_wait_mode mode)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &px->links) {
		struct link *l = list_entry(pos, struct link, node);

		(void)ivshm_chan_set_wait(l->ch, mode, 0);
	}
}

int chanio_arm(struct proxy *px)
{
	int n;

	set_wait(px, IVSHM_WAIT_INTERRUPT);
	n = poll_links(px);
	return n < 0 ? n : n > 0;
}

void chanio_busy(struct proxy *px)
{
	set_wait(px, IVSHM_WAIT_POLL);
}
