// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Peers: admission (ID choice, pins, limits), the setup sequence, join and
 * leave announcements, and dropping peers that misbehave.
 *
 * A peer that must go is only marked (ivshmd_peer_fail) while the server
 * walks its peers; ivshmd_peer_reap() removes it between events and
 * announces the departure, and its memory is freed after the event batch,
 * so no epoll event or loop ever points at freed memory.
 *
 * Every join and leave is also written ahead to the record (record.h): the
 * peers it will be announced to are marked DIRTY first, then the change is
 * recorded, then announced; a peer whose queue has drained is marked CLEAN
 * again between events. Peers and their eventfds go to the fd store
 * (store.h) when they join and leave it when they go, so a restarted
 * ivshmd can take them back (ivshmd_peer_restore).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "ids.h"
#include "log.h"
#include "server-priv.h"
#include "store.h"

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
	[IVSHMD_LEAVE_RESTART]		= { "its stream was mid-update when ivshmd restarted",
					    LOG_WARNING },
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
	if (progress) {
		p->progress_ms = ivshm_clock_ms();
		p->stall_warned = false;
	}
	if (ret == 0)
		set_out(s, p, false);
	else if (ret == -EAGAIN)
		set_out(s, p, true);
	else if (ret == -EPIPE || ret == -ECONNRESET)
		ivshmd_peer_fail(s, p, IVSHMD_LEAVE_CLOSED, 0);
	else
		ivshmd_peer_fail(s, p, IVSHMD_LEAVE_SEND_FAILED, -ret);
}

/* Written ahead of anything queued for p (record.h). */
static void mark_dirty(struct ivshmd_server *s, struct ivshmd_peer *p)
{
	if (p->dirty)
		return;
	p->dirty = true;
	ivshmd_record_set(&s->rec, p->id, IVSHMD_REC_DIRTY);
	p->next_dirty = s->dirty;
	s->dirty = p;
}

/* Every alive peer but except, before a change that will be announced to them. */
static void mark_others_dirty(struct ivshmd_server *s, const struct ivshmd_peer *except)
{
	for (unsigned id = 0; id < s->id_hi; id++) {
		struct ivshmd_peer *p = s->by_id[id];

		if (p != except && ivshmd_peer_alive(p))
			mark_dirty(s, p);
	}
}

static int push(struct ivshmd_server *s, struct ivshmd_peer *p, int64_t value,
		struct ivshmd_fdref *ref)
{
	int ret;

