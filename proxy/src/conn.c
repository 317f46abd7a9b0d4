// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A connection: one socket on this side, one ID on the link, and the rules of
 * contracts/ivshm-proxy.h between them. Data from the peer goes straight from
 * the ring to the socket; what the socket does not take waits in the
 * connection's own buffer, which credit keeps within buf_alloc, so a slow
 * reader stalls its own connection and never the ring. Sockets are
 * edge-triggered: rd_ready and wr_ready remember what epoll said until a read
 * or write finds the socket empty or full.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "proxy.h"

/* A Unix listener's backlog was full: try connecting again this much later. */
#define RETRY_MS 10
/* An opener waits this much longer than the acceptor's connect timeout for the answer. */
#define OPEN_GRACE_MS 5000

static struct proxy *px_of(const struct conn *c)
{
	return c->link->px;
}

static const char *peer_role(const struct conn *c)
{
	return c->link->role;
}

const char *conn_service(const struct conn *c)
{
	if (c->lst)
		return c->lst->imp->service;
	return c->exp >= 0 ? px_of(c)->cfg->exports[c->exp].service : "-";
}

const char *conn_state_name(const struct conn *c)
{
	static const char *const names[] = {
		[CONN_OPENING] = "opening", [CONN_CONNECTING] = "connecting",
		[CONN_ACCEPTING] = "accepting", [CONN_OPEN] = "open", [CONN_DONE] = "closing",
	};

	return names[c->state];
}

static int watch_fd(struct conn *c)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = &c->w,
	};

	return epoll_ctl(px_of(c)->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0 ? -errno : 0;
}

static struct conn *conn_alloc(struct link *l, uint32_t id, int opener, int seqpacket)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->w.kind = W_CONN;
	c->link = l;
	c->id = id;
	c->fd = -1;
	c->exp = -1;
	c->opener = !!opener;
	c->seqpacket = !!seqpacket;
	c->cr.buf_alloc = l->px->cfg->conn_buffer;
	c->buf.cap = l->px->cfg->conn_buffer;
	list_init(&c->ctl_node);
	list_init(&c->ready_node);
	list_init(&c->timer_node);
	l->px->conns_total++;
	return c;
}

static int wants_ctl(const struct conn *c)
{
	return c->want_open || c->want_accept || c->want_credit || c->want_shutdown ||
	       c->want_reset || c->want_close || c->want_refuse;
}

/* Whether @c can send DATA now: open, readable, not ended, with credit. */
static int can_send(const struct conn *c)
{
	uint32_t avail = credit_avail(&c->cr);

	return c->state == CONN_OPEN && c->rd_ready && !c->rd_eof && !c->want_shutdown &&
	       avail > 0 && avail >= c->need;
}

void conn_update(struct conn *c)
{
	struct link *l = c->link;

	if (can_send(c) != list_linked(&c->ready_node)) {
		if (list_linked(&c->ready_node))
			list_del(&c->ready_node);
		else
			list_add_tail(&l->ready, &c->ready_node);
	}
	if (wants_ctl(c) != list_linked(&c->ctl_node)) {
		if (list_linked(&c->ctl_node))
			list_del(&c->ctl_node);
		else
			list_add_tail(&l->ctl, &c->ctl_node);
	}
}

static void close_fd(struct conn *c, int reset)
{
	if (c->fd < 0)
		return;
	if (reset)
		addr_close_reset(c->fd);
	else
		close(c->fd);
	c->fd = -1;
}

void conn_free(struct conn *c)
{
	struct link *l = c->link;
	struct proxy *px = l->px;
	uint32_t idx = c->id / 2 - 1;

	close_fd(c, 1);
	rxbuf_free(&c->buf);
	if (list_linked(&c->ctl_node))
		list_del(&c->ctl_node);
	if (list_linked(&c->ready_node))
		list_del(&c->ready_node);
	if (list_linked(&c->timer_node))
		list_del(&c->timer_node);
	if (c->opener) {
		l->mine[idx] = NULL;
		l->n_mine--;
		c->lst->conns--;
	} else {
		l->theirs[idx] = NULL;
		l->n_theirs--;
		if (c->exp >= 0)
			px->exports[c->exp].conns--;
	}
	/* Events of this batch may still name it: freed after the batch (loop.c). */
	c->link = NULL;
	list_add_tail(&px->graveyard, &c->timer_node);
}

/* The acceptor answers an OPEN with a refusal: the final frame of the exchange. */
static void refuse(struct conn *c, uint8_t reason)
{
	struct proxy *px = px_of(c);

	close_fd(c, 1);
	if (list_linked(&c->timer_node))
		list_del(&c->timer_node);
	c->state = CONN_DONE;
	c->want_accept = 0;
	c->want_refuse = reason;
	if (c->exp >= 0)
		px->exports[c->exp].refused++;
	conn_update(c);
}

