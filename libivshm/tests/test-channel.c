// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Channels between two peers (threads, each with its own handle) over one
 * buffer: the calls, back-pressure, index wrap, notification suppression, the
 * ends of a channel, and a peer that lies in its half or its entry.
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

#include "barrier.h"
#include "chan.h"
#include "clock.h"
#include "world.h"

#define SIZE ENV_SIZE
#define PORT 7
#define A_ID 1
#define B_ID 2


/*
 * Start both rings of @ch's end at @base, as if that many bytes had gone each
 * way (both ends, before any traffic): the index wrap without moving 4 GiB.
 */
static void rebase(struct ivshm_chan *ch, uint32_t base)
{
	ch->prod = ch->cons = ch->prod_pub = ch->cons_pub = base;
	ch->seen_prod = ch->seen_cons = ch->checked_prod = ch->checked_cons = base;
	ivshm_store_release(&ch->half->prod, base);
	ivshm_store_release(&ch->half->cons, base);
}

static struct ivshm_chan_opts packet = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096 };
static struct ivshm_chan_opts stream = { .type = IVSHM_CHAN_STREAM, .ring_size = 4096 };



/* A opens towards B, B accepts: both ends connected. */
static void connect_ab(struct env *w, const struct ivshm_chan_opts *oa,
		       const struct ivshm_chan_opts *ob)
{
	world_connect(w->a, w->b, PORT, oa, ob, &w->ca, &w->cb);
}

static void open_and_accept_meet(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_info ia, ib;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_get_info(w->ca, &ia), 0);
	assert_int_equal(ivshm_chan_get_info(w->cb, &ib), 0);
	assert_int_equal(ia.peer, B_ID);
	assert_int_equal(ib.peer, A_ID);
	assert_int_equal(ia.port, PORT);
	assert_int_equal(ia.max_send, 4096 / 2 - 8);
	assert_int_equal(ib.max_recv, ia.max_send);
}

static void messages_arrive_whole_and_in_order(void **state)
{
	struct env *w = *state;
	char buf[2048];
	size_t len;
	int i;

	connect_ab(w, &packet, &packet);
	for (i = 0; i < 1000; i++) {
		memset(buf, i & 0xff, (size_t)(i % 300) + 1);
		assert_int_equal(ivshm_chan_send(w->ca, buf, (size_t)(i % 300) + 1, 1000), 0);
		memset(buf, 0, sizeof(buf));
		assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 1000), 0);
		assert_int_equal(len, (size_t)(i % 300) + 1);
		assert_int_equal((unsigned char)buf[0], i & 0xff);
		assert_int_equal((unsigned char)buf[len - 1], i & 0xff);
	}
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), -EAGAIN);
	/* And back: each end sends on its own ring. */
	assert_int_equal(ivshm_chan_send(w->cb, "pong", 4, 0), 0);
	assert_int_equal(ivshm_chan_recv(w->ca, buf, sizeof(buf), &len, 0), 0);
	assert_memory_equal(buf, "pong", 4);
}

static void too_big_and_too_small(void **state)
{
	struct env *w = *state;
	char big[4096], small[8];
	size_t len = 0;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_send(w->ca, big, 2048 - 7, 0), -EMSGSIZE);
	assert_int_equal(ivshm_chan_send(w->ca, big, 100, 0), 0);
	assert_int_equal(ivshm_chan_recv(w->cb, small, sizeof(small), &len, 0), -EMSGSIZE);
	assert_int_equal(len, 100);
	/* The message stays for a big enough buffer. */
	assert_int_equal(ivshm_chan_recv(w->cb, big, sizeof(big), &len, 0), 0);
	assert_int_equal(len, 100);
}

