// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: a channel's receive and send paths against a peer whose
 * every byte the fuzzer writes. The victim is a real libivshm end; the
 * attacker's slot, channel entry, half and ring come from the input, then a
 * script of actions from the rest of it interleaves the victim's calls with
 * the attacker's rewrites. Every call must return, with 0 or one of the errors
 * the API documents; ASan and UBSan watch every access.
 *
 *   make -C libivshm fuzz-build; build/fuzz/fuzz-channel -max_total_time=60
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem-dev.h"

#define REGION (1u << 20)
#define VICTIM 1
#define ATTACKER 2
#define PORT 9

/* The input, consumed a few bytes at a time; zeros once it runs out. */
struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes--) {
		v = v << 8 | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

static void check(int err)
{
	switch (-err) {
	case 0: case EAGAIN: case ETIMEDOUT: case EPIPE: case ECONNRESET: case EHOSTDOWN:
	case EPROTO: case EPROTOTYPE: case EMSGSIZE: case EBUSY: case EINVAL: case ENOTCONN:
	case ENOSPC: case EHOSTUNREACH:
		return;
	}
	/* An error the API does not promise is a finding. */
	abort();
}

static char *slot_of(char *mem, unsigned int i)
{
	struct ivshm_shm_layout l;

	ivshm_shm_layout(REGION, &l);
	return mem + l.dir_off + (size_t)i * IVSHM_SHM_SLOT_SIZE;
}

static char *arena_of(char *mem, unsigned int i)
{
	struct ivshm_shm_layout l;

	ivshm_shm_layout(REGION, &l);
	return mem + l.arena_off + (size_t)i * l.arena_size;
}

/*
 * A server page that says both peers are connected, with a tick: the victim
 * then takes the attacker for alive at its first look, as with ivshmd, and
 * connects at once (the tick is seen for the first time, so it counts as running).
 */
static void plant_server(char *mem)
{
	struct ivshm_shm_server *sp = (struct ivshm_shm_server *)(mem + IVSHM_SHM_SERVER_OFF);

	sp->nr_ids = IVSHM_SHM_SERVER_IDS;
	sp->live[0] = 1u << VICTIM | 1u << ATTACKER;
	sp->tick = 1;
	sp->tick_ms = 100;
	sp->magic = IVSHM_SHM_SERVER_MAGIC;
}

/* The attacker's entry 0, from the input but aimed at the victim's port. */
static void plant_entry(struct ivshm_dev *att, struct input *in)
{
	struct ivshm_shm_chan *e = (struct ivshm_shm_chan *)(arena_of(att->shm, 1) +
							     IVSHM_SHM_CHAN_OFF);
	struct ivshm_shm_chan v;

	memset(&v, 0, sizeof(v));
	v.state = take(in, 1) % 4 ? IVSHM_SHM_CHAN_OPEN : (uint32_t)take(in, 4);
	v.peer_id = VICTIM;
	v.port = PORT;
	v.type = take(in, 1) % 8 ? IVSHM_SHM_CHAN_PACKET : (uint32_t)take(in, 1);
	v.vector = (uint32_t)take(in, 1) % 4;
	v.ring_size = take(in, 1) % 8 ? 4096u << (take(in, 1) % 4) : (uint32_t)take(in, 4);
	v.max_msg = take(in, 1) % 4 ? v.ring_size / 2 - 8 : (uint32_t)take(in, 4);
	v.half_off = take(in, 1) % 4 ? IVSHM_SHM_HEAP_OFF : take(in, 8);
	v.epoch = att->region.epoch;
	/* Mostly a request; else an answer naming any entry of any incarnation. */
	if (!(take(in, 1) % 4)) {
		v.peer_epoch = take(in, 8);
		v.peer_entry = (uint32_t)take(in, 1);
	}
	e->seq = 0;
	memcpy((char *)e + 4, (char *)&v + 4, sizeof(v) - 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *mem;
	struct input in = { data, size };
	struct ivshm_chan_opts o = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096 };
	struct ivshm_dev *vic, *att;
	struct ivshm_chan *ch = NULL;
	char buf[8192], bufs[4][512], *half;
	struct ivshm_msg msgs[4];
	struct ivshm_chan_event ev[2];
	const void *msg;
	size_t len, n;
	unsigned int step, k, got;
	void *slot;
	uint64_t off;

	if (!mem && !(mem = aligned_alloc(IVSHM_SHM_PAGE, REGION)))
		abort();
	memset(mem, 0, REGION);
	plant_server(mem);
	vic = mem_dev_open(mem, REGION, VICTIM, 4);
	att = mem_dev_open(mem, REGION, ATTACKER, 4);
	if (!vic || !att || ivshm_publish(vic, "victim", 0, 0) || ivshm_publish(att, "attacker", 0, 0))
		abort();
	if (take(&in, 1) & 1)
		o.type = IVSHM_CHAN_STREAM;
	plant_entry(att, &in);
	/* The attacker's half: wherever its entry says, within the region or not. */
	half = arena_of(mem, 1) + IVSHM_SHM_HEAP_OFF;
	n = take(&in, 2) % 512;
	memcpy(half, in.p, n < in.left ? n : in.left);

	check(ivshm_chan_open(vic, ATTACKER, PORT, &o, 0, &ch));
	for (step = 0; ch && step < 64 && in.left; step++) {
		switch (take(&in, 1) % 13) {
		case 0:		/* write bytes into the attacker's half or ring */
			off = take(&in, 2) % 8192;
			n = take(&in, 1);
			memcpy(half + off, in.p, n < in.left ? n : in.left);
			break;
		case 1:		/* publish a producer index */
			((struct ivshm_shm_half *)half)->prod = (uint32_t)take(&in, 4);
			break;
		case 2:
			if (o.type == IVSHM_CHAN_PACKET)
				check(ivshm_chan_recv(ch, buf, take(&in, 2) % sizeof(buf), &len, 0));
			else
				check(ivshm_chan_read(ch, buf, take(&in, 2) % sizeof(buf), &len, 0));
			break;
		case 3:
			if (o.type == IVSHM_CHAN_PACKET)
				check(ivshm_chan_send(ch, buf, take(&in, 2) % 3000, 0));
			else
				check(ivshm_chan_write(ch, buf, take(&in, 2) % sizeof(buf), &len, 0));
			break;
		case 4:		/* move the consumer index */
			((struct ivshm_shm_half *)half)->cons = (uint32_t)take(&in, 4);
			break;
		case 5:		/* rewrite the published entry */
			plant_entry(att, &in);
			break;
		case 6:		/* the attacker's slot: any bytes */
			off = take(&in, 1) % IVSHM_SHM_SLOT_SIZE;
			slot_of(mem, 1)[off] = (char)take(&in, 1);
			break;
		case 7:
			if (!ivshm_chan_reserve(ch, take(&in, 2) % 3000 + 1, &slot, 0))
				check(ivshm_chan_commit(ch, take(&in, 2) % 3000));
			break;
		case 8:		/* the wait words */
			((struct ivshm_shm_half *)half)->rx_wait = (uint32_t)take(&in, 4);
			((struct ivshm_shm_half *)half)->tx_wait = (uint32_t)take(&in, 4);
			break;
		case 9:		/* in place: what the pointer covers must be inside the ring */
			if (!ivshm_chan_peek(ch, &msg, &len, 0)) {
				memcpy(buf, msg, len < sizeof(buf) ? len : sizeof(buf));
				check(ivshm_chan_release(ch, take(&in, 1) & 1 ? len : len / 2));
			}
			break;
		case 10:
			for (k = 0; k < 4; k++)
				msgs[k] = (struct ivshm_msg){ .buf = bufs[k],
							      .size = take(&in, 2) % sizeof(bufs[k]) };
			check(ivshm_chan_recv_batch(ch, msgs, 4, &got, 0));
			break;
		case 11:
			for (k = 0; k < 4; k++)
				msgs[k] = (struct ivshm_msg){ .buf = bufs[k],
							      .len = take(&in, 2) % sizeof(bufs[k]) };
			check(ivshm_chan_send_batch(ch, msgs, 4, &got, 0));
			break;
		case 12:
			check(ivshm_chan_set_events(ch, (uint32_t)take(&in, 1) % 4, NULL));
			check(ivshm_poll(vic, ev, 2, &got));
			if (take(&in, 1) & 1)
				check(ivshm_chan_batch_begin(ch));
			else
				check(ivshm_chan_batch_end(ch));
			break;
		}
	}
	ivshm_chan_close(ch);
	ivshm_close(vic);
	ivshm_close(att);
	return 0;
}