/* This side is over: socket closed, buffer and timer gone, no frame owed but a final one. */
static void conn_end_local(struct conn *c)
{
	close_fd(c, 1);
	rxbuf_free(&c->buf);
	if (list_linked(&c->timer_node))
		list_del(&c->timer_node);
	c->state = CONN_DONE;
	c->want_open = c->want_accept = c->want_credit = c->want_shutdown = c->want_close = 0;
}

void conn_fail(struct conn *c, const char *why)
{
	enum conn_state was = c->state;
	int unsent_open = c->want_open;

	if (was == CONN_DONE)
		return;
	if (why)
		proxy_log(LOG_DEBUG, "connection %u (%s, peer %u): %s", c->id, conn_service(c),
			  c->link->peer_id, why);
	conn_end_local(c);
	/* An OPEN never sent leaves nothing to tell. */
	if (c->opener && unsent_open) {
		conn_free(c);
		return;
	}
	if (!c->opener && (was == CONN_CONNECTING || was == CONN_ACCEPTING)) {
		refuse(c, IVSHM_PROXY_UNREACHABLE);
		return;
	}
	if (!c->sent_final && !c->want_refuse)
		c->want_reset = 1;
	else if (c->sent_final && c->got_final) {
		conn_free(c);
		return;
	}
	conn_update(c);
}

void conn_violation(struct conn *c, const char *why)
{
	struct link *l = c->link;

	l->st.bad_frames++;
	l->px->bad_frames++;
	proxy_log_limited(&l->rl, LOG_WARNING, "peer %u (%s): connection %u: %s; reset",
			  l->peer_id, l->role, c->id, why);
	conn_fail(c, NULL);
}

/* Our socket is shut for writing once everything the peer sent went out. */
static void shut_wr(struct conn *c)
{
	if (c->wr_shut || c->buf.used || !c->peer_shut)
		return;
	/* ENOTCONN: the other end is gone already; its reads see the end either way. */
	(void)shutdown(c->fd, SHUT_WR);
	c->wr_shut = 1;
}

/* Both directions ended cleanly and everything was delivered: close and say so. */
static void check_done(struct conn *c)
{
	if (c->state != CONN_OPEN || !c->shut_sent || !c->peer_shut || !c->wr_shut || c->buf.used)
		return;
	close_fd(c, 0);
	c->state = CONN_DONE;
	c->want_close = 1;
	conn_update(c);
}

static void delivered(struct conn *c, uint32_t n)
{
	credit_delivered(&c->cr, n);
	if (credit_update_due(&c->cr))
		c->want_credit = 1;
}

/* Write what @c buffered to its socket while it takes it. Returns 0, or -1 if @c failed. */
static int flush(struct conn *c)
{
	while (c->buf.used && c->wr_ready) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		uint32_t len, skip = 0;
		ssize_t w;

		if (c->seqpacket) {
			rxbuf_copy(&c->buf, &len, sizeof(len));
			skip = sizeof(len);
		} else {
			len = c->buf.used;
		}
		mh.msg_iovlen = (size_t)rxbuf_iov(&c->buf, skip, len, iov);
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				c->wr_ready = 0;
				break;
			}
			conn_fail(c, strerror(errno));
			return -1;
		}
		if (c->seqpacket) {
			rxbuf_consume(&c->buf, skip + len);
			delivered(c, len + IVSHM_PROXY_MSG_COST);
			continue;
		}
		rxbuf_consume(&c->buf, (uint32_t)w);
		delivered(c, (uint32_t)w);
		if ((uint32_t)w < len)
			c->wr_ready = 0;
	}
	shut_wr(c);
	check_done(c);
	return 0;
}

/* DATA payload for the socket: straight from the ring if the socket takes it, else buffered. */
static void deliver(struct conn *c, const char *p, uint32_t len)
{
	uint32_t w = 0;
	int err;

	if (!c->buf.used && c->wr_ready) {
		ssize_t r = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			conn_fail(c, strerror(errno));
			return;
		}
		if (r < 0) {
			c->wr_ready = 0;
		} else if (c->seqpacket) {
			delivered(c, len + IVSHM_PROXY_MSG_COST);
			return;
		} else {
			w = (uint32_t)r;
			delivered(c, w);
			if (w < len)
				c->wr_ready = 0;
		}
	}
	if (w == len)
		return;
	/* A message keeps its length in front of it; credit counts that in its cost. */
	err = c->seqpacket ? rxbuf_put(&c->buf, &len, sizeof(len)) : 0;
	if (!err)
		err = rxbuf_put(&c->buf, p + w, len - w);
	if (err)
		conn_fail(c, err == -ENOMEM ? "out of memory" : "receive buffer overrun");
}