/* A full ring pushes back; nothing is lost and the order holds across pads and the wrap. */
static void back_pressure_keeps_everything_in_order(void **state)
{
	struct env *w = *state;
	uint32_t next_out = 0, next_in = 0, v;
	char buf[512];
	size_t len;
	int err, blocked = 0;

	connect_ab(w, &packet, &packet);
	/* Start just below 2^32 so the indices wrap on the way. */
	rebase(w->ca, (UINT32_MAX - 3000) & ~7u);
	rebase(w->cb, (UINT32_MAX - 3000) & ~7u);
	while (next_in < 5000) {
		for (;;) {
			memset(buf, 0, sizeof(buf));
			memcpy(buf, &next_out, sizeof(next_out));
			err = ivshm_chan_send(w->ca, buf, 100 + next_out % 400, 0);
			if (err == -EAGAIN) {
				blocked++;
				break;
			}
			assert_int_equal(err, 0);
			next_out++;
		}
		/* A slow reader: half of what is queued. */
		do {
			assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
			memcpy(&v, buf, sizeof(v));
			assert_int_equal(v, next_in);
			assert_int_equal(len, 100 + next_in % 400);
			next_in++;
		} while (next_in < next_out - (next_out - next_in) / 2);
	}
	assert_true(blocked > 100);
}

static void stream_moves_what_fits(void **state)
{
	struct env *w = *state;
	static char out[10000], in[10000];
	size_t done, got = 0, sent = 0;
	int i;

	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (char)(i * 7);
	connect_ab(w, &stream, &stream);
	rebase(w->ca, UINT32_MAX - 100);
	rebase(w->cb, UINT32_MAX - 100);
	assert_int_equal(ivshm_chan_write(w->ca, out, sizeof(out), &done, 0), 0);
	assert_int_equal(done, 4096);
	sent = done;
	assert_int_equal(ivshm_chan_write(w->ca, out + sent, 1, &done, 0), -EAGAIN);
	while (got < sizeof(in)) {
		assert_int_equal(ivshm_chan_read(w->cb, in + got, 1000, &done, 0), 0);
		got += done;
		if (sent < sizeof(out)) {
			assert_int_equal(ivshm_chan_write(w->ca, out + sent, sizeof(out) - sent, &done, 0),
					 0);
			sent += done;
		}
	}
	assert_memory_equal(in, out, sizeof(out));
	/* A packet call on a stream channel, and the reverse, are refused. */
	assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), -EINVAL);
}

static char *ring_of_a(struct env *w)
{
	struct ivshm_region *r = &w->a->region;

	return ivshm__arena_at(r, (unsigned int)r->slot) + r->ends[0].half_off +
	       sizeof(struct ivshm_shm_half);
}

static void reserve_then_commit_in_place(void **state)
{
	struct env *w = *state;
	char buf[2048];
	size_t len;
	void *p;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_reserve(w->ca, 1500, &p, 0), 0);
	assert_int_equal(ivshm_chan_reserve(w->ca, 10, &p, 0), -EBUSY);
	assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), -EBUSY);
	memset(p, 'z', 1000);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), -EAGAIN);
	assert_int_equal(ivshm_chan_commit(w->ca, 1001), 0);
	assert_int_equal(ivshm_chan_commit(w->ca, 1), -EINVAL);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
	assert_int_equal(len, 1001);
	assert_int_equal(buf[999], 'z');
	/* Twice more: the second reservation cannot fit before the end and starts after a pad. */
	assert_int_equal(ivshm_chan_reserve(w->ca, 1500, &p, 0), 0);
	assert_int_equal(ivshm_chan_commit(w->ca, 1500), 0);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
	/* 2524 bytes used so far: 2008 do not fit before the end, so they start at 0 after a pad. */
	assert_int_equal(ivshm_chan_reserve(w->ca, 2000, &p, 0), 0);
	assert_ptr_equal(p, ring_of_a(w) + sizeof(struct ivshm_shm_rec));
	memcpy(p, "wrapped", 8);
	assert_int_equal(ivshm_chan_commit(w->ca, 8), 0);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
	assert_string_equal(buf, "wrapped");
}

