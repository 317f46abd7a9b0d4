// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Doorbell ping-pong. Pong publishes the header (its ID and vector); ping
 * finds it, records its own ID and vector and the round count, then for each
 * round stores its sequence number and rings; pong echoes the number into its
 * own slot and rings back. One doorbell in flight per direction, so eventfd
 * coalescing on the host cannot hide a lost interrupt: each side expects its
 * driver counter to move by exactly the doorbells it was sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "pingpong.h"
#include "shm-proto.h"

#define SLOT_OFF ((uint32_t)sizeof(struct ivshm_app_hdr))
#define POLL_MS  10

struct side {
	struct ivshm_dev *dev;
	unsigned int id;
	char *buf;
	size_t size;
	uint64_t counter_before;
	uint32_t sent, received, unexpected, out_of_order;
	uint64_t coalesced;
};

static int side_open(const struct pp_opts *o, struct side *s)
{
	unsigned int nr;

	if (app_open_doorbell(o->device, &s->dev, &s->id, (void **)&s->buf, &s->size))
		return -1;
	if (ivshm_get_vectors(s->dev, &nr) || o->vector >= nr) {
		app_err("vector %u: the device has %u vectors", o->vector, nr);
		goto out_close;
	}
	if (s->size < SLOT_OFF + sizeof(struct ivshm_pingpong_slot)) {
		app_err("shared memory of %zu bytes is too small", s->size);
		goto out_close;
	}
	if (ivshm_get_counter(s->dev, o->vector, &s->counter_before))
		goto out_close;
	return 0;

out_close:
	ivshm_close(s->dev);
	return -1;
}