static int peer_fwd(struct conn *c, uint32_t fwd)
{
	char why[96];

	if (!credit_peer_fwd(&c->cr, fwd))
		return 0;
	snprintf(why, sizeof(why), "fwd_cnt %u after %u with %u sent: credit %s", fwd,
		 c->cr.peer_fwd, c->cr.tx_cnt,
		 (int32_t)(fwd - c->cr.peer_fwd) < 0 ? "went backwards" : "beyond what was sent");
	conn_violation(c, why);
	return -1;
}

static void on_data(struct conn *c, const struct frame *f)
{
	uint32_t len = f->h.len, cost = c->seqpacket ? len + IVSHM_PROXY_MSG_COST : len;
	char why[96];

	if (c->state != CONN_OPEN || c->peer_shut) {
		conn_violation(c, c->peer_shut ? "DATA after SHUTDOWN" : "DATA before ACCEPT");
		return;
	}
	if (cost < len || credit_rx(&c->cr, cost)) {
		snprintf(why, sizeof(why), "DATA of %u bytes beyond credit (%u of %u held)", len,
			 c->cr.rx_cnt - c->cr.fwd_cnt, c->cr.buf_alloc);
		conn_violation(c, why);
		return;
	}
	if (peer_fwd(c, f->h.arg))
		return;
	c->rx_bytes += len;
	c->link->st.bytes_in += len;
	deliver(c, f->payload, len);
}

static void on_reset(struct conn *c)
{
	c->got_final = 1;
	conn_end_local(c);
	if (c->sent_final) {
		conn_free(c);
		return;
	}
	c->want_reset = 1;
	conn_update(c);
}

/* Frames for a connection whose side is over: only the peer's final one matters. */
static void frame_when_done(struct conn *c, const struct frame *f)
{
	switch (f->h.type) {
	case IVSHM_PROXY_REFUSE:
		if (c->opener)
			conn_free(c);
		break;
	case IVSHM_PROXY_RESET:
	case IVSHM_PROXY_CLOSE:
		c->got_final = 1;
		if (c->sent_final)
			conn_free(c);
		break;
	default:
		/* Sent before the peer saw our end: nothing to do with it. */
		break;
	}
}

void conn_frame(struct conn *c, const struct frame *f)
{
	const struct ivshm_proxy_hdr *h = &f->h;
	int answerable = c->opener && c->state == CONN_OPENING && !c->want_open;

	if (c->state == CONN_DONE) {
		frame_when_done(c, f);
		return;
	}
	switch (h->type) {
	case IVSHM_PROXY_ACCEPT:
		if (!answerable) {
			conn_violation(c, "ACCEPT of a connection it did not open");
			return;
		}
		c->cr.peer_buf = h->arg;
		c->state = CONN_OPEN;
		if (list_linked(&c->timer_node))
			list_del(&c->timer_node);
		break;
	case IVSHM_PROXY_REFUSE:
		if (!answerable) {
			conn_violation(c, "REFUSE of a connection it did not open");
			return;
		}
		c->lst->refused++;
		proxy_log_limited(&px_of(c)->rl_refused, LOG_INFO,
				  "import %s: %s refused connection %u (reason %u)", conn_service(c),
				  peer_role(c), c->id, h->arg);
		conn_free(c);
		return;
	case IVSHM_PROXY_DATA:
		on_data(c, f);
		break;
	case IVSHM_PROXY_SHUTDOWN:
		if (c->state != CONN_OPEN || c->peer_shut) {
			conn_violation(c, "SHUTDOWN out of turn");
			return;
		}
		if (peer_fwd(c, h->arg))
			return;
		c->peer_shut = 1;
		shut_wr(c);
		check_done(c);
		break;
	case IVSHM_PROXY_CREDIT:
		if (c->state != CONN_OPEN) {
			conn_violation(c, "CREDIT before ACCEPT");
			return;
		}
		if (peer_fwd(c, h->arg))
			return;
		break;
	case IVSHM_PROXY_RESET:
		on_reset(c);
		return;
	case IVSHM_PROXY_CLOSE:
		if (c->state != CONN_OPEN || !c->shut_sent || !c->peer_shut) {
			conn_violation(c, "CLOSE before both SHUTDOWNs");
			return;
		}
		c->got_final = 1;
		break;
	default:
		conn_violation(c, "an OPEN for a connection that exists");
		return;
	}
	/* A violation or a failed write may have freed it. */
	if (c->link)
		conn_update(c);
}