/* A reader that never sleeps is never rung; one that sleeps is rung once per sleep. */
static void doorbells_only_for_a_sleeping_peer(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_stats st;
	uint64_t before;
	char buf[64];
	size_t len;
	int i;

	connect_ab(w, &packet, &packet);
	before = mem_dev_rung(B_ID);
	for (i = 0; i < 20; i++)
		assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
	assert_int_equal(mem_dev_rung(B_ID), before);
	/* B finds nothing and (interrupt mode) asks to be rung: one doorbell for 20 messages. */
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), -EAGAIN);
	for (i = 0; i < 20; i++)
		assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), 0);
	assert_int_equal(mem_dev_rung(B_ID), before + 1);
	assert_int_equal(ivshm_chan_get_stats(w->ca, &st), 0);
	assert_int_equal(st.sent, 40);
	/* In poll mode a reader never asks. */
	for (i = 0; i < 20; i++)
		assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
	assert_int_equal(ivshm_chan_set_wait(w->cb, IVSHM_WAIT_POLL, 0), 0);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), -EAGAIN);
	assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), 0);
	assert_int_equal(mem_dev_rung(B_ID), before + 1);
}

struct sleeper {
	struct ivshm_chan *ch;
	int err;
	size_t len;
	char buf[64];
};

static void *sleep_recv(void *arg)
{
	struct sleeper *s = arg;

	s->err = ivshm_chan_recv(s->ch, s->buf, sizeof(s->buf), &s->len, 5000);
	return NULL;
}

/* A blocked reader wakes on the doorbell, in every wait mode. */
static void a_blocked_reader_wakes(void **state)
{
	static const enum ivshm_wait_mode modes[] = { IVSHM_WAIT_INTERRUPT, IVSHM_WAIT_POLL,
						      IVSHM_WAIT_HYBRID };
	struct env *w = *state;
	struct sleeper s;
	pthread_t t;
	size_t m;

	connect_ab(w, &packet, &packet);
	for (m = 0; m < 3; m++) {
		memset(&s, 0, sizeof(s));
		s.ch = w->cb;
		assert_int_equal(ivshm_chan_set_wait(w->cb, modes[m], 20), 0);
		assert_int_equal(pthread_create(&t, NULL, sleep_recv, &s), 0);
		ivshm_clock_sleep_ms(30);
		assert_int_equal(ivshm_chan_send(w->ca, "wake", 5, 1000), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(s.err, 0);
		assert_string_equal(s.buf, "wake");
	}
}

struct busy {
	struct ivshm_chan *ch;
	int64_t until_ms;
	int err;
};

/* Sends without ever waiting: a spinning producer calls nothing that sleeps. */
static void *busy_send(void *arg)
{
	struct busy *b = arg;
	int err;

	while (ivshm_clock_ms() < b->until_ms) {
		err = ivshm_chan_send(b->ch, "busy", 4, 0);
		if (err && err != -EAGAIN) {
			b->err = err;
			break;
		}
	}
	return NULL;
}

/* Longer than a heartbeat's silence: a busy peer must not be taken for dead. */
static void a_busy_peer_is_alive(void **state)
{
	struct env *w = *state;
	struct busy b = { .until_ms = ivshm_clock_ms() + 1600 };
	char buf[64];
	size_t len;
	pthread_t t;
	int err;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_set_wait(w->cb, IVSHM_WAIT_POLL, 0), 0);
	b.ch = w->ca;
	assert_int_equal(pthread_create(&t, NULL, busy_send, &b), 0);
	do {
		err = ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0);
		assert_true(err == 0 || err == -EAGAIN);
	} while (ivshm_clock_ms() < b.until_ms);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(b.err, 0);
}

static void close_drains_then_ends(void **state)
{
	struct env *w = *state;
	char buf[64];
	size_t len;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_send(w->ca, "last", 5, 0), 0);
	ivshm_chan_close(w->ca);
	w->ca = NULL;
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 1000), 0);
	assert_string_equal(buf, "last");
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 1000), -EPIPE);
	assert_int_equal(ivshm_chan_send(w->cb, "x", 1, 1000), -EPIPE);
}

static void a_departed_peer_ends_a_blocked_call(void **state)
{
	struct env *w = *state;
	int64_t t0;
	char buf[64];
	size_t len;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_unpublish(w->a), 0);
	t0 = ivshm_clock_ms();
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 5000), -EPIPE);
	assert_true(ivshm_clock_ms() - t0 < 1000);
}

