// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Peers: admission (ID choice, pins, limits), the setup sequence, join and
 * leave announcements, and dropping peers that misbehave.
 *
 * A peer that must go is only marked (ivshmd_peer_fail) while the server
 * walks its peers; ivshmd_peer_reap() removes it between events and
 * announces the departure, and its memory is freed after the event batch,
 * so no epoll event or loop ever points at freed memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "server-priv.h"

/* Connections taken per readiness event, so one busy socket cannot starve the rest. */
#define ACCEPT_BURST 16

/* A hang-up is routine; any other departure is worth seeing without -v. */
static const struct {
	const char *text;
	int level;
} leave_reasons[] = {
	[IVSHMD_LEAVE_CLOSED]		= { "closed the connection", LOG_INFO },
	[IVSHMD_LEAVE_LOST]		= { "connection lost", LOG_WARNING },
	[IVSHMD_LEAVE_SENT_DATA]	= { "sent data; the protocol is server to client only",
					    LOG_WARNING },
	[IVSHMD_LEAVE_RECV_FAILED]	= { "receive failed", LOG_WARNING },
	[IVSHMD_LEAVE_SEND_FAILED]	= { "send failed", LOG_WARNING },
	[IVSHMD_LEAVE_OVERFLOW]		= { "send queue overflow (not reading)", LOG_WARNING },
	[IVSHMD_LEAVE_QUEUE_FAILED]	= { "queueing a message failed", LOG_WARNING },
	[IVSHMD_LEAVE_STALLED]		= { "stopped reading (send timeout)", LOG_WARNING },
	[IVSHMD_LEAVE_EPOLL_FAILED]	= { "epoll_ctl failed", LOG_WARNING },
};

bool ivshmd_peer_alive(const struct ivshmd_peer *p)
{
	return p && p->why == IVSHMD_LEAVE_NONE;
}

static bool id_pinned(const struct ivshmd_server *s, unsigned id)
{
	return s->pinned_ids[id / 8] & (1u << (id % 8));
}

void ivshmd_peer_fail(struct ivshmd_server *s, struct ivshmd_peer *p, enum ivshmd_leave why,
		      int err)
{
	if (p->why != IVSHMD_LEAVE_NONE)
		return;
	p->why = why;
	p->err = err;
	p->next_dying = s->dying;
	s->dying = p;
}

static void set_out(struct ivshmd_server *s, struct ivshmd_peer *p, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (on ? EPOLLOUT : 0),
		.data.ptr = p,
	};

	if (p->want_out == on)
		return;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, p->fd, &ev) < 0) {
		ivshmd_peer_fail(s, p, IVSHMD_LEAVE_EPOLL_FAILED, errno);
		return;
	}
	p->want_out = on;
	if (on)
		s->nstuck++;
	else
		s->nstuck--;
}

static void flush(struct ivshmd_server *s, struct ivshmd_peer *p)
{
	int progress, ret;

	if (!ivshmd_peer_alive(p))
		return;
	ret = ivshmd_sendq_flush(&p->q, p->fd, &progress);
	if (progress)
		p->progress_ms = ivshm_clock_ms();
	if (ret == 0)
		set_out(s, p, false);
	else if (ret == -EAGAIN)
		set_out(s, p, true);
	else if (ret == -EPIPE || ret == -ECONNRESET)
		ivshmd_peer_fail(s, p, IVSHMD_LEAVE_CLOSED, 0);
	else
		ivshmd_peer_fail(s, p, IVSHMD_LEAVE_SEND_FAILED, -ret);
}

static int push(struct ivshmd_server *s, struct ivshmd_peer *p, int64_t value,
		struct ivshmd_fdref *ref)
{
	int ret;

	if (!ivshmd_peer_alive(p))
		return -EPIPE;
	if (!p->q.len)
		p->progress_ms = ivshm_clock_ms();
	ret = ivshmd_sendq_push(&p->q, value, ref);
	if (ret == -ENOBUFS)
		ivshmd_peer_fail(s, p, IVSHMD_LEAVE_OVERFLOW, 0);
	else if (ret)
		ivshmd_peer_fail(s, p, IVSHMD_LEAVE_QUEUE_FAILED, -ret);
	return ret;
}

