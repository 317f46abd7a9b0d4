// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Frames in and out of a link's channel. In: each record is read in place
 * (ivshm_chan_peek()), its frames dispatched, and only then released. Out:
 * control frames are packed into one record; DATA is read from each ready
 * socket straight into reserved ring space, one frame per connection in
 * turn, so every connection gets its share. Both run inside one batch: the
 * peer sees one index store and at most one doorbell for all of it.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "chanio.h"
#include "proxy.h"

/* Records read, and DATA frames sent, per call: the loop then looks at the sockets again. */
#define RX_BUDGET 64
#define TX_BUDGET 64
/* A record of control frames; each connection's frames take at most CTL_MAX bytes. */
#define CTL_CHUNK 4096u
#define CTL_MAX (5 * FRAME_HDR + IVSHM_PROXY_SERVICE_MAX)

static void bad(struct link *l, const char *what, const struct frame *f)
{
	l->st.bad_frames++;
	l->px->bad_frames++;
	if (f)
		proxy_log_limited(&l->rl, LOG_WARNING, "peer %u (%s): %s (%s, connection %u, "
				  "%u bytes)", l->peer_id, l->role, what, frame_type_name(f->h.type),
				  f->h.conn, f->h.len);
	else
		proxy_log_limited(&l->rl, LOG_WARNING, "peer %u (%s): %s", l->peer_id, l->role, what);
}

static void on_hello(struct link *l, const struct frame *f)
{
	struct ivshm_proxy_hello h;
	unsigned int major = f->h.arg >> 16, minor = f->h.arg & 0xffff;

	if (l->hello_rx) {
		bad(l, "a second HELLO", f);
		return;
	}
	if (major != IVSHM_PROXY_MAJOR) {
		proxy_log(LOG_WARNING, "peer %u (%s) speaks protocol %u.%u, this proxy %u.%u",
			  l->peer_id, l->role, major, minor, IVSHM_PROXY_MAJOR, IVSHM_PROXY_MINOR);
		link_fail(l, "another protocol version");
		return;
	}
	memcpy(&h, f->payload, sizeof(h));
	l->peer_max_conns = le32toh(h.max_conns);
	l->peer_max_data = le32toh(h.max_data);
	if (l->peer_max_conns > IVSHM_PROXY_CONNS_MAX)
		l->peer_max_conns = IVSHM_PROXY_CONNS_MAX;
	l->hello_rx = 1;
}

static void dispatch(struct link *l, const struct frame *f)
{
	const char *why = frame_check(f);
	uint32_t idx;
	int theirs, valid;
	struct conn *c;

	l->st.frames_in++;
	if (!l->hello_rx && f->h.type != IVSHM_PROXY_HELLO) {
		bad(l, "a frame before HELLO", f);
		link_fail(l, "the peer did not say HELLO first");
		return;
	}
	if (f->h.type == IVSHM_PROXY_HELLO) {
		if (why)
			bad(l, why, f);
		else
			on_hello(l, f);
		return;
	}
	c = link_conn(l, f->h.conn, &theirs, &idx, &valid);
	if (f->h.type == IVSHM_PROXY_OPEN && !why) {
		if (!theirs) {
			bad(l, "an OPEN with our IDs", f);
		} else if (!valid) {
			bad(l, "an OPEN beyond our connection limit", f);
			link_refuse(l, f->h.conn, IVSHM_PROXY_BUSY);
		} else if (c) {
			conn_violation(c, "a second OPEN of the same ID");
		} else {
			conn_export(l, f->h.conn, idx, f);
		}
		return;
	}
	if (why) {
		bad(l, why, f);
		if (c)
			conn_fail(c, NULL);
		else if (f->h.type == IVSHM_PROXY_OPEN && theirs && valid)
			link_refuse(l, f->h.conn, IVSHM_PROXY_BAD_OPEN);
		return;
	}
	if (!c) {
		/* A final frame for an ID we freed crossed our own final frame: fine. */
		if (f->h.type != IVSHM_PROXY_RESET && f->h.type != IVSHM_PROXY_CLOSE)
			bad(l, "a frame for no connection", f);
		return;
	}
	conn_frame(c, f);
}

