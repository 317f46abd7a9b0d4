// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The data path of a channel: records (packet) and bytes (stream) into our
 * ring and out of the peer's. Each call loads the peer's index once, checks
 * it, copies a record's header to our memory before looking at it, and moves
 * its own index after the data (a release store), ringing the peer only if it
 * sleeps. A batch holds our index stores back until its end: many messages,
 * one store, at most one doorbell.
 */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "barrier.h"
#include "chan.h"

/* Busy ends beat too: every so many calls, if the period passed. */
static void beat(struct ivshm_chan *ch)
{
	if (++ch->ops % 256 == 0)
		ivshm__heartbeat(ch->r, 0);
}

static void publish_prod(struct ivshm_chan *ch)
{
	if (ch->prod == ch->prod_pub)
		return;
	/* Data before the index: a peer that sees the index sees the data. */
	ivshm_store_release(&ch->half->prod, ch->prod);
	ch->prod_pub = ch->prod;
	ch->st.publishes++;
	ivshm__chan_kick(ch, IVSHM_RX);
}

static void publish_cons(struct ivshm_chan *ch)
{
	if (ch->cons == ch->cons_pub)
		return;
	/* Our reads of the records before the index that lets the peer overwrite them. */
	ivshm_store_release(&ch->half->cons, ch->cons);
	ch->cons_pub = ch->cons;
	ch->st.publishes++;
	ivshm__chan_kick(ch, IVSHM_TX);
}

void ivshm__chan_publish(struct ivshm_chan *ch)
{
	publish_prod(ch);
	publish_cons(ch);
}

static void produced(struct ivshm_chan *ch, uint32_t bytes)
{
	beat(ch);
	ch->prod += bytes;
	if (!ch->batch)
		publish_prod(ch);
}

static void consumed(struct ivshm_chan *ch, uint32_t bytes)
{
	beat(ch);
	ch->cons += bytes;
	if (!ch->batch)
		publish_cons(ch);
}

/* A message (packet) or a call that moved bytes (stream), for ivshm_chan_get_stats(). */
static void count(struct ivshm_chan *ch, enum ivshm_dir d, size_t bytes)
{
	if (d == IVSHM_RX) {
		ch->st.received++;
		ch->st.bytes_received += bytes;
	} else {
		ch->st.sent++;
		ch->st.bytes_sent += bytes;
	}
}

static const char *type_name(uint32_t type)
{
	return type == IVSHM_CHAN_STREAM ? "stream" : "packet";
}

/* What every call checks once its arguments are: a usable channel of @type, nothing pending. */
static int usable(struct ivshm_chan *ch, enum ivshm_chan_type type, const char *call)
{
	int err = ivshm__chan_usable(ch);

	if (err)
		return err;
	if (ch->mine.type != (uint32_t)type) {
		ivshm__log(LOG_DEBUG, "%s on a %s channel: it is for %s channels", call,
			   type_name(ch->mine.type), type_name(type));
		return -EINVAL;
	}
	return 0;
}

static int no_pending(struct ivshm_chan *ch, enum ivshm_dir d)
{
	if (d == IVSHM_TX && ch->reserved) {
		ivshm__log(LOG_DEBUG, "peer %u port %u: a reservation waits for its commit",
			   ch->peer_id, ch->mine.port);
		return -EBUSY;
	}
	if (d == IVSHM_RX && ch->peeked) {
		ivshm__log(LOG_DEBUG, "peer %u port %u: a peeked message waits for its release",
			   ch->peer_id, ch->mine.port);
		return -EBUSY;
	}
	return 0;
}

/* Nothing to read or no room: wait, or the reason there never will be. */
static int nothing(struct ivshm_chan *ch, enum ivshm_dir d)
{
	int err = ivshm__chan_idle(ch, d);

	return err ? err : -EAGAIN;
}

/*
 * The next record of the peer's ring, its header copied to *@h, past the
 * pads: 0 with its position and span, -EAGAIN, or the channel's error.
 */