static void types_must_agree(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_opts nb = packet;
	struct ivshm_chan *ch = NULL;

	/* A asks for a packet channel without waiting. */
	nb.flags = IVSHM_CHAN_NONBLOCK;
	assert_int_equal(ivshm_chan_open(w->a, B_ID, PORT, &nb, 0, &w->ca), -EINPROGRESS);
	/* B accepts streams only: A's packet request is not for it. */
	assert_int_equal(ivshm_chan_accept(w->b, PORT, &stream, 200, &ch), -ETIMEDOUT);
	/* B opens a stream towards A, which offers a packet channel: a clear refusal. */
	assert_int_equal(ivshm_chan_open(w->b, A_ID, PORT, &stream, 1000, &ch), -EPROTOTYPE);
	assert_null(ch);
	/* B's end is gone with its refusal: A's request waits on, for a packet channel. */
	assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), -EAGAIN);
}

static void bad_arguments_and_unpublished_peers(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_opts bad = packet;
	struct ivshm_chan *ch = NULL;

	assert_int_equal(ivshm_chan_open(w->a, A_ID, PORT, NULL, 0, &ch), -EINVAL);
	bad.ring_size = 5000;
	assert_int_equal(ivshm_chan_open(w->a, B_ID, PORT, &bad, 0, &ch), -EINVAL);
	bad.ring_size = 4096;
	bad.max_msg = 4096;
	assert_int_equal(ivshm_chan_open(w->a, B_ID, PORT, &bad, 0, &ch), -EINVAL);
	bad = packet;
	bad.vector = 2;
	assert_int_equal(ivshm_chan_open(w->a, B_ID, PORT, &bad, 0, &ch), -EINVAL);
	assert_int_equal(ivshm_unpublish(w->a), 0);
	assert_int_equal(ivshm_chan_open(w->a, B_ID, PORT, NULL, 0, &ch), -ENOTCONN);
	assert_int_equal(ivshm_chan_send(NULL, "x", 1, 0), -EINVAL);
	assert_null(ch);
}

/* The peer's half as a hostile writer sees it: B's, reached through B's table. */
static struct ivshm_shm_half *half_of_b(struct env *w)
{
	struct ivshm_region *r = &w->b->region;

	return (struct ivshm_shm_half *)(ivshm__arena_at(r, (unsigned int)r->slot) +
					 r->ends[0].half_off);
}

static void expect_broken(struct ivshm_chan *ch, int send)
{
	char buf[4096];
	size_t len;

	if (send)
		assert_int_equal(ivshm_chan_send(ch, "x", 1, 0), -EPROTO);
	else
		assert_int_equal(ivshm_chan_recv(ch, buf, sizeof(buf), &len, 0), -EPROTO);
	/* For good. */
	assert_int_equal(ivshm_chan_recv(ch, buf, sizeof(buf), &len, 0), -EPROTO);
	assert_int_equal(ivshm_chan_send(ch, "x", 1, 0), -EPROTO);
}

static void lying_indices_break_the_channel(void **state)
{
	struct env *w = *state;
	struct ivshm_shm_half *h;

	connect_ab(w, &packet, &packet);
	h = half_of_b(w);
	/* B claims more than its ring holds. */
	h->prod = 4096 + 8;
	expect_broken(w->ca, 0);
}

static void a_consumer_running_backwards_breaks_the_channel(void **state)
{
	struct env *w = *state;
	char buf[64];
	size_t len;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), 0);
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
	assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), 0);
	/* B un-consumes: its consumer index goes back. */
	half_of_b(w)->cons -= 8;
	expect_broken(w->ca, 1);
}

static void a_bad_record_breaks_the_channel(void **state)
{
	struct env *w = *state;
	struct ivshm_shm_half *h;
	struct ivshm_shm_rec *rec;

	connect_ab(w, &packet, &packet);
	h = half_of_b(w);
	rec = (struct ivshm_shm_rec *)(h + 1);
	/* A record longer than B's maximum message, properly published. */
	rec->len = 3000;
	h->prod = 3008;
	expect_broken(w->ca, 0);
}

