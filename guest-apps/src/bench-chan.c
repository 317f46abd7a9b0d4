// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-bench over libivshm channels: a packet ping-pong for round trips, a
 * stream one way for throughput, and packets one way in batches
 * (ivshm_chan_send_batch()/ivshm_chan_recv_batch(): one index store and at
 * most one doorbell per batch), both ends in the test's wait mode. Every
 * message starts with its sequence number, checked by the receiver.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The server's end of a stream channel carries nothing back: the smallest ring. */
#define SERVER_STREAM_RING 4096u

static char rx_buf[IVSHM_BENCH_MAX_MSG], tx_buf[IVSHM_BENCH_MAX_MSG];

static void chan_stats(const struct ivshm_chan *ch, uint64_t *doorbells, uint64_t *sleeps)
{
	struct ivshm_chan_stats st;

	if (!ivshm_chan_get_stats(ch, &st)) {
		*doorbells = st.doorbells;
		*sleeps = st.sleeps;
	}
}

static int open_data(struct bench_conn *c, const struct bench_spec *s, enum ivshm_chan_type type,
		     uint32_t ring, struct ivshm_chan **ch)
{
	struct ivshm_chan_opts o = {
		.type = type, .ring_size = ring, .wait = (enum ivshm_wait_mode)s->mode,
		.spin_us = s->spin_us, .vector = IVSHM_BENCH_VECTOR,
	};
	int err = ivshm_chan_open(c->dev, c->peer, s->port, &o, c->o->timeout_ms, ch);

	if (err)
		app_err(err, "data channel on port %u", s->port);
	return err;
}

static int accept_data(struct bench_conn *c, const struct bench_spec *s,
		       enum ivshm_chan_type type, uint32_t ring, struct ivshm_chan **ch)
{
	struct ivshm_chan_opts o = {
		.type = type, .ring_size = ring, .wait = (enum ivshm_wait_mode)s->mode,
		.spin_us = s->spin_us, .vector = IVSHM_BENCH_VECTOR,
	};
	struct ivshm_chan_info info;
	int err;

	err = bench_ctl_ready(c);
	if (err)
		return err;
	err = ivshm_chan_accept(c->dev, s->port, &o, c->o->timeout_ms, ch);
	if (!err && (ivshm_chan_get_info(*ch, &info) || info.peer != c->peer)) {
		ivshm_msg_err("port %u: a channel from peer %u, not from the client", s->port,
			      info.peer);
		ivshm_chan_close(*ch);
		*ch = NULL;
		err = -EBADMSG;
	}
	if (err && err != -EBADMSG)
		app_err(err, "data channel on port %u", s->port);
	return err;
}

int bench_chan_rtt_client(struct bench_conn *c, const struct bench_spec *s, struct bench_result *r,
			  struct ivshm_bench_ctl *done)
{
	uint64_t i, t0, t1, limit;
	struct ivshm_chan *ch = NULL;
	int64_t *lat;
	size_t len;
	int err, derr;

	lat = calloc(s->count, sizeof(*lat));
	err = lat ? open_data(c, s, IVSHM_CHAN_PACKET, s->ring, &ch) : -ENOMEM;
	memset(tx_buf, 0x5a, s->msg_bytes);
	limit = bench_ticks() + bench_ns_ticks((int64_t)c->o->max_ms * 1000000);
	for (i = 0; !err && i < s->count && (i < 10 || bench_ticks() < limit); i++) {
		bench_alive(c);
		bench_seq_put(tx_buf, i);
		t0 = bench_ticks();
		err = ivshm_chan_send(ch, tx_buf, s->msg_bytes, c->o->timeout_ms);
		if (!err)
			err = ivshm_chan_recv(ch, rx_buf, sizeof(rx_buf), &len, c->o->timeout_ms);
		t1 = bench_ticks();
		if (err)
			break;
		if (len != s->msg_bytes || bench_seq_get(rx_buf) != i) {
			ivshm_msg_err("round %llu: the echo has %zu bytes and sequence number %llu",
				      (unsigned long long)i, len,
				      (unsigned long long)bench_seq_get(rx_buf));
			err = -EBADMSG;
			break;
		}
		lat[i] = (int64_t)(t1 - t0);
	}
	if (!err)
		err = bench_rtt_result(lat, i, r);
	if (ch) {
		chan_stats(ch, &r->doorbells, &r->sleeps);
		ivshm_chan_close(ch);
	}
	free(lat);
	derr = bench_ctl_done(c, done);
	return err ? err : derr;
}

int bench_chan_rtt_server(struct bench_conn *c, const struct bench_spec *s,
			  struct ivshm_bench_ctl *done)
{
	struct ivshm_chan *ch = NULL;
	size_t len;
	int err;

	err = accept_data(c, s, IVSHM_CHAN_PACKET, s->ring, &ch);
	if (err)
		return err;
	do {
		bench_alive(c);
		err = ivshm_chan_recv(ch, rx_buf, sizeof(rx_buf), &len, c->o->timeout_ms);
		if (!err)
			err = ivshm_chan_send(ch, rx_buf, len, c->o->timeout_ms);
	} while (!err);
	/* The client closes after its last round. */
	if (err == -EPIPE)
		err = 0;
	chan_stats(ch, &done->doorbells, &done->sleeps);
	ivshm_chan_close(ch);
	return err;
}

int bench_chan_stream_client(struct bench_conn *c, const struct bench_spec *s,
			     struct bench_result *r, struct ivshm_bench_ctl *done)
{
	struct ivshm_chan *ch = NULL;
	uint64_t n = 0, t0, end;
	size_t off, moved;
	int err;

