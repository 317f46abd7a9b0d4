// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "chanio.h"
#include "clock.h"
#include "control.h"
#include "device.h"
#include "import.h"
#include "loop.h"

/*
 * Accepting links: at once when ivshm_poll() reports a request (ivshm_listen());
 * and at least every ACCEPT_TICK_MS, after a doorbell every ACCEPT_MIN_MS for
 * ACCEPT_WINDOW_MS, since without a ticking server libivshm accepts from a peer
 * only once it saw it alive twice, which no event announces.
 */
#define ACCEPT_MIN_MS 50
#define ACCEPT_TICK_MS 1000
#define ACCEPT_WINDOW_MS 1500
/* Deadlines of connections, paused listeners, the device's return: looked at this often. */
#define CHECK_MS 50
/* Imports look for their peers this often (links.c). */
#define IMPORT_MS 250
#define MAX_EVENTS 64

static void on_signal(struct proxy *px)
{
	struct signalfd_siginfo si;

	while (read(px->sig_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			px->stop = 1;
}

static void check(struct proxy *px, int64_t now)
{
	struct list *pos, *tmp;

	device_retry(px, now);
	/* A peer that lost its slot learns it here when no channel is there to say so. */
	if (px->published && ivshm_heartbeat(px->dev) == -ENOTCONN)
		px->dev_err = -ENOTCONN;
	if (now >= px->next_import_ms) {
		links_import(px);
		px->next_import_ms = now + IMPORT_MS;
	}
	list_for_each_safe(pos, tmp, &px->connecting)
		conn_timer(list_entry(pos, struct conn, timer_node), now);
	links_check(px, now);
	listeners_resume(px, now);
	control_expire(px, now);
	px->next_check_ms = now + CHECK_MS;
}

/*
 * One turn over the device and the links: those ivshm_poll() named, those with
 * frames to send, and, unless the loop slept armed (then the peers ring and
 * ivshm_poll() names their links), all of them: a look at an empty ring is a
 * few loads. Returns whether it did anything.
 */
static int service(struct proxy *px, int fired, int look_all)
{
	int64_t now = ivshm_clock_ms();
	struct list *pos, *tmp;
	int did = 0, work, err, ms;

	if (px->dev && (fired || (!ivshm_next_timeout(px->dev, &ms) && ms == 0))) {
		err = chanio_poll(px);
		if (err)
			device_error(px, err);
	}
	if (fired)
		px->accept_until_ms = now + ACCEPT_WINDOW_MS;
	if (px->published && (px->accept_now || now >= px->next_accept_ms)) {
		px->accept_now = 0;
		links_accept(px);
		px->next_accept_ms = now + (now < px->accept_until_ms ? ACCEPT_MIN_MS : ACCEPT_TICK_MS);
	}
	if (now >= px->next_check_ms)
		check(px, now);
	list_for_each_safe(pos, tmp, &px->links) {
		struct link *l = list_entry(pos, struct link, node);
		int out = link_has_output(l) && !l->tx_blocked;

		if (!look_all && !l->rx_more && !out)
			continue;
		/* Everything this turn reads and sends: one index store each way, one doorbell. */
		err = ivshm_chan_batch_begin(l->ch);
		work = link_input(l);
		work |= link_output(l);
		if (!err)
			err = ivshm_chan_batch_end(l->ch);
		if (err)
			link_error(l, err);
		else if (work)
			l->st.batches++;
		did |= work;
	}
	links_reap(px);
	if (px->dev_err) {
		err = px->dev_err;
		px->dev_err = 0;
		device_error(px, err);
	}
	return did;
}

static void reap_conns(struct proxy *px)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &px->graveyard) {
		list_del(pos);
		free(list_entry(pos, struct conn, timer_node));
	}
}

/* Milliseconds until something is due: a heartbeat, an accept, a deadline. */
static int sleep_ms(struct proxy *px)
{
	int64_t now = ivshm_clock_ms(), next = px->next_accept_ms;
	int ms;

	if (!list_empty(&px->links) || !list_empty(&px->connecting) || !px->published)
		next = next < px->next_check_ms ? next : px->next_check_ms;
	if (px->unlinked && px->next_import_ms < next)
		next = px->next_import_ms;
	if (px->dev && !ivshm_next_timeout(px->dev, &ms) && ms >= 0 && now + ms < next)
		next = now + ms;
	return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

static void dispatch(struct proxy *px, const struct epoll_event *ev, int *fired)
{
	struct watch *w = ev->data.ptr;

	switch (w->kind) {
	case W_DEVICE:
		*fired = 1;
		break;
	case W_SIGNAL:
		on_signal(px);
		break;
	case W_LISTEN:
		listener_event(px, (struct listener *)w);
		break;
	case W_CONN:
		conn_event((struct conn *)w, ev->events);
		break;
	case W_CONTROL:
	case W_CONTROL_CLIENT:
		control_event(px, w, ev->events);
		break;
	}
}

int proxy_loop(struct proxy *px)
{
	struct epoll_event evs[MAX_EVENTS];
	int fired = 0, did, timeout, n, i, sleeping, ready;
	int64_t now_us;

	chanio_busy(px);
	sleeping = 0;
	while (!px->stop) {
		did = service(px, fired, !sleeping);
		fired = 0;
		reap_conns(px);
		now_us = ivshm_clock_us();
		if (did)
			px->last_busy_us = now_us;
		sleeping = !did && px->cfg->wait != IVSHM_WAIT_POLL &&
			   (px->cfg->wait != IVSHM_WAIT_HYBRID ||
			    now_us - px->last_busy_us >= px->cfg->spin_us);
		timeout = 0;
		if (sleeping) {
			/* Every peer rings once there is something; what came meanwhile is served first. */
			ready = px->published ? chanio_arm(px) : 0;
			if (ready < 0)
				device_error(px, ready);
			else if (!ready)
				timeout = sleep_ms(px);
		}
		n = epoll_wait(px->ep, evs, MAX_EVENTS, timeout);
		if (sleeping)
			chanio_busy(px);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++)
			dispatch(px, &evs[i], &fired);
		reap_conns(px);
	}
	return 0;
}