static void a_rewritten_entry_breaks_the_channel(void **state)
{
	struct env *w = *state;
	struct ivshm_region *r = &w->b->region;
	struct ivshm_shm_chan *e;
	char buf[64];
	size_t len;

	connect_ab(w, &packet, &packet);
	e = (struct ivshm_shm_chan *)(ivshm__arena_at(r, (unsigned int)r->slot) + IVSHM_SHM_CHAN_OFF);
	/* B moves its ring after A connected: A keeps its copy and calls it broken. */
	e->seq += 2;
	e->half_off += 4096;
	ivshm_clock_sleep_ms(60);
	assert_int_equal(ivshm_chan_recv(w->ca, buf, sizeof(buf), &len, 0), -EPROTO);
}

static void a_restarted_peer_resets_the_channel(void **state)
{
	struct env *w = *state;
	char buf[64];
	size_t len;

	connect_ab(w, &packet, &packet);
	/* B's process is replaced: same ID, new incarnation, without leaving first. */
	ivshm_chan_close(w->cb);
	w->cb = NULL;
	w->b->region.published = 0;
	w->b->region.slot = -1;
	assert_int_equal(ivshm_publish(w->b, "b", 0, 0), 0);
	assert_int_equal(ivshm_chan_recv(w->ca, buf, sizeof(buf), &len, 1000), -ECONNRESET);
}


/* A producer index that runs backwards is a lie, even within the ring. */
static void a_producer_running_backwards_breaks_the_channel(void **state)
{
	struct env *w = *state;
	char buf[64];
	size_t len;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_send(w->cb, "x", 1, 0), 0);
	assert_int_equal(ivshm_chan_send(w->cb, "y", 1, 0), 0);
	assert_int_equal(ivshm_chan_recv(w->ca, buf, sizeof(buf), &len, 0), 0);
	/* B takes back what A has already seen published. */
	half_of_b(w)->prod -= 16;
	expect_broken(w->ca, 0);
}

/* Published bytes that are not whole records are a lie. */
static void bytes_that_are_not_whole_records_break_the_channel(void **state)
{
	struct env *w = *state;
	struct ivshm_shm_half *h;

	connect_ab(w, &packet, &packet);
	h = half_of_b(w);
	/* A whole record of 4 bytes, then 4 bytes of nothing: refused before the record. */
	((struct ivshm_shm_rec *)(h + 1))->len = 4;
	h->prod = 20;
	expect_broken(w->ca, 0);
}

/* What a batch held back goes out at the close, before the end. */
static void close_sends_what_a_batch_held(void **state)
{
	struct env *w = *state;
	char buf[64];
	size_t len;
	int i;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_batch_begin(w->ca), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(ivshm_chan_send(w->ca, &i, sizeof(i), 0), 0);
	ivshm_chan_close(w->ca);
	w->ca = NULL;
	for (i = 0; i < 5; i++) {
		assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 1000), 0);
		assert_memory_equal(buf, &i, sizeof(i));
	}
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 1000), -EPIPE);
}

struct drainer {
	struct ivshm_chan *ch;
	int got, err;
};

static void *drain(void *arg)
{
	struct drainer *d = arg;
	char buf[64];
	size_t len;

	while (!(d->err = ivshm_chan_recv(d->ch, buf, sizeof(buf), &len, 5000)))
		d->got++;
	return NULL;
}

/* A reader asleep when the peer sends and closes reads everything before the end. */
static void a_sleeping_reader_drains_before_the_end(void **state)
{
	struct env *w = *state;
	struct drainer d = { 0 };
	pthread_t t;
	int i, round;

	for (round = 0; round < 50; round++) {
		connect_ab(w, &packet, &packet);
		d = (struct drainer){ .ch = w->cb };
		assert_int_equal(pthread_create(&t, NULL, drain, &d), 0);
		ivshm_clock_sleep_ms(2);
		for (i = 0; i < 20; i++)
			assert_int_equal(ivshm_chan_send(w->ca, &i, sizeof(i), 1000), 0);
		ivshm_chan_close(w->ca);
		w->ca = NULL;
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(d.err, -EPIPE);
		assert_int_equal(d.got, 20);
		ivshm_chan_close(w->cb);
		w->cb = NULL;
	}
}