static int next_record(struct ivshm_chan *ch, struct ivshm_shm_rec *h, uint32_t *pos,
		       uint32_t *span)
{
	uint32_t avail;
	int err;

	/* At most a pad and a record: ivshm__rec_check() refuses a pad at the ring's start. */
	for (;;) {
		err = ivshm__chan_peer_prod(ch, &avail);
		if (err)
			return err;
		if (!avail)
			return nothing(ch, IVSHM_RX);
		if (avail % IVSHM_SHM_REC_ALIGN) {
			ivshm__log(LOG_ERR, "peer %u port %u: %u bytes published, not whole records",
				   ch->peer_id, ch->theirs.port, avail);
			return ivshm__chan_fail(ch, -EPROTO);
		}
		/* The header, once, into our memory; then only the copy is looked at. An
		 * 8-aligned header never crosses the ring's end. */
		*pos = ch->cons & (ch->theirs.ring_size - 1);
		memcpy(h, ch->rx + *pos, sizeof(*h));
		err = ivshm__rec_check(h, ch->cons, ch->theirs.ring_size, avail, ch->theirs.max_msg,
				       span);
		if (err)
			return ivshm__chan_fail(ch, err);
		if (!(h->flags & IVSHM_SHM_REC_PAD))
			return 0;
		consumed(ch, *span);
	}
}

/*
 * Room for a record of @len bytes at our producer index, padding to the
 * ring's start if need be: 0, -EAGAIN (*@need: the bytes of room it waits
 * for), or the channel's error.
 */
static int make_room(struct ivshm_chan *ch, uint32_t len, uint32_t *need)
{
	uint32_t free, to_end = ch->tx_size - (ch->prod & (ch->tx_size - 1)), span;
	struct ivshm_shm_rec pad = { .flags = IVSHM_SHM_REC_PAD };
	int err;

	span = ivshm__rec_span(len);
	*need = span > to_end ? span + to_end : span;
	err = ivshm__chan_sendable(ch);
	if (!err)
		err = ivshm__chan_peer_cons(ch, &free);
	if (err)
		return err;
	if (free < *need)
		return nothing(ch, IVSHM_TX);
	if (span > to_end) {
		pad.len = to_end - sizeof(pad);
		ivshm__ring_put(ch->tx, ch->tx_size, ch->prod, &pad, sizeof(pad));
		produced(ch, to_end);
	}
	return 0;
}

struct msg_out {
	const void *msg;
	size_t len;
};

static int send_try(struct ivshm_chan *ch, void *arg, uint32_t *need)
{
	const struct msg_out *m = arg;
	struct ivshm_shm_rec h = { .len = (uint32_t)m->len };
	char *at;
	int err;

	err = make_room(ch, h.len, need);
	if (err)
		return err;
	/* After make_room() the record fits before the ring's end. */
	at = ch->tx + (ch->prod & (ch->tx_size - 1));
	memcpy(at, &h, sizeof(h));
	memcpy(at + sizeof(h), m->msg, m->len);
	produced(ch, ivshm__rec_span(h.len));
	count(ch, IVSHM_TX, m->len);
	return 0;
}

static int fits_max(struct ivshm_chan *ch, size_t len)
{
	if (len <= ch->mine.max_msg)
		return 0;
	ivshm__log(LOG_DEBUG, "peer %u port %u: a message of %zu bytes, this end's maximum is %u",
		   ch->peer_id, ch->mine.port, len, ch->mine.max_msg);
	return -EMSGSIZE;
}

int ivshm_chan_send(struct ivshm_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	struct msg_out m = { .msg = msg, .len = len };
	int err;

	if (!ch || (!msg && len) || timeout_ms < 0)
		return ivshm__bad_arg(__func__, "a NULL pointer or a negative timeout");
	err = usable(ch, IVSHM_CHAN_PACKET, "send");
	if (!err)
		err = no_pending(ch, IVSHM_TX);
	if (!err)
		err = fits_max(ch, len);
	return err ? err : ivshm__chan_retry(ch, IVSHM_TX, send_try, &m, timeout_ms);
}