int conn_sent(struct conn *c, uint8_t type)
{
	switch (type) {
	case IVSHM_PROXY_OPEN:
		c->want_open = 0;
		break;
	case IVSHM_PROXY_ACCEPT:
		c->want_accept = 0;
		c->state = CONN_OPEN;
		break;
	case IVSHM_PROXY_REFUSE:
		conn_free(c);
		return 1;
	case IVSHM_PROXY_CREDIT:
		c->want_credit = 0;
		break;
	case IVSHM_PROXY_SHUTDOWN:
		c->want_shutdown = 0;
		c->shut_sent = 1;
		check_done(c);
		break;
	case IVSHM_PROXY_RESET:
	case IVSHM_PROXY_CLOSE:
		c->want_reset = c->want_close = 0;
		c->sent_final = 1;
		if (c->got_final) {
			conn_free(c);
			return 1;
		}
		break;
	}
	conn_update(c);
	return 0;
}

void conn_read_result(struct conn *c, ssize_t r, uint32_t asked)
{
	if (r > 0) {
		/*
		 * A short read emptied the socket; the next arrival brings a new edge.
		 * Not the end, though, if it came with the data: its edge has passed.
		 */
		if (!c->seqpacket && (uint32_t)r < asked && !c->rd_hup)
			c->rd_ready = 0;
	} else if (r == 0) {
		c->rd_eof = 1;
		c->rd_ready = 0;
		c->want_shutdown = 1;
	} else if (r == -EAGAIN) {
		c->rd_ready = 0;
	} else if (r != -EINTR) {
		conn_fail(c, strerror((int)-r));
		return;
	}
	conn_update(c);
}

