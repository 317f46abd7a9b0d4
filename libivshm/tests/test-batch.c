// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Many messages under one index store and at most one doorbell (batches,
 * zero-copy reserve/commit and peek/release), and readiness of many channels
 * from one device fd (ivshm_poll), between two peers (threads) over one
 * buffer with a ticking server page.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chan.h"
#include "clock.h"
#include "world.h"

#define SIZE ENV_SIZE
#define A_ID 1
#define B_ID 2


static const struct ivshm_chan_opts packet = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096 };
static const struct ivshm_chan_opts stream = { .type = IVSHM_CHAN_STREAM, .ring_size = 4096 };



static void connect_ab(struct env *w, const struct ivshm_chan_opts *o)
{
	world_connect(w->a, w->b, 7, o, o, &w->ca, &w->cb);
}

static uint64_t publishes(struct ivshm_chan *ch)
{
	struct ivshm_chan_stats st;

	assert_int_equal(ivshm_chan_get_stats(ch, &st), 0);
	return st.publishes;
}

static uint64_t doorbells(struct ivshm_chan *ch)
{
	struct ivshm_chan_stats st;

	assert_int_equal(ivshm_chan_get_stats(ch, &st), 0);
	return st.doorbells;
}

/* Forty small messages: one index store and one doorbell each way, whole and in order. */
static void a_batch_is_one_store_and_one_doorbell(void **state)
{
	struct env *w = *state;
	struct ivshm_msg out[40], in[64];
	uint32_t vals[40], got[64];
	uint64_t pa, pb, da, rung;
	unsigned int n, i;

	connect_ab(w, &packet);
	for (i = 0; i < 40; i++) {
		vals[i] = i * 7;
		out[i] = (struct ivshm_msg){ .buf = &vals[i], .len = sizeof(vals[i]) };
	}
	for (i = 0; i < 64; i++)
		in[i] = (struct ivshm_msg){ .buf = &got[i], .size = sizeof(got[i]) };
	/* B sleeps on its end, so the batch rings it: once. */
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 64, &n, 0), -EAGAIN);
	pa = publishes(w->ca);
	da = doorbells(w->ca);
	rung = mem_dev_rung(B_ID);
	assert_int_equal(ivshm_chan_send_batch(w->ca, out, 40, &n, 0), 0);
	assert_int_equal(n, 40);
	assert_int_equal(publishes(w->ca) - pa, 1);
	assert_int_equal(doorbells(w->ca) - da, 1);
	assert_int_equal(mem_dev_rung(B_ID) - rung, 1);
	pb = publishes(w->cb);
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 64, &n, 0), 0);
	assert_int_equal(n, 40);
	assert_int_equal(publishes(w->cb) - pb, 1);
	for (i = 0; i < 40; i++) {
		assert_int_equal(in[i].len, sizeof(uint32_t));
		assert_int_equal(got[i], i * 7);
	}
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 64, &n, 0), -EAGAIN);
}

/* A batch sends what fits, stops before a message above the maximum, refuses a first one. */
static void a_batch_stops_where_it_must(void **state)
{
	struct env *w = *state;
	static char big[4096], small[8];
	struct ivshm_msg out[3] = {
		{ .buf = small, .len = 8 }, { .buf = big, .len = 4000 }, { .buf = small, .len = 8 },
	}, in[4];
	unsigned int n = 99, i;
	char buf[4][2048];

	connect_ab(w, &packet);
	assert_int_equal(ivshm_chan_send_batch(w->ca, &out[1], 1, &n, 0), -EMSGSIZE);
	assert_int_equal(n, 0);
	assert_int_equal(ivshm_chan_send_batch(w->ca, out, 3, &n, 0), 0);
	assert_int_equal(n, 1);
	/* Fill the 4 KiB ring: four of 1000 bytes fit after the first 8, not a fifth. */
	out[1].len = 1000;
	for (i = 0; i < 4; i++)
		assert_int_equal(ivshm_chan_send_batch(w->ca, &out[1], 1, &n, 0), 0);
	assert_int_equal(ivshm_chan_send_batch(w->ca, &out[1], 1, &n, 0), -EAGAIN);
	/* A buffer too small for the first message: it stays, with the length it needs. */
	for (i = 0; i < 4; i++)
		in[i] = (struct ivshm_msg){ .buf = buf[i], .size = i == 1 ? 100 : sizeof(buf[i]) };
	in[0].size = 4;
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 4, &n, 0), -EMSGSIZE);
	assert_int_equal(in[0].len, 8);
	in[0].size = sizeof(buf[0]);
	/* ... and one too small later ends the batch before it. */
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 4, &n, 0), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ivshm_chan_recv_batch(w->cb, &in[2], 2, &n, 0), 0);
	assert_int_equal(n, 2);
	assert_int_equal(in[2].len, 1000);
	assert_int_equal(in[3].len, 1000);
}