struct msg_in {
	void *buf;
	size_t size;
	size_t *len;
};

static int recv_try(struct ivshm_chan *ch, void *arg, uint32_t *need)
{
	struct msg_in *m = arg;
	struct ivshm_shm_rec h;
	uint32_t pos, span;
	int err;

	(void)need;
	err = next_record(ch, &h, &pos, &span);
	if (err)
		return err;
	*m->len = h.len;
	if (h.len > m->size) {
		ivshm__log(LOG_DEBUG, "peer %u port %u: a message of %u bytes, the buffer holds %zu",
			   ch->peer_id, ch->theirs.port, h.len, m->size);
		return -EMSGSIZE;
	}
	/* The check above made sure the record ends before the ring does. */
	memcpy(m->buf, ch->rx + pos + sizeof(h), h.len);
	consumed(ch, span);
	count(ch, IVSHM_RX, h.len);
	return 0;
}

int ivshm_chan_recv(struct ivshm_chan *ch, void *buf, size_t size, size_t *len, int timeout_ms)
{
	struct msg_in m = { .buf = buf, .size = size, .len = len };
	int err;

	if (!ch || (!buf && size) || !len || timeout_ms < 0)
		return ivshm__bad_arg(__func__, "a NULL pointer or a negative timeout");
	err = usable(ch, IVSHM_CHAN_PACKET, "recv");
	if (!err)
		err = no_pending(ch, IVSHM_RX);
	return err ? err : ivshm__chan_retry(ch, IVSHM_RX, recv_try, &m, timeout_ms);
}

struct room {
	size_t len;
	void **buf;
};

static int reserve_try(struct ivshm_chan *ch, void *arg, uint32_t *need)
{
	struct room *m = arg;
	int err = make_room(ch, (uint32_t)m->len, need);

	if (err)
		return err;
	*m->buf = ch->tx + (ch->prod & (ch->tx_size - 1)) + sizeof(struct ivshm_shm_rec);
	return 0;
}

int ivshm_chan_reserve(struct ivshm_chan *ch, size_t len, void **buf, int timeout_ms)
{
	struct room m = { .len = len, .buf = buf };
	int err;

	if (!ch || !buf || !len || timeout_ms < 0)
		return ivshm__bad_arg(__func__, "a NULL pointer or a negative timeout");
	err = usable(ch, IVSHM_CHAN_PACKET, "reserve");
	if (!err)
		err = no_pending(ch, IVSHM_TX);
	if (!err)
		err = fits_max(ch, len);
	if (!err)
		err = ivshm__chan_retry(ch, IVSHM_TX, reserve_try, &m, timeout_ms);
	if (!err)
		ch->reserved = len;
	return err;
}

int ivshm_chan_commit(struct ivshm_chan *ch, size_t len)
{
	struct ivshm_shm_rec h = { .len = (uint32_t)len };

	if (!ch)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (!ch->reserved || len > ch->reserved) {
		ivshm__log(LOG_DEBUG, "commit of %zu bytes, %zu reserved", len, ch->reserved);
		return -EINVAL;
	}
	ch->reserved = 0;
	if (ch->err)
		return ch->err;
	if (!len)
		return 0;
	/* The room is still ours: only we advance our producer index. */
	ivshm__ring_put(ch->tx, ch->tx_size, ch->prod, &h, sizeof(h));
	produced(ch, ivshm__rec_span(h.len));
	count(ch, IVSHM_TX, len);
	return 0;
}

struct bytes_out {
	const void *buf;
	size_t len, *done;
};

static int write_try(struct ivshm_chan *ch, void *arg, uint32_t *need)
{
	struct bytes_out *m = arg;
	uint32_t free, n;
	int err;

	*need = 1;
	err = ivshm__chan_sendable(ch);
	if (!err)
		err = ivshm__chan_peer_cons(ch, &free);
	if (err)
		return err;
	if (!free)
		return nothing(ch, IVSHM_TX);
	n = m->len < free ? (uint32_t)m->len : free;
	ivshm__ring_put(ch->tx, ch->tx_size, ch->prod, m->buf, n);
	produced(ch, n);
	*m->done = n;
	count(ch, IVSHM_TX, n);
	return 0;
}

