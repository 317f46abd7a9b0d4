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

/* Accepting links: at most this often on doorbells, and at least this often without. */
#define ACCEPT_MIN_MS 10
#define ACCEPT_TICK_MS 1000
/* Deadlines of connections, liveness of links, paused listeners: looked at this often. */
#define CHECK_MS 50
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
	if (px->published)
		links_check(px);
	list_for_each_safe(pos, tmp, &px->connecting)
		conn_timer(list_entry(pos, struct conn, timer_node), now);
	listeners_resume(px, now);
	control_expire(px, now);
	px->next_check_ms = now + CHECK_MS;
}

/* One turn over the device and the links. Returns whether it did anything. */
static int service(struct proxy *px, int fired)
{
	int64_t now = ivshm_clock_ms();
	struct list *pos, *tmp;
	int did = 0, err, ms;

	if (px->dev && (fired || (!ivshm_next_timeout(px->dev, &ms) && ms == 0))) {
		err = chanio_poll(px);
		if (err)
			device_error(px, err);
	}
	if (px->published && (now >= px->next_accept_ms ||
			      (fired && now >= px->next_accept_ms - ACCEPT_TICK_MS + ACCEPT_MIN_MS))) {
		links_accept(px);
		px->next_accept_ms = now + ACCEPT_TICK_MS;
	}
	if (now >= px->next_check_ms)
		check(px, now);
	list_for_each_safe(pos, tmp, &px->links) {
		struct link *l = list_entry(pos, struct link, node);

		chanio_batch_begin(l);
		did |= link_input(l);
		did |= link_output(l);
		err = chanio_batch_end(l);
		if (err)
			link_fail(l, ivshm_strerror(err));
	}
	links_reap(px);
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
	int fired = 0, did, timeout, n, i, sleeping;
	int64_t now_us;

	chanio_busy(px, 1);
	while (!px->stop) {
		did = service(px, fired);
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
			chanio_busy(px, 0);
			if (!px->published || !chanio_arm(px))
				timeout = sleep_ms(px);
		}
		n = epoll_wait(px->ep, evs, MAX_EVENTS, timeout);
		if (sleeping)
			chanio_busy(px, 1);
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
