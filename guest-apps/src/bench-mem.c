// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-bench without channels: what the memory and the doorbell alone cost.
 *
 * Each side owns one cache line at the start of its user area (its arena's
 * application page) and only stores to it; it spins on the other's line.
 * rtt-cacheline: the client stores a new sequence number, the server copies
 * it into its own line: a round trip with nothing but coherence in between.
 *
 * wake: one doorbell from the client to a server waiting for it, from the
 * doorbell write until the server's wait returns, asleep in poll() or
 * spinning on the interrupt counters; the server answers with its clock and a
 * doorbell back, which the client sleeps for. The two guests' TSCs tick at the same
 * rate (under TCG both are the host's) with an unknown offset, which a first
 * round of cache-line exchanges estimates from the fastest one (NTP's way).
 *
 * memcpy: inside the client, the ceiling a stream could reach.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Cache-line exchanges that estimate the clock offset before the doorbells. */
#define SYNC_ROUNDS 256
/* Between doorbells the server must be back asleep: it takes well under this. */
#define WAKE_GAP_MS 2

struct bench_line {
	uint64_t seq;		/* stored last, with release */
	uint64_t tsc;		/* the writer's clock when it stored seq */
};

static char src_buf[IVSHM_BENCH_MAX_MSG];

/* Our line and the peer's, in the two user areas. */
static int lines(struct bench_conn *c, struct bench_line **mine, const struct bench_line **theirs)
{
	unsigned int self;
	size_t size;
	void *p, *q;
	int err;

	err = ivshm_get_peer_id(c->dev, &self);
	if (!err)
		err = ivshm_get_user_area(c->dev, self, &p, &size);
	if (!err)
		err = ivshm_get_user_area(c->dev, c->peer, &q, &size);
	if (err) {
		app_err(err, "user areas");
		return err;
	}
	*mine = p;
	*theirs = q;
	return 0;
}

static uint64_t timeout_ticks(const struct bench_conn *c)
{
	return bench_ns_ticks((int64_t)c->o->timeout_ms * 1000000);
}

/* Spin until the peer's @seq differs from @old (@want 0) or equals @want. */
static int spin(struct bench_conn *c, const uint64_t *seq, uint64_t old, uint64_t want,
		uint64_t *now)
{
	uint64_t start = bench_ticks(), v;
	unsigned int turns = 0;

	for (;;) {
		v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
		if (want ? v == want : v != old)
			break;
		/* Reading the clock costs more than a look at the line: not every turn. */
		if (++turns % 256)
			continue;
		if (bench_ticks() - start > timeout_ticks(c))
			return -ETIMEDOUT;
		bench_alive(c);
	}
	*now = v;
	return 0;
}

static void put_line(struct bench_line *l, uint64_t seq, uint64_t tsc)
{
	__atomic_store_n(&l->tsc, tsc, __ATOMIC_RELAXED);
	__atomic_store_n(&l->seq, seq, __ATOMIC_RELEASE);
}

/* Echo @rounds new sequence numbers of the client, with our clock. */
static int echo_lines(struct bench_conn *c, struct bench_line *mine,
		      const struct bench_line *theirs, uint64_t *last, uint64_t rounds)
{
	uint64_t k, v;
	int err;

	for (k = 0; k < rounds; k++) {
		bench_alive(c);
		err = spin(c, &theirs->seq, *last, 0, &v);
		if (err)
			return err;
		put_line(mine, v, bench_ticks());
		*last = v;
	}
	return 0;
}

int bench_line_client(struct bench_conn *c, const struct bench_spec *s, struct bench_result *r,
		      struct ivshm_bench_ctl *done)
{
	uint64_t warm = s->count / 10, i, seq, t0, t1, v;
	const struct bench_line *theirs;
	struct bench_line *mine;
	int64_t *lat;
	int err, derr;

	lat = calloc(s->count - warm, sizeof(*lat));
	err = lat ? lines(c, &mine, &theirs) : -ENOMEM;
	/* Only we store to our line: its value is what the server saw last. */
	seq = err ? 0 : __atomic_load_n(&mine->seq, __ATOMIC_RELAXED);
	for (i = 0; !err && i < s->count; i++) {
		bench_alive(c);
		t0 = bench_ticks();
		put_line(mine, ++seq, 0);
		err = spin(c, &theirs->seq, 0, seq, &v);
		t1 = bench_ticks();
		if (!err && i >= warm)
			lat[i - warm] = (int64_t)(t1 - t0);
	}
	if (!err) {
		r->count = s->count - warm;
		err = bench_summarize(lat, r->count, &r->lat);
		r->have_lat = !err;
	}
	free(lat);
	derr = bench_ctl_done(c, done);
	return err ? err : derr;
}

int bench_line_server(struct bench_conn *c, const struct bench_spec *s,
		      struct ivshm_bench_ctl *done)
{
	const struct bench_line *theirs;
	struct bench_line *mine;
	uint64_t last;
	int err;

	(void)done;
	err = lines(c, &mine, &theirs);
	if (err)
		return err;
	last = __atomic_load_n(&theirs->seq, __ATOMIC_ACQUIRE);
	err = bench_ctl_ready(c);
	return err ? err : echo_lines(c, mine, theirs, &last, s->count);
}

/*
 * The server's answer to a doorbell, asleep: a spinning client would take the
 * CPU that the server's QEMU needs to deliver the doorbell.
 */
static int wait_answer(struct bench_conn *c, const uint64_t *seq, uint64_t want)
{
	uint64_t start = bench_ticks(), fired, coalesced;
	int err;

	while (__atomic_load_n(seq, __ATOMIC_ACQUIRE) != want) {
		if (bench_ticks() - start > timeout_ticks(c))
			return -ETIMEDOUT;
		err = ivshm_wait(c->dev, c->o->timeout_ms, &fired, &coalesced);
		if (err)
			return err;
	}
	return 0;
}

int bench_wake_client(struct bench_conn *c, const struct bench_spec *s, struct bench_result *r,
		      struct ivshm_bench_ctl *done)
{
	uint64_t warm = s->count / 10, i, seq, t0, t1, v, best = UINT64_MAX;
	const struct bench_line *theirs;
	struct bench_line *mine;
	int64_t *lat, *ring, offset = 0;
	struct latency_stats rs;
	int err, derr;

	lat = calloc(s->count - warm, sizeof(*lat));
	ring = calloc(s->count - warm, sizeof(*ring));
	err = lat && ring ? lines(c, &mine, &theirs) : -ENOMEM;
	seq = err ? 0 : __atomic_load_n(&mine->seq, __ATOMIC_RELAXED);
	for (i = 0; !err && i < SYNC_ROUNDS; i++) {
		bench_alive(c);
		t0 = bench_ticks();
		put_line(mine, ++seq, 0);
		err = spin(c, &theirs->seq, 0, seq, &v);
		t1 = bench_ticks();
		/* The server's clock at the middle of the fastest exchange is ours plus the offset. */
		if (!err && t1 - t0 < best) {
			best = t1 - t0;
			offset = (int64_t)(__atomic_load_n(&theirs->tsc, __ATOMIC_RELAXED) -
					   (t0 + best / 2));
		}
	}
	if (!err)
		ivshm_msg_info("wake: the clocks are aligned within %lld ns",
			       (long long)bench_ticks_ns((int64_t)(best / 2)));
	for (i = 0; !err && i < s->count; i++) {
		/* A doorbell must find the server waiting, asleep or spinning. */
		ivshm_clock_sleep_ms(WAKE_GAP_MS);
		bench_alive(c);
		/* The clock first: a server that sees the new number early cannot come out ahead of it. */
		t0 = bench_ticks();
		__atomic_store_n(&mine->seq, ++seq, __ATOMIC_RELAXED);
		err = ivshm_trigger(c->dev, c->peer, IVSHM_BENCH_VECTOR);
		t1 = bench_ticks();
		if (!err)
			err = wait_answer(c, &theirs->seq, seq);
		if (!err && i >= warm) {
			lat[i - warm] = (int64_t)(__atomic_load_n(&theirs->tsc, __ATOMIC_RELAXED) - t0) -
					offset;
			ring[i - warm] = (int64_t)(t1 - t0);
		}
	}
	if (!err) {
		r->count = s->count - warm;
		err = bench_summarize(lat, r->count, &r->lat);
		if (!err)
			err = bench_summarize(ring, r->count, &rs);
		r->have_lat = !err;
		r->extra_ns = rs.p50;
	}
	free(lat);
	free(ring);
	derr = bench_ctl_done(c, done);
	return err ? err : derr;
}

/* Until a doorbell arrives: asleep in the device's wait, or spinning on the counters. */
static int wait_doorbell(struct bench_conn *c, uint32_t how)
{
	uint64_t start = bench_ticks(), fired, coalesced;
	int err;

	if (how == IVSHM_BENCH_WAKE_SLEEP)
		return ivshm_wait(c->dev, c->o->timeout_ms, &fired, &coalesced);
	for (;;) {
		err = ivshm_ack(c->dev, &fired, &coalesced);
		if (err != -EAGAIN)
			return err;
		if (bench_ticks() - start > timeout_ticks(c))
			return -ETIMEDOUT;
		bench_alive(c);
	}
}

int bench_wake_server(struct bench_conn *c, const struct bench_spec *s,
		      struct ivshm_bench_ctl *done)
{
	const struct bench_line *theirs;
	struct bench_line *mine;
	uint64_t last, k, v, t;
	int err;

	(void)done;
	err = lines(c, &mine, &theirs);
	if (err)
		return err;
	last = __atomic_load_n(&theirs->seq, __ATOMIC_ACQUIRE);
	err = bench_ctl_ready(c);
	if (!err)
		err = echo_lines(c, mine, theirs, &last, SYNC_ROUNDS);
	for (k = 0; !err && k < s->count;) {
		err = wait_doorbell(c, s->mode);
		t = bench_ticks();
		if (err)
			break;
		/* The doorbell orders the client's store before it: a wake without one is stale. */
		v = __atomic_load_n(&theirs->seq, __ATOMIC_ACQUIRE);
		if (v == last)
			continue;
		put_line(mine, v, t);
		last = v;
		err = ivshm_trigger(c->dev, c->peer, IVSHM_BENCH_VECTOR);
		k++;
	}
	return err;
}

int bench_memcpy(struct bench_conn *c, const struct bench_spec *s, struct bench_result *r)
{
	size_t size = s->ring > s->msg_bytes ? s->ring : s->msg_bytes, off = 0;
	uint64_t n, t0, t1, end, mask = s->msg_bytes >= 4096 ? 0 : 255;
	char *dst;

	dst = malloc(size);
	if (!dst)
		return -ENOMEM;
	memset(src_buf, 0x5a, s->msg_bytes);
	memset(dst, 0, size);
	t0 = bench_ticks();
	end = t0 + bench_ns_ticks((int64_t)c->o->stream_ms * 1000000);
	for (n = 0;; n++) {
		if (!(n & mask)) {
			if (bench_ticks() >= end)
				break;
			bench_alive(c);
		}
		if (off + s->msg_bytes > size)
			off = 0;
		memcpy(dst + off, src_buf, s->msg_bytes);
		/* The copies are the point: the compiler must not drop them as never read. */
		__asm__ volatile("" : : "r"(dst) : "memory");
		off += s->msg_bytes;
	}
	t1 = bench_ticks();
	free(dst);
	r->count = n;
	r->mib_per_s = (double)n * s->msg_bytes / (1024.0 * 1024.0) /
		       ((double)bench_ticks_ns((int64_t)(t1 - t0)) / 1e9);
	return 0;
}