int ivshm_chan_write(struct ivshm_chan *ch, const void *buf, size_t len, size_t *done,
		     int timeout_ms)
{
	struct bytes_out m = { .buf = buf, .len = len, .done = done };
	int err;

	if (!ch || (!buf && len) || !done || timeout_ms < 0)
		return ivshm__bad_arg(__func__, "a NULL pointer or a negative timeout");
	*done = 0;
	err = usable(ch, IVSHM_CHAN_STREAM, "write");
	if (err || !len)
		return err;
	return ivshm__chan_retry(ch, IVSHM_TX, write_try, &m, timeout_ms);
}

struct bytes_in {
	void *buf;
	size_t size, *done;
};

static int read_try(struct ivshm_chan *ch, void *arg, uint32_t *need)
{
	struct bytes_in *m = arg;
	uint32_t avail, n;
	int err;

	(void)need;
	err = ivshm__chan_peer_prod(ch, &avail);
	if (err)
		return err;
	if (!avail)
		return nothing(ch, IVSHM_RX);
	n = m->size < avail ? (uint32_t)m->size : avail;
	ivshm__ring_get(ch->rx, ch->theirs.ring_size, ch->cons, m->buf, n);
	consumed(ch, n);
	*m->done = n;
	count(ch, IVSHM_RX, n);
	return 0;
}

int ivshm_chan_read(struct ivshm_chan *ch, void *buf, size_t size, size_t *done, int timeout_ms)
{
	struct bytes_in m = { .buf = buf, .size = size, .done = done };
	int err;

	if (!ch || (!buf && size) || !done || timeout_ms < 0)
		return ivshm__bad_arg(__func__, "a NULL pointer or a negative timeout");
	*done = 0;
	err = usable(ch, IVSHM_CHAN_STREAM, "read");
	if (!err)
		err = no_pending(ch, IVSHM_RX);
	if (err || !size)
		return err;
	return ivshm__chan_retry(ch, IVSHM_RX, read_try, &m, timeout_ms);
}

struct peeked {
	const void **msg;
	size_t *len;
};

static int peek_try(struct ivshm_chan *ch, void *arg, uint32_t *need)
{
	struct peeked *m = arg;
	struct ivshm_shm_rec h;
	uint32_t pos, span, avail;
	int err;

	(void)need;
	if (ch->mine.type == IVSHM_CHAN_STREAM) {
		err = ivshm__chan_peer_prod(ch, &avail);
		if (err)
			return err;
		if (!avail)
			return nothing(ch, IVSHM_RX);
		pos = ch->cons & (ch->theirs.ring_size - 1);
		/* What is there up to the ring's end: the rest comes with the next peek. */
		if (avail > ch->theirs.ring_size - pos)
			avail = ch->theirs.ring_size - pos;
		*m->msg = ch->rx + pos;
		*m->len = avail;
		ch->peeked = ch->peek_len = avail;
		return 0;
	}
	err = next_record(ch, &h, &pos, &span);
	if (err)
		return err;
	*m->msg = ch->rx + pos + sizeof(h);
	*m->len = h.len;
	ch->peeked = span;
	ch->peek_len = h.len;
	return 0;
}

int ivshm_chan_peek(struct ivshm_chan *ch, const void **msg, size_t *len, int timeout_ms)
{
	struct peeked m = { .msg = msg, .len = len };
	int err;

	if (!ch || !msg || !len || timeout_ms < 0)
		return ivshm__bad_arg(__func__, "a NULL pointer or a negative timeout");
	err = ivshm__chan_usable(ch);
	if (!err)
		err = no_pending(ch, IVSHM_RX);
	return err ? err : ivshm__chan_retry(ch, IVSHM_RX, peek_try, &m, timeout_ms);
}

