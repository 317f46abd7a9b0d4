// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Peers: admission (ID choice, pins, limits), the setup sequence, join and
 * leave announcements, and dropping clients that misbehave.
 *
 * A client that must go is only marked (ivshmd_peer_fail) while the server
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

static bool alive(const struct ivshmd_client *c)
{
	return c && !c->why;
}

static bool id_pinned(const struct ivshmd_server *s, unsigned id)
{
	return s->pinned_ids[id / 8] & (1u << (id % 8));
}

void ivshmd_peer_fail(struct ivshmd_server *s, struct ivshmd_client *c, const char *why, int err)
{
	if (c->why)
		return;
	c->why = why;
	c->err = err;
	c->next_dying = s->dying;
	s->dying = c;
}

static void set_out(struct ivshmd_server *s, struct ivshmd_client *c, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (on ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	if (c->want_out == on)
		return;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		ivshmd_peer_fail(s, c, "epoll_ctl failed", errno);
		return;
	}
	c->want_out = on;
	if (on)
		s->nstuck++;
	else
		s->nstuck--;
}

static void flush(struct ivshmd_server *s, struct ivshmd_client *c)
{
	int progress, ret;

	if (c->why)
		return;
	ret = ivshmd_sendq_flush(&c->q, c->fd, &progress);
	if (progress)
		c->progress_ms = ivshm_clock_ms();
	if (ret == 0)
		set_out(s, c, false);
	else if (ret == -EAGAIN)
		set_out(s, c, true);
	else if (ret == -EPIPE || ret == -ECONNRESET)
		ivshmd_peer_fail(s, c, "closed the connection", 0);
	else
		ivshmd_peer_fail(s, c, "send failed", -ret);
}

static int push(struct ivshmd_server *s, struct ivshmd_client *c, int64_t value,
		struct ivshmd_fdref *ref)
{
	int ret;

	if (c->why)
		return -EPIPE;
	if (!c->q.len)
		c->progress_ms = ivshm_clock_ms();
	ret = ivshmd_sendq_push(&c->q, value, ref);
	if (ret == -ENOBUFS)
		ivshmd_peer_fail(s, c, "send queue overflow (not reading)", 0);
	else if (ret)
		ivshmd_peer_fail(s, c, "queueing a message failed", -ret);
	return ret;
}

/* from's ID once per vector, each time with that vector's eventfd. */
static int push_vectors(struct ivshmd_server *s, struct ivshmd_client *to,
			const struct ivshmd_client *from)
{
	for (unsigned i = 0; i < s->vectors; i++) {
		int ret = push(s, to, from->id, from->vec[i]);

		if (ret)
			return ret;
	}
	return 0;
}

static const char *pin_name(const struct ivshmd_server *s, const struct ivshmd_client *c)
{
	return c->pin >= 0 ? s->pins[c->pin].name : NULL;
}