/* from's ID once per vector, each time with that vector's eventfd. */
static int push_vectors(struct ivshmd_server *s, struct ivshmd_peer *to,
			const struct ivshmd_peer *from)
{
	for (unsigned i = 0; i < s->vectors; i++) {
		int ret = push(s, to, from->id, from->vec[i]);

		if (ret)
			return ret;
	}
	return 0;
}

static const char *pin_name(const struct ivshmd_server *s, const struct ivshmd_peer *p)
{
	return p->pin >= 0 ? s->pins[p->pin].name : NULL;
}

/* Returns the ID for a new peer on pl, or -1 (logged) to refuse it. */
static int pick_id(struct ivshmd_server *s, const struct ivshmd_peer_listener *pl,
		   const struct ucred *cred)
{
	if (pl->pin >= 0) {
		const struct ivshmd_pin *pin = &s->pins[pl->pin];
		const struct ivshmd_peer *holder = s->by_id[pin->id];

		if (holder) {
			ivshmd_log(LOG_WARNING, "refused pid %d uid %u on %s: pinned peer '%s' (ID %u) "
				   "is still connected from pid %d", (int)cred->pid,
				   (unsigned)cred->uid, pl->l.path.path, pin->name, pin->id,
				   (int)holder->cred.pid);
			return -1;
		}
		return (int)pin->id;
	}
	if (s->nunpinned >= s->max_peers - s->npins) {
		ivshmd_log(LOG_WARNING, "refused pid %d uid %u: %u peers connected, the maximum "
			   "(%u slots, %u reserved for pinned peers)", (int)cred->pid,
			   (unsigned)cred->uid, s->npeers, s->max_peers, s->npins);
		return -1;
	}
	for (unsigned id = 0; id < IVSHMD_MAX_PEERS; id++)
		if (!s->by_id[id] && !id_pinned(s, id))
			return (int)id;
	ivshmd_log(LOG_WARNING, "refused pid %d uid %u: no free peer ID", (int)cred->pid,
		   (unsigned)cred->uid);
	return -1;
}