	if (!ivshmd_peer_alive(p))
		return -EPIPE;
	mark_dirty(s, p);
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

static bool allowed(const struct ivshmd_pin *pin, const struct ucred *cred)
{
	/* Our own user can reach the memory anyway. */
	if (!pin->nallow || cred->uid == geteuid())
		return true;
	for (unsigned i = 0; i < pin->nallow; i++) {
		const struct ivshmd_allow *a = &pin->allow[i];

		if (a->group ? cred->gid == a->id : cred->uid == a->id)
			return true;
	}
	return false;
}

/* Unpinned peers connected from uid. */
static unsigned held_by(const struct ivshmd_server *s, uid_t uid)
{
	unsigned n = 0;

	for (unsigned id = 0; id < s->id_hi; id++) {
		const struct ivshmd_peer *p = s->by_id[id];

		if (p && p->pin < 0 && p->cred.uid == uid)
			n++;
	}
	return n;
}

static bool id_taken(const void *ctx, unsigned id)
{
	const struct ivshmd_server *s = ctx;

	return s->by_id[id] || id_pinned(s, id);
}

/*
 * Returns the ID for a new peer on pl, or -1 (logged, rate-limited: a flood
 * of refused connections must not flood the log) to refuse it.
 */
static int pick_id(struct ivshmd_server *s, const struct ivshmd_peer_listener *pl,
		   const struct ucred *cred)
{
	int id;

	if (pl->pin >= 0) {
		const struct ivshmd_pin *pin = &s->pins[pl->pin];
		const struct ivshmd_peer *holder = s->by_id[pin->id];

		if (!allowed(pin, cred)) {
			ivshmd_log_limited(&s->refuse_log, LOG_WARNING, "refused pid %d uid %u gid %u "
					   "on %s: not allowed to take pinned peer '%s' (ID %u)",
					   (int)cred->pid, (unsigned)cred->uid, (unsigned)cred->gid,
					   pl->l.path.path, pin->name, pin->id);
			return -1;
		}
		if (holder) {
			ivshmd_log_limited(&s->refuse_log, LOG_WARNING, "refused pid %d uid %u on %s: "
					   "pinned peer '%s' (ID %u) is still connected from pid %d",
					   (int)cred->pid, (unsigned)cred->uid, pl->l.path.path,
					   pin->name, pin->id, (int)holder->cred.pid);
			return -1;
		}
		return (int)pin->id;
	}
	if (s->nunpinned >= s->max_peers - s->npins) {
		ivshmd_log_limited(&s->refuse_log, LOG_WARNING, "refused pid %d uid %u: %u peers "
				   "connected, the maximum (%u slots, %u reserved for pinned peers)",
				   (int)cred->pid, (unsigned)cred->uid, s->npeers, s->max_peers,
				   s->npins);
		return -1;
	}
	if (cred->uid != geteuid() && held_by(s, cred->uid) >= s->uid_quota) {
		ivshmd_log_limited(&s->refuse_log, LOG_WARNING, "refused pid %d uid %u: the user "
				   "holds %u unpinned peers, its quota (--uid-quota)", (int)cred->pid,
				   (unsigned)cred->uid, s->uid_quota);
		return -1;
	}
	id = ivshmd_ids_pick(IVSHMD_MAX_PEERS, &s->next_id, id_taken, s);
	s->rec.hdr->next_id = s->next_id;
	if (id < 0)
		ivshmd_log_limited(&s->refuse_log, LOG_WARNING, "refused pid %d uid %u: no free "
				   "peer ID", (int)cred->pid, (unsigned)cred->uid);
	return id;
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

static void store_peer(const struct ivshmd_server *s, const struct ivshmd_peer *p)
{
	if (!ivshmd_store_enabled())
		return;
	ivshmd_store_add(p->fd, "peer.%u", p->id);
	for (unsigned i = 0; i < s->vectors; i++)
		ivshmd_store_add(ivshmd_fdref_fd(p->vec[i]), "peer.%u.v%u", p->id, i);
}

static void unstore_peer(const struct ivshmd_server *s, const struct ivshmd_peer *p)
{
	if (!ivshmd_store_enabled())
		return;
	ivshmd_store_remove("peer.%u", p->id);
	for (unsigned i = 0; i < s->vectors; i++)
		ivshmd_store_remove("peer.%u.v%u", p->id, i);
}

/* Into the tables, counters and the published page. */
static void link_peer(struct ivshmd_server *s, struct ivshmd_peer *p)
{
	s->by_id[p->id] = p;
	if (p->id >= s->id_hi)
		s->id_hi = p->id + 1;
	s->npeers++;
	if (p->pin < 0)
		s->nunpinned++;
	ivshmd_publish_set(&s->pub, p->id, true);
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

	/* Only peers that will hear of the join must wait for it. */
	if (s->vectors)
		mark_others_dirty(s, p);
	mark_dirty(s, p);
	store_peer(s, p);
	link_peer(s, p);
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
	ivshmd_log_limited(&s->accept_log, LOG_WARNING, "accept on %s: %s; %s",
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
			ivshmd_log_limited(&s->accept_log, LOG_WARNING,
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
		/* A peer closing with messages unread resets the connection: still a hang-up. */
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
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

	if (p->why == IVSHMD_LEAVE_STALLED) {
		ivshmd_log(LOG_WARNING, "peer %u left (pid %d%s%s%s): stopped reading for %u ms "
			   "(--send-timeout); dropped for good: a QEMU that was stopped (SIGSTOP, a "
			   "debugger, heavy swapping) does not reconnect", p->id, (int)p->cred.pid,
			   name ? ", pinned '" : "", name ? name : "", name ? "'" : "",
			   s->send_timeout_ms);
		return;
	}
	ivshmd_log(leave_reasons[p->why].level, "peer %u left (pid %d%s%s%s): %s%s%s", p->id,
		   (int)p->cred.pid, name ? ", pinned '" : "", name ? name : "", name ? "'" : "",
		   leave_reasons[p->why].text, p->err ? ": " : "", p->err ? strerror(p->err) : "");
}

/* Out of the tables, counters and the published page. */
static void unlink_peer(struct ivshmd_server *s, struct ivshmd_peer *p)
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
	ivshmd_publish_set(&s->pub, p->id, false);
}

/* Tell every remaining peer that id left. */
static void announce_leave(struct ivshmd_server *s, unsigned id)
{
	for (unsigned other = 0; other < s->id_hi; other++) {
		struct ivshmd_peer *o = s->by_id[other];

		if (ivshmd_peer_alive(o) && !push(s, o, id, NULL))
			flush(s, o);
	}
}

static void remove_peer(struct ivshmd_server *s, struct ivshmd_peer *p)
{
	unlink_peer(s, p);
	log_leave(s, p);
	mark_others_dirty(s, p);
	ivshmd_record_set(&s->rec, p->id, IVSHMD_REC_NONE);

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

	announce_leave(s, p->id);
	unstore_peer(s, p);
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
		int64_t stalled;

		if (!ivshmd_peer_alive(p) || !p->want_out)
			continue;
		stalled = now - p->progress_ms;
		if (stalled >= s->send_timeout_ms) {
			ivshmd_peer_fail(s, p, IVSHMD_LEAVE_STALLED, 0);
		} else if (!p->stall_warned && stalled >= s->send_timeout_ms / 2) {
			p->stall_warned = true;
			ivshmd_log(LOG_WARNING, "peer %u (pid %d) has not read for %lld ms: it is "
				   "dropped for good unless it reads within %lld ms (--send-timeout)",
				   p->id, (int)p->cred.pid, (long long)stalled,
				   (long long)(s->send_timeout_ms - stalled));
		}
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
		d = p->progress_ms + (p->stall_warned ? s->send_timeout_ms : s->send_timeout_ms / 2);
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
		/* The store's copy would keep the connection open: the peer must see EOF. */
		unstore_peer(s, p);
		ivshmd_record_set(&s->rec, id, IVSHMD_REC_NONE);
		ivshmd_publish_set(&s->pub, id, false);
		free_peer(p);
	}
	s->id_hi = 0;
	s->npeers = 0;
	s->nunpinned = 0;
	s->dying = NULL;
	s->dirty = NULL;
	s->nstuck = 0;
	ivshmd_peer_bury(s);
}

void ivshmd_peer_settle(struct ivshmd_server *s)
{
	struct ivshmd_peer **pp = &s->dirty;

	while (*pp) {
		struct ivshmd_peer *p = *pp;

		if (ivshmd_peer_alive(p) && p->q.len) {
			pp = &p->next_dirty;
			continue;
		}
		*pp = p->next_dirty;
		p->dirty = false;
		/* A departed peer's entry was cleared when it left. */
		if (ivshmd_peer_alive(p))
			ivshmd_record_set(&s->rec, p->id, IVSHMD_REC_CLEAN);
	}
}

bool ivshmd_peer_all_clean(const struct ivshmd_server *s)
{
	return !s->dirty;
}

/* A kept connection: still a connected stream socket, with its credentials. */
static int kept_socket(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);
	int type;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return -EINVAL;
	return fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK) < 0 ? -errno : 0;
}