int ivshm_chan_release(struct ivshm_chan *ch, size_t len)
{
	uint32_t span;

	if (!ch)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (!ch->peeked || len > ch->peek_len ||
	    (ch->mine.type == IVSHM_CHAN_PACKET && len != ch->peek_len)) {
		ivshm__log(LOG_DEBUG, "release of %zu bytes, %u peeked (%s)", len, ch->peek_len,
			   type_name(ch->mine.type));
		return -EINVAL;
	}
	span = ch->mine.type == IVSHM_CHAN_PACKET ? ch->peeked : (uint32_t)len;
	ch->peeked = ch->peek_len = 0;
	if (ch->err)
		return ch->err;
	consumed(ch, span);
	count(ch, IVSHM_RX, len);
	return 0;
}

int ivshm_chan_batch_begin(struct ivshm_chan *ch)
{
	if (!ch)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	ch->batch = 1;
	return 0;
}

int ivshm_chan_batch_end(struct ivshm_chan *ch)
{
	if (!ch)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	ch->batch = 0;
	if (ch->err)
		return ch->err;
	if (ch->peer_half)
		ivshm__chan_publish(ch);
	return 0;
}

/*
 * The rest of a send batch, once its first message went: as many of @msgs as
 * fit the room that the peer's consumer index gave for the first one, with one
 * more look at that index when the room runs out, and no other look at the
 * peer's end (the first message made them all). A message above max_msg ends
 * the batch. Returns how many went; a lying index breaks the channel (the
 * next call says so).
 */
static unsigned int send_more(struct ivshm_chan *ch, const struct ivshm_msg *msgs, unsigned int n)
{
	uint32_t mask = ch->tx_size - 1, free = ch->tx_size - (ch->prod - ch->seen_cons);
	struct ivshm_shm_rec h = { 0 }, pad = { .flags = IVSHM_SHM_REC_PAD };
	uint32_t to_end, span, need;
	uint64_t bytes = 0;
	unsigned int i;
	int looked = 0;
	char *at;

	for (i = 0; i < n && msgs[i].len <= ch->mine.max_msg; i++) {
		h.len = (uint32_t)msgs[i].len;
		span = ivshm__rec_span(h.len);
		to_end = ch->tx_size - (ch->prod & mask);
		need = span > to_end ? span + to_end : span;
		/* Out of room: one more look at the peer's index, once a batch. */
		if (need > free && (looked++ || ivshm__chan_peer_cons(ch, &free) || need > free))
			break;
		if (span > to_end) {
			pad.len = to_end - sizeof(pad);
			memcpy(ch->tx + (ch->prod & mask), &pad, sizeof(pad));
			ch->prod += to_end;
		}
		at = ch->tx + (ch->prod & mask);
		memcpy(at, &h, sizeof(h));
		memcpy(at + sizeof(h), msgs[i].buf, h.len);
		ch->prod += span;
		free -= need;
		bytes += h.len;
	}
	ch->st.sent += i;
	ch->st.bytes_sent += bytes;
	return i;
}

/*
 * What both batch calls check first: the arguments (a NULL buffer only with
 * nothing in it: len to send, size to receive), the channel, no zero-copy
 * record held in that direction. Zeroes *count.
 */
static int batch_args(struct ivshm_chan *ch, const struct ivshm_msg *msgs, unsigned int n,
		      unsigned int *count, int timeout_ms, enum ivshm_dir d)
{
	const char *call = d == IVSHM_TX ? "ivshm_chan_send_batch" : "ivshm_chan_recv_batch";
	unsigned int i;
	int err;

	if (!ch || !msgs || !n || !count || timeout_ms < 0)
		return ivshm__bad_arg(call, "a NULL pointer or a negative timeout");
	*count = 0;
	err = usable(ch, IVSHM_CHAN_PACKET, d == IVSHM_TX ? "send_batch" : "recv_batch");
	if (!err)
		err = no_pending(ch, d);
	for (i = 0; !err && i < n; i++)
		if (!msgs[i].buf && (d == IVSHM_TX ? msgs[i].len : msgs[i].size))
			err = -EINVAL;
	return err;
}