static void free_peer(struct ivshmd_peer *p)
{
	ivshmd_sendq_clear(&p->q);
	for (unsigned i = 0; i < UIO_IVSHMEM_MAX_VECTORS; i++)
		ivshmd_fdref_put(p->vec[i]);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

static int make_vectors(struct ivshmd_server *s, struct ivshmd_peer *p)
{
	for (unsigned i = 0; i < s->vectors; i++) {
		int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		int ret;

		if (fd < 0)
			return -errno;
		ret = ivshmd_fdref_new(fd, &p->vec[i]);
		if (ret) {
			close(fd);
			return ret;
		}
	}
	return 0;
}

/* The new peer's setup, in the order QEMU's device and the spec expect. */
static int queue_setup(struct ivshmd_server *s, struct ivshmd_peer *p)
{
	struct ivshmd_sendq *q = &p->q;
	int ret;

	ret = ivshmd_sendq_push(q, IVSHMEM_SERVER_PROTO_VERSION, NULL);
	if (!ret)
		ret = ivshmd_sendq_push(q, p->id, NULL);
	if (!ret)
		ret = ivshmd_sendq_push(q, IVSHMEM_SERVER_MSG_SHM, s->shm_ref);
	for (unsigned id = 0; !ret && id < s->id_hi; id++) {
		const struct ivshmd_peer *other = s->by_id[id];

		if (!ivshmd_peer_alive(other))
			continue;
		for (unsigned i = 0; !ret && i < s->vectors; i++)
			ret = ivshmd_sendq_push(q, other->id, other->vec[i]);
	}
	for (unsigned i = 0; !ret && i < s->vectors; i++)
		ret = ivshmd_sendq_push(q, p->id, p->vec[i]);
	return ret;
}

/*
 * A connection already closed by its client, such as another ivshmd probing
 * whether this one is alive, is not worth a join and a leave on every peer.
 */
static bool hung_up(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void admit(struct ivshmd_server *s, struct ivshmd_peer_listener *pl, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ivshmd_peer *p;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	const char *name;
	int id, ret;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		ivshmd_log(LOG_WARNING, "SO_PEERCRED on %s: %s; dropped the connection",
			   pl->l.path.path, strerror(errno));
		goto out_close;
	}
	if (hung_up(fd)) {
		ivshmd_log(LOG_DEBUG, "pid %d closed its connection before joining",
			   (int)cred.pid);
		goto out_close;
	}
	id = pick_id(s, pl, &cred);
	if (id < 0)
		goto out_close;
	p = calloc(1, sizeof(*p));
	if (!p) {
		ivshmd_log(LOG_WARNING, "refused pid %d: out of memory", (int)cred.pid);
		goto out_close;
	}
	p->watch = WATCH_PEER;
	p->fd = fd;
	p->id = (unsigned)id;
	p->pin = pl->pin;
	p->cred = cred;
	ivshmd_sendq_init(&p->q, s->queue_limit);

	ret = make_vectors(s, p);
	if (ret) {
		ivshmd_log(LOG_WARNING, "refused pid %d uid %u: creating eventfds: %s",
			   (int)cred.pid, (unsigned)cred.uid, strerror(-ret));
		goto out_free;
	}
	ret = queue_setup(s, p);
	if (ret) {
		ivshmd_log(LOG_WARNING, "refused pid %d uid %u: queueing its setup: %s",
			   (int)cred.pid, (unsigned)cred.uid, strerror(-ret));
		goto out_free;
	}
	ev.data.ptr = p;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ivshmd_log(LOG_WARNING, "refused pid %d uid %u: epoll_ctl: %s",
			   (int)cred.pid, (unsigned)cred.uid, strerror(errno));
		goto out_free;
	}

	s->by_id[p->id] = p;
	if (p->id >= s->id_hi)
		s->id_hi = p->id + 1;
	s->npeers++;
	if (p->pin < 0)
		s->nunpinned++;
	name = pin_name(s, p);
	ivshmd_log(LOG_INFO, "peer %u joined (pid %d, uid %u, gid %u%s%s%s)", p->id,
		   (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid,
		   name ? ", pinned '" : "", name ? name : "", name ? "'" : "");

	for (unsigned i = 0; i < s->id_hi; i++) {
		struct ivshmd_peer *other = s->by_id[i];

		if (other == p || !ivshmd_peer_alive(other))
			continue;
		if (!push_vectors(s, other, p))
			flush(s, other);
	}
	flush(s, p);
	return;

out_free:
	p->fd = -1;
	free_peer(p);
out_close:
	close(fd);
}

/*
 * On EMFILE/ENFILE the pending connection would keep the listener readable
 * forever: spend the reserve fd to accept it and close it at once (the
 * client sees EOF), then re-arm the reserve. Without a reserve, pause.
 */
static void shed(struct ivshmd_server *s, struct ivshmd_peer_listener *pl, int err)
{
	int fd = -1;

	if (s->reserve_fd >= 0) {
		close(s->reserve_fd);
		s->reserve_fd = -1;
		fd = accept4(pl->l.fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	ivshmd_log_ratelimited(&s->accept_log_ms, LOG_WARNING, "accept on %s: %s; %s",
			       pl->l.path.path, strerror(err),
			       fd >= 0 ? "refused a connection" : "pausing accepts");
	if (fd < 0)
		ivshmd_server_pause_accept(s);
}

void ivshmd_peer_accept(struct ivshmd_server *s, struct ivshmd_peer_listener *pl)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd;

		/* A pinned peer reconnecting right after a failure must find its ID free. */
		ivshmd_peer_reap(s);
		fd = accept4(pl->l.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			admit(s, pl, fd);
			continue;
		}
		switch (errno) {
		case EAGAIN:
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			return;
		case EMFILE:
		case ENFILE:
			shed(s, pl, errno);
			return;
		default:
			ivshmd_log_ratelimited(&s->accept_log_ms, LOG_WARNING,
					       "accept on %s: %s; pausing accepts",
					       pl->l.path.path, strerror(errno));
			ivshmd_server_pause_accept(s);
			return;
		}
	}
}

void ivshmd_peer_event(struct ivshmd_server *s, struct ivshmd_peer *p, uint32_t events)
{
	if (p->gone || !ivshmd_peer_alive(p))
		return;
	if (events & EPOLLIN) {
		char buf[64];
		ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			ivshmd_peer_fail(s, p, IVSHMD_LEAVE_SENT_DATA, 0);
			return;
		}
		if (n == 0) {
			ivshmd_peer_fail(s, p, IVSHMD_LEAVE_CLOSED, 0);
			return;
		}
		if (errno != EAGAIN && errno != EINTR) {
			ivshmd_peer_fail(s, p, IVSHMD_LEAVE_RECV_FAILED, errno);
			return;
		}
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		ivshmd_peer_fail(s, p, IVSHMD_LEAVE_LOST, 0);
		return;
	}
	if (events & EPOLLOUT)
		flush(s, p);
}