/* Returns the ID for a new client on pl, or -1 (logged) to refuse it. */
static int pick_id(struct ivshmd_server *s, const struct ivshmd_peer_listener *pl,
		   const struct ucred *cred)
{
	if (pl->pin >= 0) {
		const struct ivshmd_pin *pin = &s->pins[pl->pin];
		const struct ivshmd_client *holder = s->by_id[pin->id];

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

static void free_client(struct ivshmd_client *c)
{
	ivshmd_sendq_clear(&c->q);
	for (unsigned i = 0; i < UIO_IVSHMEM_MAX_VECTORS; i++)
		ivshmd_fdref_put(c->vec[i]);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static int make_vectors(struct ivshmd_server *s, struct ivshmd_client *c)
{
	for (unsigned i = 0; i < s->vectors; i++) {
		int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		int ret;

		if (fd < 0)
			return -errno;
		ret = ivshmd_fdref_new(fd, &c->vec[i]);
		if (ret) {
			close(fd);
			return ret;
		}
	}
	return 0;
}

/* The new client's setup, in the order QEMU's device and the spec expect. */
static int queue_setup(struct ivshmd_server *s, struct ivshmd_client *c)
{
	struct ivshmd_sendq *q = &c->q;
	int ret;

	ret = ivshmd_sendq_push(q, IVSHMEM_SERVER_PROTO_VERSION, NULL);
	if (!ret)
		ret = ivshmd_sendq_push(q, c->id, NULL);
	if (!ret)
		ret = ivshmd_sendq_push(q, IVSHMEM_SERVER_MSG_SHM, s->shm_ref);
	for (unsigned id = 0; !ret && id < s->id_hi; id++) {
		const struct ivshmd_client *p = s->by_id[id];

		if (!alive(p))
			continue;
		for (unsigned i = 0; !ret && i < s->vectors; i++)
			ret = ivshmd_sendq_push(q, p->id, p->vec[i]);
	}
	for (unsigned i = 0; !ret && i < s->vectors; i++)
		ret = ivshmd_sendq_push(q, c->id, c->vec[i]);
	return ret;
}

/*
 * A connection already closed by its client, such as another ivshmd probing
 * whether this one is alive, is not worth a join and a leave on every peer.
 */
static bool hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void admit(struct ivshmd_server *s, struct ivshmd_peer_listener *pl, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ivshmd_client *c;
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
	c = calloc(1, sizeof(*c));
	if (!c) {
		ivshmd_log(LOG_WARNING, "refused pid %d: out of memory", (int)cred.pid);
		goto out_close;
	}
	c->watch = WATCH_CLIENT;
	c->fd = fd;
	c->id = (unsigned)id;
	c->pin = pl->pin;
	c->cred = cred;
	ivshmd_sendq_init(&c->q, s->queue_limit);

	ret = make_vectors(s, c);
	if (ret) {
		ivshmd_log(LOG_WARNING, "refused pid %d uid %u: creating eventfds: %s",
			   (int)cred.pid, (unsigned)cred.uid, strerror(-ret));
		goto out_free;
	}
	ret = queue_setup(s, c);
	if (ret) {
		ivshmd_log(LOG_WARNING, "refused pid %d uid %u: queueing its setup: %s",
			   (int)cred.pid, (unsigned)cred.uid, strerror(-ret));
		goto out_free;
	}
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ivshmd_log(LOG_WARNING, "refused pid %d uid %u: epoll_ctl: %s",
			   (int)cred.pid, (unsigned)cred.uid, strerror(errno));
		goto out_free;
	}

	s->by_id[c->id] = c;
	if (c->id >= s->id_hi)
		s->id_hi = c->id + 1;
	s->npeers++;
	if (c->pin < 0)
		s->nunpinned++;
	name = pin_name(s, c);
	ivshmd_log(LOG_INFO, "peer %u joined (pid %d, uid %u, gid %u%s%s%s)", c->id,
		   (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid,
		   name ? ", pinned '" : "", name ? name : "", name ? "'" : "");

	for (unsigned id = 0; id < s->id_hi; id++) {
		struct ivshmd_client *p = s->by_id[id];

		if (p == c || !alive(p))
			continue;
		if (!push_vectors(s, p, c))
			flush(s, p);
	}
	flush(s, c);
	return;

out_free:
	c->fd = -1;
	free_client(c);
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

void ivshmd_peer_event(struct ivshmd_server *s, struct ivshmd_client *c, uint32_t events)
{
	if (c->gone || c->why)
		return;
	if (events & EPOLLIN) {
		char buf[64];
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			ivshmd_peer_fail(s, c, "sent data; the protocol is server to client only", 0);
			return;
		}
		if (n == 0) {
			ivshmd_peer_fail(s, c, "closed the connection", 0);
			return;
		}
		if (errno != EAGAIN && errno != EINTR) {
			ivshmd_peer_fail(s, c, "receive failed", errno);
			return;
		}
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		ivshmd_peer_fail(s, c, "connection lost", 0);
		return;
	}
	if (events & EPOLLOUT)
		flush(s, c);
}

static void log_leave(const struct ivshmd_server *s, const struct ivshmd_client *c)
{
	const char *name = pin_name(s, c);
	/* A normal departure is routine; anything else is worth seeing without -v. */
	int level = strcmp(c->why, "closed the connection") ? LOG_WARNING : LOG_INFO;

	ivshmd_log(level, "peer %u left (pid %d%s%s%s): %s%s%s", c->id, (int)c->cred.pid,
		   name ? ", pinned '" : "", name ? name : "", name ? "'" : "", c->why,
		   c->err ? ": " : "", c->err ? strerror(c->err) : "");
}

static void remove_client(struct ivshmd_server *s, struct ivshmd_client *c)
{
	s->by_id[c->id] = NULL;
	while (s->id_hi && !s->by_id[s->id_hi - 1])
		s->id_hi--;
	s->npeers--;
	if (c->pin < 0)
		s->nunpinned--;
	if (c->want_out)
		s->nstuck--;
	c->want_out = false;
	log_leave(s, c);

	if (epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL) < 0)
		ivshmd_log(LOG_DEBUG, "epoll_ctl DEL peer %u: %s", c->id, strerror(errno));
	close(c->fd);
	c->fd = -1;
	/* Queues elsewhere keep their own references to these eventfds until sent. */
	ivshmd_sendq_clear(&c->q);
	for (unsigned i = 0; i < s->vectors; i++) {
		ivshmd_fdref_put(c->vec[i]);
		c->vec[i] = NULL;
	}
	c->gone = true;
	c->next_gone = s->graveyard;
	s->graveyard = c;

	for (unsigned id = 0; id < s->id_hi; id++) {
		struct ivshmd_client *p = s->by_id[id];

		if (alive(p) && !push(s, p, c->id, NULL))
			flush(s, p);
	}
}

void ivshmd_peer_reap(struct ivshmd_server *s)
{
	/* Announcing one departure can fail more clients: they join the list. */
	while (s->dying) {
		struct ivshmd_client *c = s->dying;

		s->dying = c->next_dying;
		remove_client(s, c);
	}
}

void ivshmd_peer_bury(struct ivshmd_server *s)
{
	while (s->graveyard) {
		struct ivshmd_client *c = s->graveyard;

		s->graveyard = c->next_gone;
		free_client(c);
	}
}

void ivshmd_peer_check_deadlines(struct ivshmd_server *s, unsigned long long now)
{
	if (!s->nstuck)
		return;
	for (unsigned id = 0; id < s->id_hi; id++) {
		struct ivshmd_client *c = s->by_id[id];

		if (alive(c) && c->want_out && now - c->progress_ms >= s->send_timeout_ms)
			ivshmd_peer_fail(s, c, "stopped reading (send timeout)", 0);
	}
}

unsigned long long ivshmd_peer_next_deadline(const struct ivshmd_server *s)
{
	unsigned long long next = 0;

	if (!s->nstuck)
		return 0;
	for (unsigned id = 0; id < s->id_hi; id++) {
		const struct ivshmd_client *c = s->by_id[id];
		unsigned long long d;

		if (!alive(c) || !c->want_out)
			continue;
		d = c->progress_ms + s->send_timeout_ms;
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
		struct ivshmd_client *c = s->by_id[id];

		if (!c)
			continue;
		s->by_id[id] = NULL;
		free_client(c);
	}
	s->id_hi = 0;
	s->npeers = 0;
	s->nunpinned = 0;
	s->dying = NULL;
	s->nstuck = 0;
	ivshmd_peer_bury(s);
}
