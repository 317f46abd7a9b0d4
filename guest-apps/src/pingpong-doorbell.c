// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Doorbell ping-pong. Each side publishes itself in the peer directory (ping
 * with the round count) and keeps its sequence number in a cache line at the
 * start of its own arena. For each round ping stores the round number and
 * rings; pong echoes it into its own line and rings back. One doorbell in
 * flight per direction, so eventfd coalescing on the host cannot hide a lost
 * interrupt: each side expects its driver counter to move by exactly the
 * doorbells it was sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "ivshm-apps.h"
#include "pingpong.h"

struct side {
	struct ivshm_dev *dev;
	unsigned int id;
	struct ivshm_pingpong_line *own;	/* written by us */
	uint64_t counter_before;
	uint32_t sent, received, unexpected, out_of_order;
	uint64_t coalesced;
};

static int side_open(const struct pp_opts *o, struct side *s, const char *role, uint64_t user)
{
	unsigned int nr;
	size_t size;
	void *buf;
	int err;

	if (app_open_doorbell(o->device, &s->dev, &s->id, &buf, &size))
		return -1;
	if (ivshm_get_vectors(s->dev, &nr) || o->vector >= nr) {
		ivshm_msg_err("vector %u: the device has %u vectors", o->vector, nr);
		goto out_close;
	}
	err = ivshm_get_user_area(s->dev, s->id, &buf, &size);
	if (err) {
		app_err(err, "no arena in the shared memory");
		goto out_close;
	}
	s->own = buf;
	__atomic_store_n(&s->own->seq, 0, __ATOMIC_RELEASE);
	if (ivshm_get_counter(s->dev, o->vector, &s->counter_before))
		goto out_close;
	if (app_publish(s->dev, role, o->vector, user))
		goto out_close;
	return 0;

out_close:
	ivshm_close(s->dev);
	return -1;
}

/* The other side's line, in its arena: only loaded, once per use. */
static const struct ivshm_pingpong_line *peer_line(struct side *s, unsigned int id)
{
	size_t size;
	void *buf;

	if (ivshm_get_user_area(s->dev, id, &buf, &size))
		return NULL;
	return buf;
}

/* Wait for one doorbell on our vector; others are counted as unexpected. */
static int side_wait(const struct pp_opts *o, struct side *s)
{
	uint64_t fired, coalesced, bit = UINT64_C(1) << o->vector;
	int err;

	for (;;) {
		err = ivshm_wait(s->dev, o->timeout_ms, &fired, &coalesced);
		if (err) {
			app_err(err, "waiting for the peer's doorbell (%u received)", s->received);
			return -1;
		}
		s->coalesced += coalesced;
		if (fired & ~bit)
			s->unexpected++;
		if (fired & bit) {
			s->received++;
			return 0;
		}
	}
}

/* Print the counts line and, with --check, the verdict. Returns the exit status. */
static int side_finish(const struct pp_opts *o, struct side *s, const char *role,
		       uint32_t expected)
{
	uint64_t after = s->counter_before, delta;
	int ok;

	if (ivshm_get_counter(s->dev, o->vector, &after))
		ivshm_msg_err("cannot read counter %u", o->vector);
	delta = after - s->counter_before;
	printf("pingpong role=%s sent=%u received=%u counter_delta=%llu coalesced=%llu "
	       "unexpected=%u out_of_order=%u\n", role, s->sent, s->received,
	       (unsigned long long)delta, (unsigned long long)s->coalesced, s->unexpected,
	       s->out_of_order);
	if (!o->check)
		return 0;
	ok = s->sent == expected && s->received == expected && delta == expected &&
	     s->coalesced == 0 && s->unexpected == 0 && s->out_of_order == 0;
	if (!ok) {
		ivshm_msg_err("check=failed: expected %u doorbells each way, exactly one interrupt each",
			expected);
		return EXIT_FAIL;
	}
	printf("pingpong check=ok\n");
	return 0;
}

int pp_doorbell_ping(const struct pp_opts *o)
{
	const struct ivshm_pingpong_line *theirs;
	struct ivshm_peer pong;
	struct side s = { 0 };
	int64_t *rtt, t0;
	uint32_t i;
	int ret = EXIT_FAIL, err;

	if (side_open(o, &s, IVSHM_PINGPONG_PING_ROLE, o->rounds))
		return EXIT_FAIL;
	rtt = calloc(o->rounds, sizeof(*rtt));
	if (!rtt) {
		ivshm_msg_err("out of memory");
		goto out_close;
	}
	err = ivshm_find_peer(s.dev, IVSHM_PINGPONG_PONG_ROLE, o->timeout_ms, &pong);
	if (err) {
		app_err(err, "no pong found in shared memory after %d ms", o->timeout_ms);
		goto out_free;
	}
	theirs = peer_line(&s, pong.id);
	if (!theirs)
		goto out_free;
	printf("pingpong role=ping peer_id=%u pong=%u rounds=%u\n", s.id, pong.id, o->rounds);

	for (i = 1; i <= o->rounds; i++) {
		t0 = ivshm_clock_us();
		__atomic_store_n(&s.own->seq, i, __ATOMIC_RELAXED);
		err = ivshm_trigger(s.dev, pong.id, pong.vector);
		if (err) {
			app_err(err, "ring");
			goto out_free;
		}
		s.sent++;
		if (side_wait(o, &s))
			goto out_free;
		rtt[i - 1] = ivshm_clock_us() - t0;
		if (__atomic_load_n(&theirs->seq, __ATOMIC_ACQUIRE) != i)
			s.out_of_order++;
	}
	if (pp_print_latency("doorbell", rtt, o->rounds))
		goto out_free;
	ret = side_finish(o, &s, "ping", o->rounds);

out_free:
	free(rtt);
out_close:
	ivshm_close(s.dev);
	return ret;
}

int pp_doorbell_pong(const struct pp_opts *o)
{
	const struct ivshm_pingpong_line *theirs = NULL;
	struct ivshm_peer ping;
	struct side s = { 0 };
	uint32_t seq, rounds = 0, last = 0;
	int ret = EXIT_FAIL, err;

	if (side_open(o, &s, IVSHM_PINGPONG_PONG_ROLE, 0))
		return EXIT_FAIL;
	printf("pingpong role=pong peer_id=%u vector=%u waiting (timeout %d ms)\n", s.id,
	       o->vector, o->timeout_ms);

	do {
		if (side_wait(o, &s))
			goto out_close;
		if (!theirs) {
			/* Ping's ID, vector and round count: read once, checked, kept. */
			err = ivshm_find_peer(s.dev, IVSHM_PINGPONG_PING_ROLE, 0, &ping);
			if (!err && (ping.user == 0 || ping.user > PP_MAX_ROUNDS))
				err = -EUCLEAN;
			if (err) {
				app_err(err, "rung, but no valid ping in the directory");
				goto out_close;
			}
			rounds = (uint32_t)ping.user;
			theirs = peer_line(&s, ping.id);
			if (!theirs)
				goto out_close;
		}
		seq = __atomic_load_n(&theirs->seq, __ATOMIC_ACQUIRE);
		if (seq != last + 1)
			s.out_of_order++;
		last = seq;
		__atomic_store_n(&s.own->seq, seq, __ATOMIC_RELAXED);
		err = ivshm_trigger(s.dev, ping.id, ping.vector);
		if (err) {
			app_err(err, "ring");
			goto out_close;
		}
		s.sent++;
	} while (s.received < rounds);
	ret = side_finish(o, &s, "pong", rounds);

out_close:
	ivshm_close(s.dev);
	return ret;
}