/* Between batch_begin and batch_end nothing is visible; then all of it at once. */
static void zero_copy_under_one_batch(void **state)
{
	struct env *w = *state;
	const void *msg;
	char buf[64];
	size_t len;
	uint64_t pa;
	void *p;
	int i;

	connect_ab(w, &packet);
	pa = publishes(w->ca);
	assert_int_equal(ivshm_chan_batch_begin(w->ca), 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(ivshm_chan_reserve(w->ca, 16, &p, 0), 0);
		assert_int_equal(ivshm_chan_reserve(w->ca, 16, &p, 0), -EBUSY);
		memset(p, 'a' + i, 16);
		assert_int_equal(ivshm_chan_commit(w->ca, 16), 0);
	}
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), -EAGAIN);
	assert_int_equal(publishes(w->ca), pa);
	assert_int_equal(ivshm_chan_batch_end(w->ca), 0);
	assert_int_equal(publishes(w->ca) - pa, 1);
	/* Peeked in place; a second peek waits for the release, which takes the whole message. */
	assert_int_equal(ivshm_chan_batch_begin(w->cb), 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(ivshm_chan_peek(w->cb, &msg, &len, 0), 0);
		assert_int_equal(len, 16);
		assert_int_equal(((const char *)msg)[15], 'a' + i);
		assert_int_equal(ivshm_chan_peek(w->cb, &msg, &len, 0), -EBUSY);
		assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), -EBUSY);
		assert_int_equal(ivshm_chan_release(w->cb, 15), -EINVAL);
		assert_int_equal(ivshm_chan_release(w->cb, 16), 0);
	}
	assert_int_equal(ivshm_chan_release(w->cb, 16), -EINVAL);
	assert_int_equal(ivshm_chan_batch_end(w->cb), 0);
	assert_int_equal(ivshm_chan_peek(w->cb, &msg, &len, 0), -EAGAIN);
}

