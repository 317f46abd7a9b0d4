// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The records a batch moves after its first message (send_more(),
 * recv_more()): they look at the peer's index only when the room or the
 * records they know of run out, so these tests hold them to what the single
 * calls do: pads at the ring's end, the room a full ring leaves, a buffer too
 * small, a broken record in the middle, the statistics. Two peers (threads)
 * over one buffer with a ticking server page.
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
#include "mem-dev.h"

#define SIZE (4u << 20)
#define PORT 9
#define A_ID 1
#define B_ID 2
/* Messages of the wrap test: about 500 times around a 4 KiB ring. */
#define TOTAL 20000u
#define BATCH 20u
#define MAX_LEN 200u

struct world {
	char *mem;
	struct ivshm_dev *a, *b;
	struct ivshm_chan *ca, *cb;
};

static const struct ivshm_chan_opts packet = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096 };

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	w->mem = aligned_alloc(IVSHM_SHM_PAGE, SIZE);
	if (!w->mem)
		return -1;
	memset(w->mem, 0, SIZE);
	w->a = mem_dev_open(w->mem, SIZE, A_ID, 2);
	w->b = mem_dev_open(w->mem, SIZE, B_ID, 2);
	if (!w->a || !w->b || mem_server_start(w->mem, 10) || ivshm_publish(w->a, "a", 0, 0) ||
	    ivshm_publish(w->b, "b", 0, 0))
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ivshm_chan_close(w->ca);
	ivshm_chan_close(w->cb);
	ivshm_close(w->a);
	ivshm_close(w->b);
	mem_server_stop();
	free(w->mem);
	free(w);
	return 0;
}

struct opener {
	struct world *w;
	int err;
};

static void *open_a(void *arg)
{
	struct opener *op = arg;

	op->err = ivshm_chan_open(op->w->a, B_ID, PORT, &packet, 5000, &op->w->ca);
	return NULL;
}

/* A opens a packet channel with a 4 KiB ring towards B, B accepts. */
static void connect_ab(struct world *w)
{
	struct opener op = { .w = w };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, open_a, &op), 0);
	assert_int_equal(ivshm_chan_accept(w->b, PORT, &packet, 5000, &w->cb), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(op.err, 0);
}

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

struct reader {
	struct ivshm_chan *ch;
	uint64_t got, bytes, bad;
	int err;
};

/* B: batches of up to 16 until TOTAL came, each checked against what A sent. */
static void *read_batches(void *arg)
{
	static unsigned char bufs[16][MAX_LEN], want[MAX_LEN];
	struct reader *rd = arg;
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
	struct world *w = *state;
	struct reader rd = { 0 };
	struct ivshm_chan_stats sa, sb;
	struct ivshm_msg out[BATCH];
	uint64_t next = 0, bytes = 0;
	unsigned int n, k, off = BATCH;
	pthread_t t;

	connect_ab(w);
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
	struct world *w = *state;
	struct ivshm_msg out[100], in[100];
	unsigned int n, k;

	connect_ab(w);
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
	struct world *w = *state;
	struct ivshm_msg out[5], in[5];
	unsigned int n, k;

	connect_ab(w);
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
static void break_second_record(struct world *w, int how)
{
	unsigned char bufs[3][24] = { { 1 }, { 2 }, { 3 } };
	struct ivshm_msg out[3];
	struct ivshm_shm_rec h;
	unsigned int n, k;
	char *at;

	connect_ab(w);
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
	struct world *w = *state;
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

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(batches_go_around_the_ring),
		T(a_batch_fills_the_ring_exactly),
		T(a_small_buffer_ends_the_batch),
		T(a_broken_record_in_a_batch_breaks_the_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