/* A batch call's end: an outer batch (batch_begin) publishes at its own end. */
static int batch_end(struct ivshm_chan *ch, int outer, int err)
{
	ch->batch = outer;
	if (err)
		return err;
	if (!outer)
		ivshm__chan_publish(ch);
	return 0;
}

int ivshm_chan_send_batch(struct ivshm_chan *ch, const struct ivshm_msg *msgs, unsigned int n,
			  unsigned int *sent, int timeout_ms)
{
	struct msg_out m;
	int err, outer;

	err = batch_args(ch, msgs, n, sent, timeout_ms, IVSHM_TX);
	if (!err)
		err = fits_max(ch, msgs[0].len);
	if (err)
		return err;
	outer = ch->batch;
	ch->batch = 1;
	/* The first one may wait; the others go only if they fit now. */
	m = (struct msg_out){ .msg = msgs[0].buf, .len = msgs[0].len };
	err = ivshm__chan_retry(ch, IVSHM_TX, send_try, &m, timeout_ms);
	if (!err)
		*sent = 1 + send_more(ch, msgs + 1, n - 1);
	return batch_end(ch, outer, err);
}

/*
 * The rest of a receive batch, once its first message came: records of what
 * the peer's producer index published for the first one, with one more look
 * at that index when they run out, each header copied and checked as
 * next_record() does. A message too big for its buffer ends the batch and
 * stays queued (its len says what it needs). Returns how many came; a broken
 * record breaks the channel (the next call says so).
 */
static unsigned int recv_more(struct ivshm_chan *ch, struct ivshm_msg *msgs, unsigned int n)
{
	uint32_t size = ch->theirs.ring_size, avail = ch->seen_prod - ch->cons, pos, span;
	struct ivshm_shm_rec h;
	uint64_t bytes = 0;
	unsigned int i = 0;
	int looked = 0, err;

	while (i < n) {
		/* Out of records: one more look at the peer's index, once a batch. */
		if (!avail) {
			if (looked++ || ivshm__chan_peer_prod(ch, &avail) || !avail)
				break;
			if (avail % IVSHM_SHM_REC_ALIGN) {
				ivshm__log(LOG_ERR, "peer %u port %u: %u bytes published, not whole records",
					   ch->peer_id, ch->theirs.port, avail);
				ivshm__chan_fail(ch, -EPROTO);
				break;
			}
		}
		/* The header, once, into our memory, as next_record() takes it. */
		pos = ch->cons & (size - 1);
		memcpy(&h, ch->rx + pos, sizeof(h));
		err = ivshm__rec_check(&h, ch->cons, size, avail, ch->theirs.max_msg, &span);
		if (err) {
			ivshm__chan_fail(ch, err);
			break;
		}
		if (!(h.flags & IVSHM_SHM_REC_PAD)) {
			msgs[i].len = h.len;
			if (h.len > msgs[i].size)
				break;
			memcpy(msgs[i].buf, ch->rx + pos + sizeof(h), h.len);
			bytes += h.len;
			i++;
		}
		ch->cons += span;
		avail -= span;
	}
	ch->st.received += i;
	ch->st.bytes_received += bytes;
	return i;
}

int ivshm_chan_recv_batch(struct ivshm_chan *ch, struct ivshm_msg *msgs, unsigned int n,
			  unsigned int *received, int timeout_ms)
{
	struct msg_in m;
	int err, outer;

	err = batch_args(ch, msgs, n, received, timeout_ms, IVSHM_RX);
	if (err)
		return err;
	outer = ch->batch;
	ch->batch = 1;
	m = (struct msg_in){ .buf = msgs[0].buf, .size = msgs[0].size, .len = &msgs[0].len };
	err = ivshm__chan_retry(ch, IVSHM_RX, recv_try, &m, timeout_ms);
	/* Whatever stops the batch (nothing more, a small buffer) waits for the next call. */
	if (!err)
		*received = 1 + recv_more(ch, msgs + 1, n - 1);
	return batch_end(ch, outer, err);
}