int link_input(struct link *l)
{
	const void *rec;
	size_t len, pos;
	struct frame f;
	int n, rc = 0, err, did = 0;

	for (n = 0; n < RX_BUDGET; n++) {
		if (l->dead)
			return did;
		/* The record in place in the peer's ring: headers are copied before they are checked. */
		err = ivshm_chan_peek(l->ch, &rec, &len, 0);
		if (err == -EAGAIN) {
			l->rx_more = 0;
			return did;
		}
		if (err) {
			link_error(l, err);
			return did;
		}
		did = 1;
		l->st.records_in++;
		pos = 0;
		while (!l->dead && (rc = frame_next((const char *)rec, len, &pos, &f)) == 1)
			dispatch(l, &f);
		if (!l->dead && rc < 0)
			bad(l, "a frame runs past the end of its record; the rest of it is dropped", NULL);
		err = ivshm_chan_release(l->ch, len);
		if (err)
			link_error(l, err);
	}
	l->rx_more = 1;
	return did;
}

void link_refuse(struct link *l, uint32_t id, uint8_t reason)
{
	if (l->n_refusals == LINK_REFUSALS) {
		bad(l, "too many OPENs to refuse; one goes unanswered", NULL);
		return;
	}
	l->refusals[l->n_refusals].id = id;
	l->refusals[l->n_refusals].reason = reason;
	l->n_refusals++;
}

/* The control frames @c owes, at @p; then what sending them means. Returns the bytes written. */
static uint32_t put_ctl(struct link *l, struct conn *c, char *p)
{
	uint8_t types[5];
	uint32_t pos = 0, fwd = c->cr.fwd_cnt;
	int n = 0, i;

	if (c->want_refuse) {
		frame_put(p, IVSHM_PROXY_REFUSE, 0, c->id, 0, c->want_refuse);
		types[n++] = IVSHM_PROXY_REFUSE;
	} else if (c->want_reset) {
		frame_put(p, IVSHM_PROXY_RESET, 0, c->id, 0, 0);
		types[n++] = IVSHM_PROXY_RESET;
	} else {
		if (c->want_open) {
			const char *name = conn_service(c);
			uint32_t len = (uint32_t)strlen(name);

			frame_put(p, IVSHM_PROXY_OPEN, c->seqpacket ? IVSHM_PROXY_F_SEQPACKET : 0, c->id,
				  len, c->cr.buf_alloc);
			memcpy(p + FRAME_HDR, name, len);
			pos += FRAME_HDR + len;
			types[n++] = IVSHM_PROXY_OPEN;
		}
		if (c->want_accept) {
			frame_put(p + pos, IVSHM_PROXY_ACCEPT, 0, c->id, 0, c->cr.buf_alloc);
			pos += FRAME_HDR;
			types[n++] = IVSHM_PROXY_ACCEPT;
		}
		if (c->want_credit) {
			frame_put(p + pos, IVSHM_PROXY_CREDIT, 0, c->id, 0, fwd);
			pos += FRAME_HDR;
			types[n++] = IVSHM_PROXY_CREDIT;
			c->cr.fwd_told = fwd;
		}
		if (c->want_shutdown) {
			frame_put(p + pos, IVSHM_PROXY_SHUTDOWN, 0, c->id, 0, fwd);
			pos += FRAME_HDR;
			types[n++] = IVSHM_PROXY_SHUTDOWN;
			c->cr.fwd_told = fwd;
		}
		if (c->want_close) {
			frame_put(p + pos, IVSHM_PROXY_CLOSE, 0, c->id, 0, 0);
			pos += FRAME_HDR;
			types[n++] = IVSHM_PROXY_CLOSE;
		}
	}
	if (n == 1 && !pos)
		pos = FRAME_HDR;
	l->st.frames_out += (uint64_t)n;
	for (i = 0; i < n; i++)
		if (conn_sent(c, types[i]))
			break;
	return pos;
}

static int has_ctl(const struct link *l)
{
	return l->want_hello || l->n_refusals || !list_empty(&l->ctl);
}