	err = open_data(c, s, IVSHM_CHAN_STREAM, s->ring, &ch);
	memset(tx_buf, 0x5a, s->msg_bytes);
	t0 = bench_ticks();
	end = t0 + bench_ns_ticks((int64_t)c->o->stream_ms * 1000000);
	while (!err && bench_ticks() < end) {
		bench_alive(c);
		bench_seq_put(tx_buf, n);
		for (off = 0; !err && off < s->msg_bytes; off += moved)
			err = ivshm_chan_write(ch, tx_buf + off, s->msg_bytes - off, &moved,
					       c->o->timeout_ms);
		n += !err;
	}
	if (ch) {
		chan_stats(ch, &r->doorbells, &r->sleeps);
		ivshm_chan_close(ch);
	}
	return bench_stream_done(c, s, done, r, n, t0, err);
}

int bench_chan_stream_server(struct bench_conn *c, const struct bench_spec *s,
			     struct ivshm_bench_ctl *done)
{
	struct ivshm_chan *ch = NULL;
	size_t off, moved;
	uint64_t n;
	int err;

	err = accept_data(c, s, IVSHM_CHAN_STREAM, SERVER_STREAM_RING, &ch);
	if (err)
		return err;
	for (n = 0;; n++) {
		bench_alive(c);
		for (off = 0, err = 0; !err && off < s->msg_bytes; off += moved)
			err = ivshm_chan_read(ch, rx_buf + off, s->msg_bytes - off, &moved,
					      c->o->timeout_ms);
		if (err == -EPIPE && off == 0) {
			err = 0;
			break;
		}
		if (err)
			break;
		if (bench_seq_get(rx_buf) != n) {
			ivshm_msg_err("stream message %llu carries sequence number %llu",
				      (unsigned long long)n, (unsigned long long)bench_seq_get(rx_buf));
			err = -EBADMSG;
			break;
		}
		done->bytes += s->msg_bytes;
	}
	chan_stats(ch, &done->doorbells, &done->sleeps);
	ivshm_chan_close(ch);
	return err;
}

/* @s->batch messages of @s->msg_bytes in @buf, described in @msgs; NULL on ENOMEM. */
static struct ivshm_msg *batch_msgs(const struct bench_spec *s, char **buf)
{
	struct ivshm_msg *msgs = calloc(s->batch, sizeof(*msgs));
	uint32_t k;

	*buf = malloc((size_t)s->batch * s->msg_bytes);
	if (!msgs || !*buf) {
		free(msgs);
		free(*buf);
		*buf = NULL;
		return NULL;
	}
	memset(*buf, 0x5a, (size_t)s->batch * s->msg_bytes);
	for (k = 0; k < s->batch; k++)
		msgs[k] = (struct ivshm_msg){
			.buf = *buf + (size_t)k * s->msg_bytes, .size = s->msg_bytes,
			.len = s->msg_bytes,
		};
	return msgs;
}

int bench_chan_batch_client(struct bench_conn *c, const struct bench_spec *s,
			    struct bench_result *r, struct ivshm_bench_ctl *done)
{
	struct ivshm_chan *ch = NULL;
	struct ivshm_msg *msgs;
	uint64_t n = 0, t0, end;
	uint32_t off = s->batch, k;
	unsigned int sent;
	char *buf;
	int err;

	msgs = batch_msgs(s, &buf);
	err = msgs ? open_data(c, s, IVSHM_CHAN_PACKET, s->ring, &ch) : -ENOMEM;
	t0 = bench_ticks();
	end = t0 + bench_ns_ticks((int64_t)c->o->stream_ms * 1000000);
	while (!err && bench_ticks() < end) {
		bench_alive(c);
		/* What the last call left over goes first, with the numbers it already has. */
		if (off == s->batch) {
			for (k = 0; k < s->batch; k++)
				bench_seq_put(msgs[k].buf, n + k);
			off = 0;
		}
		err = ivshm_chan_send_batch(ch, msgs + off, s->batch - off, &sent,
					    c->o->timeout_ms);
		if (!err) {
			n += sent;
			off += sent;
		}
	}
	if (ch) {
		chan_stats(ch, &r->doorbells, &r->sleeps);
		ivshm_chan_close(ch);
	}
	free(msgs);
	free(buf);
	return bench_stream_done(c, s, done, r, n, t0, err);
}

int bench_chan_batch_server(struct bench_conn *c, const struct bench_spec *s,
			    struct ivshm_bench_ctl *done)
{
	struct ivshm_chan *ch = NULL;
	struct ivshm_msg *msgs;
	unsigned int got, k;
	uint64_t n = 0;
	char *buf;
	int err;

	msgs = batch_msgs(s, &buf);
	if (!msgs)
		return -ENOMEM;
	err = accept_data(c, s, IVSHM_CHAN_PACKET, SERVER_STREAM_RING, &ch);
	while (!err) {
		bench_alive(c);
		err = ivshm_chan_recv_batch(ch, msgs, s->batch, &got, c->o->timeout_ms);
		if (err == -EPIPE) {
			err = 0;
			break;
		}
		for (k = 0; !err && k < got; k++, n++) {
			if (msgs[k].len != s->msg_bytes || bench_seq_get(msgs[k].buf) != n) {
				ivshm_msg_err("batched message %llu: %zu bytes, sequence number %llu",
					      (unsigned long long)n, msgs[k].len,
					      (unsigned long long)bench_seq_get(msgs[k].buf));
				err = -EBADMSG;
			}
		}
		done->bytes += (uint64_t)k * s->msg_bytes;
	}
	if (ch) {
		chan_stats(ch, &done->doorbells, &done->sleeps);
		ivshm_chan_close(ch);
	}
	free(msgs);
	free(buf);
	return err;
}