/* Stream peek: what is there up to the ring's end; release takes part of it. */
static void stream_peek_takes_part(void **state)
{
	struct env *w = *state;
	const void *msg;
	size_t len, done;

	connect_ab(w, &stream);
	assert_int_equal(ivshm_chan_write(w->ca, "hello world", 11, &done, 0), 0);
	assert_int_equal(ivshm_chan_peek(w->cb, &msg, &len, 0), 0);
	assert_int_equal(len, 11);
	assert_int_equal(ivshm_chan_release(w->cb, 12), -EINVAL);
	assert_int_equal(ivshm_chan_release(w->cb, 6), 0);
	assert_int_equal(ivshm_chan_peek(w->cb, &msg, &len, 0), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(msg, "world", 5);
	assert_int_equal(ivshm_chan_release(w->cb, 5), 0);
}

struct reader {
	struct ivshm_chan *ch;
	int count, err;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	char buf[64];
	size_t len;

	while (r->count < 500 && !(r->err = ivshm_chan_recv(r->ch, buf, sizeof(buf), &len, 3000)))
		r->count++;
	return NULL;
}

/* A batch that must wait for room publishes first: the two ends never wait for each other. */
static void a_waiting_batch_publishes_first(void **state)
{
	struct env *w = *state;
	struct reader r = { 0 };
	pthread_t t;
	int i;

	connect_ab(w, &packet);
	r.ch = w->cb;
	assert_int_equal(pthread_create(&t, NULL, read_all, &r), 0);
	assert_int_equal(ivshm_chan_batch_begin(w->ca), 0);
	for (i = 0; i < 500; i++)
		assert_int_equal(ivshm_chan_send(w->ca, "0123456789abcdef0123456789", 26, 3000), 0);
	assert_int_equal(ivshm_chan_batch_end(w->ca), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.count, 500);
}

/*
 * The records a batch moves after its first message look at the peer's index
 * only when the room or the records they know of run out: the tests below hold
 * them to what single calls do (pads at the ring's end, the room a full ring
 * leaves, a buffer too small, a broken record in the middle, the statistics).
 */
/* Messages of the wrap test: about 500 times around a 4 KiB ring. */
#define TOTAL 20000u
#define BATCH 20u
#define MAX_LEN 200u

/* Message @i of the wrap test: its length, and its bytes (its number, then a fill). */
static size_t msg_len(uint64_t i)
{
	return 8 + (size_t)(i * 37 % (MAX_LEN - 8));
}

static void msg_fill(uint64_t i, unsigned char *buf)
{
	memcpy(buf, &i, sizeof(i));
	memset(buf + sizeof(i), (int)(i & 0xff), msg_len(i) - sizeof(i));
}

struct batch_reader {
	struct ivshm_chan *ch;
	uint64_t got, bytes, bad;
	int err;
};

/* B: batches of up to 16 until TOTAL came, each checked against what A sent. */
static void *read_batches(void *arg)
{
	static unsigned char bufs[16][MAX_LEN], want[MAX_LEN];
	struct batch_reader *rd = arg;
	struct ivshm_msg in[16];
	unsigned int n, k;

	for (k = 0; k < 16; k++)
		in[k] = (struct ivshm_msg){ .buf = bufs[k], .size = MAX_LEN };
	while (rd->got < TOTAL) {
		rd->err = ivshm_chan_recv_batch(rd->ch, in, 16, &n, 5000);
		if (rd->err)
			return NULL;
		for (k = 0; k < n; k++, rd->got++) {
			msg_fill(rd->got, want);
			if (in[k].len != msg_len(rd->got) || memcmp(bufs[k], want, in[k].len))
				rd->bad++;
			rd->bytes += in[k].len;
		}
	}
	return NULL;
}

/*
 * Batches of messages of many sizes, about 500 times around the ring: every
 * batch that crosses the ring's end pads in its middle, every batch finds the
 * ring full or empty at times; all arrive whole and in order, and the
 * statistics count every message and byte of every batch.
 */
static void batches_go_around_the_ring(void **state)
{
	static unsigned char bufs[BATCH][MAX_LEN];
	struct env *w = *state;
	struct batch_reader rd = { 0 };
	struct ivshm_chan_stats sa, sb;
	struct ivshm_msg out[BATCH];
	uint64_t next = 0, bytes = 0;
	unsigned int n, k, off = BATCH;
	pthread_t t;

	connect_ab(w, &packet);
	rd.ch = w->cb;
	assert_int_equal(pthread_create(&t, NULL, read_batches, &rd), 0);
	while (next < TOTAL) {
		/* What the last call left over goes first. */
		if (off == BATCH) {
			for (k = 0; k < BATCH; k++) {
				msg_fill(next + k, bufs[k]);
				out[k] = (struct ivshm_msg){ .buf = bufs[k], .len = msg_len(next + k) };
			}
			off = 0;
		}
		n = 0;
		assert_int_equal(ivshm_chan_send_batch(w->ca, out + off, BATCH - off, &n, 5000), 0);
		assert_true(n >= 1 && n <= BATCH - off);
		for (k = 0; k < n; k++)
			bytes += out[off + k].len;
		next += n;
		off += n;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(rd.err, 0);
	assert_int_equal(rd.bad, 0);
	assert_int_equal(rd.got, next);
	assert_int_equal(rd.bytes, bytes);
	assert_int_equal(ivshm_chan_get_stats(w->ca, &sa), 0);
	assert_int_equal(ivshm_chan_get_stats(w->cb, &sb), 0);
	assert_int_equal(sa.sent, next);
	assert_int_equal(sa.bytes_sent, bytes);
	assert_int_equal(sb.received, next);
	assert_int_equal(sb.bytes_received, bytes);
}

/*
 * Into an empty 4 KiB ring nobody reads, a batch of 100 messages of 64 bytes
 * (72 with the header) sends the 56 that fit, and not one more; the reader
 * gets exactly those, and then the next batch goes into the room it made.
 */
static void a_batch_fills_the_ring_exactly(void **state)
{
	static unsigned char bufs[100][64], rbuf[100][64];
	struct env *w = *state;
	struct ivshm_msg out[100], in[100];
	unsigned int n, k;

	connect_ab(w, &packet);
	for (k = 0; k < 100; k++) {
		memset(bufs[k], (int)k, sizeof(bufs[k]));
		out[k] = (struct ivshm_msg){ .buf = bufs[k], .len = sizeof(bufs[k]) };
		in[k] = (struct ivshm_msg){ .buf = rbuf[k], .size = sizeof(rbuf[k]) };
	}
	assert_int_equal(ivshm_chan_send_batch(w->ca, out, 100, &n, 1000), 0);
	assert_int_equal(n, 4096 / 72);
	assert_int_equal(ivshm_chan_send_batch(w->ca, out + n, 100 - n, &k, 0), -EAGAIN);
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 100, &k, 1000), 0);
	assert_int_equal(k, n);
	for (k = 0; k < n; k++) {
		assert_int_equal(in[k].len, 64);
		assert_memory_equal(rbuf[k], bufs[k], 64);
	}
	assert_int_equal(ivshm_chan_send_batch(w->ca, out + n, 100 - n, &k, 1000), 0);
	assert_int_equal(k, 100 - n);
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 100, &k, 1000), 0);
	assert_int_equal(k, 100 - n);
	assert_int_equal(in[0].len, 64);
	assert_memory_equal(rbuf[0], bufs[n], 64);
}