/* One record of control frames. Returns 1 (sent), 0 (nothing owed), -EAGAIN (no room), or an error. */
static int send_ctl(struct link *l)
{
	uint32_t chunk = l->max_send < CTL_CHUNK ? l->max_send : CTL_CHUNK, pos = 0;
	void *room;
	char *p;
	int err;

	if (!has_ctl(l))
		return 0;
	err = ivshm_chan_reserve(l->ch, chunk, &room, 0);
	if (err)
		return err;
	p = room;
	if (l->want_hello) {
		struct ivshm_proxy_hello h = {
			.max_conns = htole32(l->px->cfg->max_conns),
			.max_data = htole32(l->max_data),
		};

		frame_put(p, IVSHM_PROXY_HELLO, 0, 0, sizeof(h),
			  IVSHM_PROXY_MAJOR << 16 | IVSHM_PROXY_MINOR);
		memcpy(p + FRAME_HDR, &h, sizeof(h));
		pos = FRAME_HDR + sizeof(h);
		l->want_hello = 0;
		l->st.frames_out++;
	}
	while (l->n_refusals && pos + FRAME_HDR <= chunk) {
		l->n_refusals--;
		frame_put(p + pos, IVSHM_PROXY_REFUSE, 0, l->refusals[l->n_refusals].id, 0,
			  l->refusals[l->n_refusals].reason);
		pos += FRAME_HDR;
		l->st.frames_out++;
	}
	while (!list_empty(&l->ctl) && pos + CTL_MAX <= chunk) {
		struct conn *c = list_entry(l->ctl.next, struct conn, ctl_node);

		list_del(&c->ctl_node);
		pos += put_ctl(l, c, p + pos);
	}
	err = ivshm_chan_commit(l->ch, pos);
	if (err)
		return err;
	l->st.records_out++;
	return 1;
}

/*
 * One DATA frame from @c's socket, read straight into the ring. Returns 1
 * (sent), 0 (nothing from this connection now), -EAGAIN (no room), or an
 * error of the channel.
 */
static int send_data(struct link *l, struct conn *c)
{
	uint32_t avail = credit_avail(&c->cr), n = avail < l->max_data ? avail : l->max_data;
	void *room;
	ssize_t r;
	int err;

	if (c->seqpacket) {
		r = conn_next_size(c);
		if (r <= 0) {
			conn_read_result(c, r, 0);
			return 0;
		}
		if ((uint64_t)r > l->max_data || (uint64_t)r + IVSHM_PROXY_MSG_COST > c->cr.peer_buf) {
			conn_fail(c, "a message larger than the link carries");
			return 0;
		}
		/* Wait for credit for the whole message (a CREDIT frame puts it back on the list). */
		c->need = (uint32_t)r + IVSHM_PROXY_MSG_COST;
		if (c->need > avail)
			return 0;
		c->need = 0;
		n = (uint32_t)r;
	}
	err = ivshm_chan_reserve(l->ch, FRAME_HDR + n, &room, 0);
	if (err)
		return err;
	r = conn_read(c, (char *)room + FRAME_HDR, n);
	if (r <= 0) {
		err = ivshm_chan_commit(l->ch, 0);
		conn_read_result(c, r, n);
		return err;
	}
	frame_put(room, IVSHM_PROXY_DATA, 0, c->id, (uint32_t)r, c->cr.fwd_cnt);
	err = ivshm_chan_commit(l->ch, FRAME_HDR + (uint32_t)r);
	if (err)
		return err;
	credit_sent(&c->cr, c->seqpacket ? (uint32_t)r + IVSHM_PROXY_MSG_COST : (uint32_t)r);
	/* The frame told the peer our fwd_cnt. */
	c->cr.fwd_told = c->cr.fwd_cnt;
	c->want_credit = 0;
	c->tx_bytes += (uint64_t)r;
	l->st.bytes_out += (uint64_t)r;
	l->st.frames_out++;
	l->st.records_out++;
	conn_read_result(c, r, n);
	return 1;
}

int link_has_output(const struct link *l)
{
	return has_ctl(l) || !list_empty(&l->ready);
}

int link_output(struct link *l)
{
	int sent = 0, turns = 0, did = 0, rc;

	while (!l->dead && (rc = send_ctl(l)) == 1)
		did = 1;
	/* Each turn sends, or takes its connection off the list (empty, ended, waiting for credit). */
	while (!l->dead && rc == 0 && sent < TX_BUDGET && turns++ < 4 * TX_BUDGET &&
	       !list_empty(&l->ready)) {
		struct conn *c = list_entry(l->ready.next, struct conn, ready_node);

		/* To the back of the queue: the others go first next time. */
		list_del(&c->ready_node);
		rc = send_data(l, c);
		if (c->link)
			conn_update(c);
		if (rc == 1) {
			sent++;
			did = 1;
			rc = 0;
		}
		/* Frames it owes now (SHUTDOWN after the end) go before more DATA. */
		if (!rc && has_ctl(l))
			while (!l->dead && (rc = send_ctl(l)) == 1)
				;
	}
	if (rc == -EAGAIN) {
		if (!l->tx_blocked) {
			l->tx_blocked = 1;
			chanio_watch(l);
		}
	} else if (rc < 0) {
		link_error(l, rc);
	} else if (l->tx_blocked) {
		l->tx_blocked = 0;
		chanio_watch(l);
	}
	return did;
}