/* Wait for one doorbell on our vector; others are counted as unexpected. */
static int side_wait(const struct pp_opts *o, struct side *s)
{
	uint64_t fired, coalesced, bit = UINT64_C(1) << o->vector;
	int err;

	for (;;) {
		err = ivshm_wait(s->dev, o->timeout_ms, &fired, &coalesced);
		if (err) {
			app_err("waiting for the peer's doorbell (%u received): %s", s->received,
				ivshm_strerror(err));
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
		app_err("cannot read counter %u", o->vector);
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
		app_err("check=failed: expected %u doorbells each way, exactly one interrupt each",
			expected);
		return EXIT_FAIL;
	}
	printf("pingpong check=ok\n");
	return 0;
}

static int find_pong(const struct pp_opts *o, struct side *s, struct ivshm_app_hdr *h)
{
	int64_t deadline = app_now_ms() + o->timeout_ms;
	int err;

	for (;;) {
		err = app_hdr_read(s->buf, s->size, IVSHM_APP_PINGPONG, h);
		if (!err && h->state == IVSHM_APP_OWNER_READY)
			break;
		if (err && err != -ENOENT) {
			app_err("%s", app_hdr_strerror(err));
			return -1;
		}
		if (app_now_ms() >= deadline) {
			app_err("no pong found in shared memory after %d ms", o->timeout_ms);
			return -1;
		}
		app_sleep_ms(POLL_MS);
	}
	if (h->owner_id == s->id || h->msg_off != SLOT_OFF ||
	    h->msg_cap < sizeof(struct ivshm_pingpong_slot)) {
		app_err("pong header names this guest or a bad slot");
		return -1;
	}
	return 0;
}

int pp_doorbell_ping(const struct pp_opts *o)
{
	struct side s = { 0 };
	struct ivshm_app_hdr h;
	struct ivshm_pingpong_slot *slot;
	int64_t *rtt, t0;
	uint32_t i;
	int ret = EXIT_FAIL, err;

	if (side_open(o, &s))
		return EXIT_FAIL;
	rtt = calloc(o->rounds, sizeof(*rtt));
	if (!rtt) {
		app_err("out of memory");
		goto out_close;
	}
	if (find_pong(o, &s, &h))
		goto out_free;
	slot = (struct ivshm_pingpong_slot *)(s.buf + SLOT_OFF);
	printf("pingpong role=ping peer_id=%u pong=%u rounds=%u\n", s.id, h.owner_id, o->rounds);
	shm_store32(&slot->rounds, o->rounds);
	app_hdr_set_guest(s.buf, s.id, o->vector, h.msg_len);

	for (i = 1; i <= o->rounds; i++) {
		t0 = app_now_us();
		shm_store32(&slot->ping_seq, i);
		err = ivshm_trigger(s.dev, h.owner_id, h.owner_vector);
		if (err) {
			app_err("ring: %s", ivshm_strerror(err));
			goto out_free;
		}
		s.sent++;
		if (side_wait(o, &s))
			goto out_free;
		rtt[i - 1] = app_now_us() - t0;
		if (shm_load32(&slot->pong_seq) != i)
			s.out_of_order++;
	}
	app_hdr_set_state(s.buf, IVSHM_APP_GUEST_DONE);
	if (pp_print_latency("doorbell", rtt, o->rounds))
		goto out_free;
	ret = side_finish(o, &s, "ping", o->rounds);

out_free:
	free(rtt);
out_close:
	ivshm_close(s.dev);
	return ret;
}

static void publish_pong(const struct pp_opts *o, struct side *s)
{
	struct ivshm_app_hdr h = {
		.magic = IVSHM_APP_MAGIC,
		.version = IVSHM_APP_VERSION,
		.hdr_size = sizeof(h),
		.kind = IVSHM_APP_PINGPONG,
		.state = IVSHM_APP_OWNER_READY,
		.owner_id = s->id,
		.owner_vector = o->vector,
		.guest_id = IVSHM_APP_ID_NONE,
		.guest_vector = IVSHM_APP_ID_NONE,
		.msg_off = SLOT_OFF,
		.msg_cap = sizeof(struct ivshm_pingpong_slot),
		.msg_len = sizeof(struct ivshm_pingpong_slot),
	};
	struct ivshm_pingpong_slot *slot = (struct ivshm_pingpong_slot *)(s->buf + SLOT_OFF);

	app_hdr_clear(s->buf);
	shm_store32(&slot->ping_seq, 0);
	shm_store32(&slot->rounds, 0);
	shm_store32(&slot->pong_seq, 0);
	app_hdr_publish(s->buf, &h);
}

int pp_doorbell_pong(const struct pp_opts *o)
{
	struct ivshm_pingpong_slot *slot;
	struct ivshm_app_hdr h;
	struct side s = { 0 };
	uint32_t seq, rounds = 0, last = 0;
	int ret = EXIT_FAIL, err;

	if (side_open(o, &s))
		return EXIT_FAIL;
	slot = (struct ivshm_pingpong_slot *)(s.buf + SLOT_OFF);
	publish_pong(o, &s);
	printf("pingpong role=pong peer_id=%u vector=%u waiting (timeout %d ms)\n", s.id,
	       o->vector, o->timeout_ms);

	do {
		if (side_wait(o, &s))
			goto out_clear;
		if (!rounds) {
			/* Ping's ID, vector and round count: read once, checked, kept. */
			err = app_hdr_read(s.buf, s.size, IVSHM_APP_PINGPONG, &h);
			rounds = shm_load32(&slot->rounds);
			if (err || h.guest_id == IVSHM_APP_ID_NONE ||
			    h.guest_vector == IVSHM_APP_ID_NONE || !rounds ||
			    rounds > PP_MAX_ROUNDS) {
				app_err("ping rang without a valid header (%s)",
					err ? app_hdr_strerror(err) : "no ID or rounds");
				goto out_clear;
			}
		}
		seq = shm_load32(&slot->ping_seq);
		if (seq != last + 1)
			s.out_of_order++;
		last = seq;
		shm_store32(&slot->pong_seq, seq);
		err = ivshm_trigger(s.dev, h.guest_id, h.guest_vector);
		if (err) {
			app_err("ring: %s", ivshm_strerror(err));
			goto out_clear;
		}
		s.sent++;
	} while (s.received < rounds);
	ret = side_finish(o, &s, "pong", rounds);

out_clear:
	app_hdr_clear(s.buf);
	ivshm_close(s.dev);
	return ret;
}