ssize_t conn_read(struct conn *c, void *buf, uint32_t n)
{
	ssize_t r;

	do
		r = recv(c->fd, buf, n, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

ssize_t conn_next_size(struct conn *c)
{
	ssize_t r;

	/* MSG_TRUNC: the message's real length, however small the buffer (AF_UNIX). */
	do
		r = recv(c->fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		/* The end, or an empty message, which cannot be told from it: take it. */
		(void)recv(c->fd, NULL, 0, MSG_DONTWAIT);
	}
	return r < 0 ? -errno : r;
}

static void connected(struct conn *c)
{
	if (list_linked(&c->timer_node))
		list_del(&c->timer_node);
	c->state = CONN_ACCEPTING;
	c->want_accept = 1;
	c->rd_ready = c->wr_ready = 1;
	conn_update(c);
}

/* Connect an export's connection to its target, or refuse it. */
static void connect_target(struct conn *c)
{
	struct proxy *px = px_of(c);
	const struct export_cfg *e = &px->cfg->exports[c->exp];
	int pending, fd, err;

	c->retry_ms = 0;
	fd = addr_connect(&e->target, &pending);
	if (fd == -EAGAIN) {
		c->retry_ms = ivshm_clock_ms() + RETRY_MS;
		return;
	}
	if (fd < 0) {
		proxy_log(LOG_DEBUG, "export %s: %s: %s", e->service, e->target.text, strerror(-fd));
		refuse(c, fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM || fd == -ENOBUFS ?
			  IVSHM_PROXY_BUSY : IVSHM_PROXY_UNREACHABLE);
		return;
	}
	c->fd = fd;
	err = watch_fd(c);
	if (err) {
		proxy_log(LOG_WARNING, "epoll: %s", strerror(-err));
		refuse(c, IVSHM_PROXY_BUSY);
		return;
	}
	if (!pending)
		connected(c);
}

void conn_export(struct link *l, uint32_t id, uint32_t idx, const struct frame *f)
{
	struct proxy *px = l->px;
	const struct export_cfg *e = NULL;
	char name[IVSHM_PROXY_SERVICE_MAX + 1];
	int seqpacket = !!(f->h.flags & IVSHM_PROXY_F_SEQPACKET);
	uint8_t reason = 0;
	struct conn *c;
	unsigned int i;

	c = conn_alloc(l, id, 0, seqpacket);
	if (!c) {
		link_refuse(l, id, IVSHM_PROXY_BUSY);
		return;
	}
	l->theirs[idx] = c;
	l->n_theirs++;
	c->cr.peer_buf = f->h.arg;
	c->state = CONN_CONNECTING;
	/* One copy of the name: the peer may rewrite its ring under us. */
	memcpy(name, f->payload, f->h.len);
	name[f->h.len] = '\0';
	for (i = 0; i < px->cfg->n_exports && !e; i++)
		if (!strcmp(px->cfg->exports[i].service, name))
			e = &px->cfg->exports[i];
	if (!frame_service_ok(name, f->h.len)) {
		reason = IVSHM_PROXY_BAD_OPEN;
		l->st.bad_frames++;
		px->bad_frames++;
		proxy_log_limited(&l->rl, LOG_WARNING, "peer %u (%s): connection %u: OPEN of a "
				  "malformed service name; refused", l->peer_id, l->role, id);
	} else if (!e) {
		reason = IVSHM_PROXY_NO_SERVICE;
		proxy_log_limited(&px->rl_refused, LOG_INFO, "peer %u (%s) asked for service '%s', "
				  "which is not exported", l->peer_id, l->role, name);
	} else if (!config_allowed(e, l->role)) {
		reason = IVSHM_PROXY_DENIED;
		proxy_log_limited(&px->rl_denied, LOG_WARNING, "export %s: role %s (peer %u) "
				  "is not allowed; refused", name, l->role, l->peer_id);
	} else if (seqpacket != (e->target.kind == ADDR_SEQPACKET)) {
		reason = IVSHM_PROXY_WRONG_KIND;
		proxy_log_limited(&px->rl_refused, LOG_INFO, "export %s: peer %u (%s) opened it "
				  "as %s", name, l->peer_id, l->role, seqpacket ? "seqpacket" : "stream");
	}
	if (e) {
		c->exp = (int)(e - px->cfg->exports);
		px->exports[c->exp].conns++;
		px->exports[c->exp].opened++;
	}
	if (reason) {
		refuse(c, reason);
		return;
	}
	c->deadline_ms = ivshm_clock_ms() + px->cfg->connect_timeout_ms;
	list_add_tail(&px->connecting, &c->timer_node);
	connect_target(c);
}

int conn_import(struct link *l, struct listener *lst, int fd)
{
	struct proxy *px = l->px;
	uint32_t limit = px->cfg->max_conns, i, idx = 0;
	struct conn *c;

	if (l->hello_rx && l->peer_max_conns < limit)
		limit = l->peer_max_conns;
	for (i = 0; i < limit && l->n_mine < limit; i++) {
		idx = (l->next_mine + i) % limit;
		if (!l->mine[idx])
			break;
	}
	if (l->n_mine >= limit || i == limit) {
		addr_close_reset(fd);
		return -EBUSY;
	}
	c = conn_alloc(l, (idx + 1) * 2 + l->parity, 1, lst->imp->listen.kind == ADDR_SEQPACKET);
	if (!c) {
		addr_close_reset(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	if (watch_fd(c)) {
		addr_close_reset(fd);
		free(c);
		return -ENOMEM;
	}
	l->next_mine = idx + 1;
	l->mine[idx] = c;
	l->n_mine++;
	lst->conns++;
	c->lst = lst;
	c->state = CONN_OPENING;
	c->want_open = 1;
	c->rd_ready = c->wr_ready = 1;
	c->deadline_ms = ivshm_clock_ms() + px->cfg->connect_timeout_ms + OPEN_GRACE_MS;
	list_add_tail(&px->connecting, &c->timer_node);
	conn_update(c);
	return 0;
}

void conn_event(struct conn *c, uint32_t events)
{
	int err;
	socklen_t len = sizeof(err);

	if (!c->link || c->fd < 0)
		return;
	if (c->state == CONN_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			proxy_log(LOG_DEBUG, "export %s: %s: %s", conn_service(c),
				  px_of(c)->cfg->exports[c->exp].target.text, strerror(err));
			refuse(c, IVSHM_PROXY_UNREACHABLE);
			return;
		}
		connected(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rd_ready = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rd_hup = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		c->wr_ready = 1;
		if (c->state == CONN_OPEN && flush(c))
			return;
	}
	if (c->link)
		conn_update(c);
}

void conn_timer(struct conn *c, int64_t now_ms)
{
	if (c->state == CONN_CONNECTING && c->retry_ms && now_ms >= c->retry_ms &&
	    now_ms < c->deadline_ms) {
		connect_target(c);
		return;
	}
	if (now_ms < c->deadline_ms)
		return;
	if (c->state == CONN_OPENING) {
		conn_fail(c, "no answer from the peer");
		return;
	}
	proxy_log(LOG_DEBUG, "export %s: %s did not answer in %u ms", conn_service(c),
		  px_of(c)->cfg->exports[c->exp].target.text, px_of(c)->cfg->connect_timeout_ms);
	refuse(c, IVSHM_PROXY_UNREACHABLE);
}