static void log_leave(const struct ivshmd_server *s, const struct ivshmd_peer *p)
{
	const char *name = pin_name(s, p);

	ivshmd_log(leave_reasons[p->why].level, "peer %u left (pid %d%s%s%s): %s%s%s", p->id,
		   (int)p->cred.pid, name ? ", pinned '" : "", name ? name : "", name ? "'" : "",
		   leave_reasons[p->why].text, p->err ? ": " : "", p->err ? strerror(p->err) : "");
}

static void remove_peer(struct ivshmd_server *s, struct ivshmd_peer *p)
{
	s->by_id[p->id] = NULL;
	while (s->id_hi && !s->by_id[s->id_hi - 1])
		s->id_hi--;
	s->npeers--;
	if (p->pin < 0)
		s->nunpinned--;
	if (p->want_out)
		s->nstuck--;
	p->want_out = false;
	log_leave(s, p);

	if (epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->fd, NULL) < 0)
		ivshmd_log(LOG_DEBUG, "epoll_ctl DEL peer %u: %s", p->id, strerror(errno));
	close(p->fd);
	p->fd = -1;
	/* Queues elsewhere keep their own references to these eventfds until sent. */
	ivshmd_sendq_clear(&p->q);
	for (unsigned i = 0; i < s->vectors; i++) {
		ivshmd_fdref_put(p->vec[i]);
		p->vec[i] = NULL;
	}
	p->gone = true;
	p->next_gone = s->graveyard;
	s->graveyard = p;

	for (unsigned id = 0; id < s->id_hi; id++) {
		struct ivshmd_peer *other = s->by_id[id];

		if (ivshmd_peer_alive(other) && !push(s, other, p->id, NULL))
			flush(s, other);
	}
}

void ivshmd_peer_reap(struct ivshmd_server *s)
{
	/* Announcing one departure can fail more peers: they join the list. */
	while (s->dying) {
		struct ivshmd_peer *p = s->dying;

		s->dying = p->next_dying;
		remove_peer(s, p);
	}
}

void ivshmd_peer_bury(struct ivshmd_server *s)
{
	while (s->graveyard) {
		struct ivshmd_peer *p = s->graveyard;

		s->graveyard = p->next_gone;
		free_peer(p);
	}
}

void ivshmd_peer_check_deadlines(struct ivshmd_server *s, int64_t now)
{
	if (!s->nstuck)
		return;
	for (unsigned id = 0; id < s->id_hi; id++) {
		struct ivshmd_peer *p = s->by_id[id];

		if (ivshmd_peer_alive(p) && p->want_out && now - p->progress_ms >= s->send_timeout_ms)
			ivshmd_peer_fail(s, p, IVSHMD_LEAVE_STALLED, 0);
	}
}

int64_t ivshmd_peer_next_deadline(const struct ivshmd_server *s)
{
	int64_t next = 0;

	if (!s->nstuck)
		return 0;
	for (unsigned id = 0; id < s->id_hi; id++) {
		const struct ivshmd_peer *p = s->by_id[id];
		int64_t d;

		if (!ivshmd_peer_alive(p) || !p->want_out)
			continue;
		d = p->progress_ms + s->send_timeout_ms;
		if (!next || d < next)
			next = d;
	}
	return next;
}

void ivshmd_peer_disconnect_all(struct ivshmd_server *s)
{
	if (s->npeers)
		ivshmd_log(LOG_INFO, "disconnecting %u peers", s->npeers);
	for (unsigned id = 0; id < s->id_hi; id++) {
		struct ivshmd_peer *p = s->by_id[id];

		if (!p)
			continue;
		s->by_id[id] = NULL;
		free_peer(p);
	}
	s->id_hi = 0;
	s->npeers = 0;
	s->nunpinned = 0;
	s->dying = NULL;
	s->nstuck = 0;
	ivshmd_peer_bury(s);
}