/*
 * A message too big for its buffer in the middle of a received batch ends
 * the batch there: its len says what it needs, and it stays queued for the
 * next call.
 */
static void a_small_buffer_ends_the_batch(void **state)
{
	static const size_t lens[5] = { 8, 16, 100, 8, 8 };
	unsigned char out_bufs[5][100], in_bufs[5][100];
	struct env *w = *state;
	struct ivshm_msg out[5], in[5];
	unsigned int n, k;

	connect_ab(w, &packet);
	for (k = 0; k < 5; k++) {
		memset(out_bufs[k], 'a' + (int)k, sizeof(out_bufs[k]));
		out[k] = (struct ivshm_msg){ .buf = out_bufs[k], .len = lens[k] };
		in[k] = (struct ivshm_msg){ .buf = in_bufs[k], .size = 16 };
	}
	assert_int_equal(ivshm_chan_send_batch(w->ca, out, 5, &n, 1000), 0);
	assert_int_equal(n, 5);
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 5, &n, 1000), 0);
	assert_int_equal(n, 2);
	assert_int_equal(in[1].len, 16);
	assert_memory_equal(in_bufs[1], out_bufs[1], 16);
	assert_int_equal(in[2].len, 100);
	in[0].size = 100;
	assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 5, &n, 1000), 0);
	assert_int_equal(n, 3);
	assert_int_equal(in[0].len, 100);
	assert_memory_equal(in_bufs[0], out_bufs[2], 100);
	assert_memory_equal(in_bufs[2], out_bufs[4], 8);
}

/* Breaks the header of A's second record of three (@how: 0 unknown flags, 1 too long). */
static void break_second_record(struct env *w, int how)
{
	unsigned char bufs[3][24] = { { 1 }, { 2 }, { 3 } };
	struct ivshm_msg out[3];
	struct ivshm_shm_rec h;
	unsigned int n, k;
	char *at;

	connect_ab(w, &packet);
	for (k = 0; k < 3; k++)
		out[k] = (struct ivshm_msg){ .buf = bufs[k], .len = sizeof(bufs[k]) };
	assert_int_equal(ivshm_chan_send_batch(w->ca, out, 3, &n, 1000), 0);
	assert_int_equal(n, 3);
	at = w->ca->tx + ivshm__rec_span(sizeof(bufs[0]));
	memcpy(&h, at, sizeof(h));
	assert_int_equal(h.len, sizeof(bufs[1]));
	if (how == 0)
		h.flags = 0x80;
	else
		h.len = 3 * sizeof(bufs[1]);
	memcpy(at, &h, sizeof(h));
}

/*
 * A broken record behind a good one: the batch takes the good one, then the
 * channel is broken for good (-EPROTO), as a single recv of it would leave it.
 */