/* The stats count every doorbell this end rang, no more, no less. */
static void doorbells_are_counted(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_stats st;
	uint64_t before, doorbells;
	char buf[64];
	size_t len;
	int i;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_get_stats(w->ca, &st), 0);
	doorbells = st.doorbells;
	before = mem_dev_rung(B_ID);
	for (i = 0; i < 10; i++) {
		/* B sleeps (asks to be rung), A sends: one doorbell each time. */
		assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), -EAGAIN);
		assert_int_equal(ivshm_chan_send(w->ca, "x", 1, 0), 0);
		assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 0), 0);
	}
	assert_int_equal(ivshm_chan_get_stats(w->ca, &st), 0);
	assert_int_equal(mem_dev_rung(B_ID) - before, 10);
	assert_int_equal(st.doorbells - doorbells, 10);
}

struct echo {
	struct ivshm_chan *ch;
	unsigned int delay_us, rounds;
	int err;
};

/* Answers every message after @delay_us: a peer with a steady pace. */
static void *slow_echo(void *arg)
{
	struct echo *e = arg;
	char buf[64];
	size_t len;
	unsigned int i;
	int64_t until;

	for (i = 0; i < e->rounds && !e->err; i++) {
		e->err = ivshm_chan_recv(e->ch, buf, sizeof(buf), &len, 5000);
		until = ivshm_clock_us() + e->delay_us;
		while (ivshm_clock_us() < until)
			;
		if (!e->err)
			e->err = ivshm_chan_send(e->ch, buf, len, 5000);
	}
	return NULL;
}

/*
 * Hybrid mode learns the peer's pace: a peer that answers in 300 us is caught
 * by a spin grown past it, so after the first rounds the requester rarely sleeps
 * (with a spin stuck at 50 us it would sleep every time).
 */
static void hybrid_spin_grows_to_the_peer_s_pace(void **state)
{
	struct env *w = *state;
	struct echo e = { .delay_us = 300, .rounds = 400 };
	struct ivshm_chan_stats st;
	char buf[64];
	size_t len;
	pthread_t t;
	unsigned int i;

	connect_ab(w, &packet, &packet);
	e.ch = w->cb;
	assert_int_equal(ivshm_chan_set_wait(w->ca, IVSHM_WAIT_HYBRID, 50), 0);
	assert_int_equal(pthread_create(&t, NULL, slow_echo, &e), 0);
	for (i = 0; i < e.rounds; i++) {
		assert_int_equal(ivshm_chan_send(w->ca, "ping", 5, 5000), 0);
		assert_int_equal(ivshm_chan_recv(w->ca, buf, sizeof(buf), &len, 5000), 0);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(e.err, 0);
	assert_int_equal(ivshm_chan_get_stats(w->ca, &st), 0);
	/* Grown past what was asked, or (on a loaded machine) at least caught most answers. */
	assert_true(w->ca->spin_cur > 50 || st.sleeps < e.rounds / 2);
	assert_true(st.sleeps < e.rounds * 3 / 4);
}

/* A poll-mode call keeps its deadline like any other. */
static void poll_mode_keeps_the_deadline(void **state)
{
	struct env *w = *state;
	char buf[64];
	size_t len;
	int64_t t0;

	connect_ab(w, &packet, &packet);
	assert_int_equal(ivshm_chan_set_wait(w->cb, IVSHM_WAIT_POLL, 0), 0);
	t0 = ivshm_clock_ms();
	assert_int_equal(ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 100), -ETIMEDOUT);
	assert_true(ivshm_clock_ms() - t0 >= 100 && ivshm_clock_ms() - t0 < 1000);
}

struct waiter {
	struct ivshm_dev *dev;
	struct ivshm_chan *ch;
	int err;
	volatile int done;
};

static void *wait_long(void *arg)
{
	struct waiter *wt = arg;
	char buf[64];
	size_t len;

	if (wt->ch)
		wt->err = ivshm_chan_recv(wt->ch, buf, sizeof(buf), &len, 2500);
	else
		wt->err = ivshm_wait(wt->dev, 2500, NULL, NULL);
	wt->done = 1;
	return NULL;
}