static int pin_of(const struct ivshmd_server *s, unsigned id)
{
	for (unsigned i = 0; i < s->npins; i++)
		if (s->pins[i].id == id)
			return (int)i;
	return -1;
}

/* Peer id from the kept fds, or a negative errno after closing whatever was taken. */
static int restore_one(struct ivshmd_server *s, struct ivshmd_inherited *in, unsigned id)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char name[IVSHMD_STORE_NAME_MAX];
	struct ivshmd_peer *p;
	int fd, ret = -ENOENT;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->watch = WATCH_PEER;
	p->id = id;
	p->pin = pin_of(s, id);
	ivshmd_sendq_init(&p->q, s->queue_limit);
	snprintf(name, sizeof(name), "peer.%u", id);
	p->fd = ivshmd_inherit_take(in, name);
	for (unsigned i = 0; i < s->vectors; i++) {
		snprintf(name, sizeof(name), "peer.%u.v%u", id, i);
		fd = ivshmd_inherit_take(in, name);
		if (fd < 0)
			goto out_free;
		if (ivshmd_fdref_new(fd, &p->vec[i])) {
			close(fd);
			ret = -ENOMEM;
			goto out_free;
		}
	}
	if (p->fd < 0 || ivshmd_record_get(&s->rec, id) != IVSHMD_REC_CLEAN)
		goto out_free;
	ret = kept_socket(p->fd, &p->cred);
	if (ret)
		goto out_free;
	ev.data.ptr = p;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, p->fd, &ev) < 0) {
		ret = -errno;
		goto out_free;
	}
	link_peer(s, p);
	return 0;