static void a_broken_record_in_a_batch_breaks_the_channel(void **state)
{
	struct env *w = *state;
	unsigned char bufs[3][64];
	struct ivshm_msg in[3];
	unsigned int n, k, how;
	size_t len;

	for (how = 0; how < 2; how++) {
		break_second_record(w, how);
		for (k = 0; k < 3; k++)
			in[k] = (struct ivshm_msg){ .buf = bufs[k], .size = sizeof(bufs[k]) };
		assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 3, &n, 1000), 0);
		assert_int_equal(n, 1);
		assert_int_equal(bufs[0][0], 1);
		/* Broken at once, for sends too: not only once the next recv trips on it. */
		assert_int_equal(ivshm_chan_send(w->cb, bufs[1], 8, 0), -EPROTO);
		assert_int_equal(ivshm_chan_recv(w->cb, bufs[0], sizeof(bufs[0]), &len, 0), -EPROTO);
		assert_int_equal(ivshm_chan_recv_batch(w->cb, in, 3, &n, 0), -EPROTO);
		ivshm_chan_close(w->ca);
		ivshm_chan_close(w->cb);
		w->ca = w->cb = NULL;
	}
}

/* ivshm_poll: which channels can go on, among those that asked; the rest ask the peer to ring. */
static void poll_reports_what_each_asked(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_event ev[4];
	unsigned int n;
	int tag_a, tag_b;
	char buf[64];
	size_t len;
	uint64_t rung;
	int fd;

	connect_ab(w, &packet);
	assert_int_equal(ivshm_chan_set_events(w->cb, IVSHM_CHAN_IN, &tag_b), 0);
	assert_int_equal(ivshm_chan_set_events(w->cb, 8, &tag_b), -EINVAL);
	/* Nothing to read: nothing reported, and B's end now asks A to ring. */
	assert_int_equal(ivshm_poll(w->b, ev, 4, &n), 0);
	assert_int_equal(n, 0);
	rung = mem_dev_rung(B_ID);
	assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), 0);
	assert_int_equal(mem_dev_rung(B_ID) - rung, 1);
	assert_int_equal(ivshm_poll(w->b, ev, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(ev[0].ch, w->cb);
	assert_ptr_equal(ev[0].data, &tag_b);
	assert_int_equal(ev[0].events, IVSHM_CHAN_IN);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
	/* A asks for room: there is, at once. */
	assert_int_equal(ivshm_chan_set_events(w->ca, IVSHM_CHAN_OUT, &tag_a), 0);
	assert_int_equal(ivshm_poll(w->a, ev, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].events, IVSHM_CHAN_OUT);
	assert_ptr_equal(ev[0].data, &tag_a);
	/* The peer closes: the reader is told to read (and gets the end). */
	ivshm_chan_close(w->ca);
	w->ca = NULL;
	assert_int_equal(ivshm_poll(w->b, ev, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_true(ev[0].events & IVSHM_CHAN_IN);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), -EPIPE);
	assert_int_equal(ivshm_get_fd(w->b, &fd), -ENOTSUP);
}

/* More channels ready than room for events: each turn starts further on, none starves. */
static void poll_lets_no_channel_starve(void **state)
{
	struct env *w = *state;
	struct ivshm_chan *ca[3], *cb[3];
	struct ivshm_chan_event ev;
	unsigned int n, seen = 0;
	int i;

	for (i = 0; i < 3; i++) {
		world_connect(w->a, w->b, 7, &packet, &packet, &ca[i], &cb[i]);
		assert_int_equal(ivshm_chan_set_events(cb[i], IVSHM_CHAN_IN, cb[i]), 0);
		assert_int_equal(ivshm_chan_send(ca[i], "x", 1, 0), 0);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(ivshm_poll(w->b, &ev, 1, &n), 0);
		assert_int_equal(n, 1);
		for (int k = 0; k < 3; k++)
			if (ev.ch == cb[k])
				seen |= 1u << k;
	}
	assert_int_equal(seen, 7);
	for (i = 0; i < 3; i++) {
		ivshm_chan_close(ca[i]);
		ivshm_chan_close(cb[i]);
	}
}


static const struct ivshm_chan_opts nonblock = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096,
						 .flags = IVSHM_CHAN_NONBLOCK };