/* A peer waiting long, on the device or a channel, keeps beating: nobody takes it for dead. */
static void a_long_wait_keeps_the_heartbeat(void **state)
{
	struct env *w = *state;
	struct waiter wt[2] = { { .dev = w->b }, { .dev = w->b } };
	struct ivshm_peer p;
	pthread_t t;
	int i, k;

	connect_ab(w, &packet, &packet);
	wt[1].ch = w->cb;
	/* The doorbells of the connection are not what the wait is for. */
	ivshm_ack(w->b, NULL, NULL);
	for (k = 0; k < 2; k++) {
		assert_int_equal(pthread_create(&t, NULL, wait_long, &wt[k]), 0);
		/* Past the heartbeat bound (A beats meanwhile): B must look alive at every look. */
		for (i = 0; !wt[k].done; i++) {
			ivshm_clock_sleep_ms(100);
			assert_int_equal(ivshm_heartbeat(w->a), 0);
			assert_int_equal(ivshm_get_peer(w->a, B_ID, &p), 0);
			assert_int_equal(p.state, IVSHM_PEER_LIVE);
		}
		assert_true(i >= 15);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(wt[k].err, -ETIMEDOUT);
	}
}

struct paced {
	struct ivshm_chan *ch;
	int64_t until_ms;
	int err;
};

/* One message every 10 ms, and nothing else: no call that beats the heartbeat. */
static void *paced_send(void *arg)
{
	struct paced *p = arg;

	while (ivshm_clock_ms() < p->until_ms && !p->err) {
		p->err = ivshm_chan_send(p->ch, "tick", 5, 0);
		ivshm_clock_sleep_ms(10);
	}
	return NULL;
}

/*
 * A busy peer whose heartbeat stalls while its indices move is alive: the
 * reader, waiting between messages, looks at its liveness all along.
 */
static void a_busy_peer_without_heartbeat_is_alive(void **state)
{
	struct env *w = *state;
	struct paced p = { .until_ms = ivshm_clock_ms() + 2000 };
	char buf[64];
	size_t len;
	pthread_t t;
	int err, got = 0;

	connect_ab(w, &packet, &packet);
	/* A never beats again: only its moving indices say it lives. */
	w->a->region.hb_next_ms = INT64_MAX;
	p.ch = w->ca;
	assert_int_equal(pthread_create(&t, NULL, paced_send, &p), 0);
	do {
		err = ivshm_chan_recv(w->cb, buf, sizeof(buf), &len, 100);
		assert_true(err == 0 || err == -ETIMEDOUT);
		got += !err;
	} while (ivshm_clock_ms() < p.until_ms);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.err, 0);
	assert_true(got > 50);
}

#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(open_and_accept_meet),
		T(messages_arrive_whole_and_in_order),
		T(too_big_and_too_small),
		T(back_pressure_keeps_everything_in_order),
		T(stream_moves_what_fits),
		T(reserve_then_commit_in_place),
		T(doorbells_only_for_a_sleeping_peer),
		T(a_blocked_reader_wakes),
		T(a_busy_peer_is_alive),
		T(close_drains_then_ends),
		T(a_departed_peer_ends_a_blocked_call),
		T(types_must_agree),
		T(bad_arguments_and_unpublished_peers),
		T(lying_indices_break_the_channel),
		T(a_consumer_running_backwards_breaks_the_channel),
		T(a_bad_record_breaks_the_channel),
		T(a_rewritten_entry_breaks_the_channel),
		T(a_restarted_peer_resets_the_channel),
		T(a_producer_running_backwards_breaks_the_channel),
		T(bytes_that_are_not_whole_records_break_the_channel),
		T(close_sends_what_a_batch_held),
		T(a_sleeping_reader_drains_before_the_end),
		T(doorbells_are_counted),
		T(hybrid_spin_grows_to_the_peer_s_pace),
		T(poll_mode_keeps_the_deadline),
		T(a_long_wait_keeps_the_heartbeat),
		T(a_busy_peer_without_heartbeat_is_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