out_free:
	unstore_peer(s, p);
	free_peer(p);
	return ret;
}

void ivshmd_peer_restore(struct ivshmd_server *s, struct ivshmd_inherited *in)
{
	unsigned kept = 0, dropped = 0, first_dropped = 0;
	uint8_t *gone;

	gone = calloc(IVSHMD_RECORD_IDS / 8, 1);
	if (!gone) {
		ivshmd_log(LOG_ERR, "restoring peers: out of memory; they are disconnected");
		return;
	}
	for (unsigned id = 0; id < IVSHMD_RECORD_IDS; id++) {
		if (ivshmd_record_get(&s->rec, id) == IVSHMD_REC_NONE)
			continue;
		if (restore_one(s, in, id) == 0) {
			kept++;
			continue;
		}
		/* Its kept fds, if any, are closed now; ivshmd_inherit_release() drops the names. */
		ivshmd_record_set(&s->rec, id, IVSHMD_REC_NONE);
		gone[id / 8] |= 1u << (id % 8);
		if (!dropped++)
			first_dropped = id;
	}
	/* Every peer kept was CLEAN, so it knew every recorded peer: each dropped one is news. */
	for (unsigned id = 0; dropped && id < IVSHMD_RECORD_IDS; id++) {
		struct ivshmd_peer fake = { .id = id, .why = IVSHMD_LEAVE_RESTART, .pin = -1 };

		if (!(gone[id / 8] & (1u << (id % 8))))
			continue;
		log_leave(s, &fake);
		announce_leave(s, id);
	}
	free(gone);
	if (kept || dropped)
		ivshmd_log(dropped ? LOG_WARNING : LOG_INFO, "restart: kept %u peers with their "
			   "connections and eventfds; dropped %u (first: ID %u) whose streams were "
			   "mid-update", kept, dropped, first_dropped);
	if (s->rec.hdr->next_id < IVSHMD_MAX_PEERS)
		s->next_id = s->rec.hdr->next_id;
}

int ivshmd_peer_foreach_fd(const struct ivshmd_server *s,
			   int (*fn)(void *ctx, int fd, const char *name), void *ctx)
{
	char name[IVSHMD_STORE_NAME_MAX];

	for (unsigned id = 0; id < s->id_hi; id++) {
		const struct ivshmd_peer *p = s->by_id[id];
		int ret;

		if (!ivshmd_peer_alive(p))
			continue;
		snprintf(name, sizeof(name), "peer.%u", id);
		ret = fn(ctx, p->fd, name);
		for (unsigned i = 0; !ret && i < s->vectors; i++) {
			snprintf(name, sizeof(name), "peer.%u.v%u", id, i);
			ret = fn(ctx, ivshmd_fdref_fd(p->vec[i]), name);
		}
		if (ret)
			return ret;
	}
	return 0;
}