/* An open that does not wait: in progress, then ivshm_poll says when it is connected. */
static void an_open_that_does_not_wait(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_event ev[2];
	struct ivshm_chan_opts bad = nonblock;
	char buf[16];
	unsigned int n;
	size_t len;
	int tag;

	bad.flags = 2;
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &bad, 0, &w->ca), -EINVAL);
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &nonblock, 0, &w->ca), -EINPROGRESS);
	assert_non_null(w->ca);
	assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), -EAGAIN);
	assert_int_equal(ivshm_chan_set_events(w->ca, IVSHM_CHAN_OUT, &tag), 0);
	assert_int_equal(ivshm_poll(w->a, ev, 2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ivshm_chan_accept(w->b, 7, &packet, 1000, &w->cb), 0);
	assert_int_equal(ivshm_poll(w->a, ev, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(ev[0].ch, w->ca);
	assert_int_equal(ev[0].events, IVSHM_CHAN_OUT);
	assert_int_equal(ivshm_chan_send(w->ca, "hi", 3, 0), 0);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 1000), 0);
	assert_string_equal(buf, "hi");
}

/* Without waiting too: nobody there fails at once, a peer that dies shows as an error. */
static void a_nonblocking_open_fails_as_the_blocking_one(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_event ev;
	struct ivshm_chan *ch = NULL;
	unsigned int n;

	assert_int_equal(ivshm_chan_open(w->a, 77, 7, &nonblock, 0, &ch), -EHOSTUNREACH);
	assert_null(ch);
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &nonblock, 0, &ch), -EINPROGRESS);
	assert_int_equal(ivshm_chan_set_events(ch, IVSHM_CHAN_OUT, NULL), 0);
	mem_server_set(B_ID, false);
	assert_int_equal(ivshm_poll(w->a, &ev, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ev.events, IVSHM_CHAN_ERR);
	assert_int_equal(ivshm_chan_send(ch, "x", 1, 0), -EHOSTDOWN);
	ivshm_chan_close(ch);
}

/* A listened port: ivshm_poll says a peer asks, and the accept that follows does not wait. */
static void poll_says_when_a_peer_asks(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_event ev[2];
	unsigned int n;
	int tag;

	assert_int_equal(ivshm_listen(w->b, 9, &tag), 0);
	assert_int_equal(ivshm_poll(w->b, ev, 2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 8, &nonblock, 0, &w->ca), -EINPROGRESS);
	/* A request on another port is not for the listener. */
	assert_int_equal(ivshm_poll(w->b, ev, 2, &n), 0);
	assert_int_equal(n, 0);
	ivshm_chan_close(w->ca);
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 9, &nonblock, 0, &w->ca), -EINPROGRESS);
	assert_int_equal(ivshm_poll(w->b, ev, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_null(ev[0].ch);
	assert_ptr_equal(ev[0].data, &tag);
	assert_int_equal(ev[0].events, IVSHM_CHAN_ACCEPT);
	assert_int_equal(ivshm_chan_accept(w->b, 9, &packet, 0, &w->cb), 0);
	/* Answered: not reported again. */
	assert_int_equal(ivshm_poll(w->b, ev, 2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ivshm_unlisten(w->b, 9), 0);
	assert_int_equal(ivshm_unlisten(w->b, 9), -ENOENT);
}

static void next_timeout_is_the_heartbeat(void **state)
{
	struct env *w = *state;
	int ms;

	assert_int_equal(ivshm_next_timeout(w->a, &ms), 0);
	assert_true(ms >= 0 && ms <= 250);
	assert_int_equal(ivshm_unpublish(w->a), 0);
	assert_int_equal(ivshm_next_timeout(w->a, &ms), 0);
	assert_int_equal(ms, -1);
	assert_int_equal(ivshm_next_timeout(NULL, &ms), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_batch_is_one_store_and_one_doorbell),
		T(a_batch_stops_where_it_must),
		T(zero_copy_under_one_batch),
		T(stream_peek_takes_part),
		T(a_waiting_batch_publishes_first),
		T(batches_go_around_the_ring),
		T(a_batch_fills_the_ring_exactly),
		T(a_small_buffer_ends_the_batch),
		T(a_broken_record_in_a_batch_breaks_the_channel),
		T(poll_reports_what_each_asked),
		T(poll_lets_no_channel_starve),
		T(an_open_that_does_not_wait),
		T(a_nonblocking_open_fails_as_the_blocking_one),
		T(poll_says_when_a_peer_asks),
		T(next_timeout_is_the_heartbeat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
