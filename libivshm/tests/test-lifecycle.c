// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Channels through what real programs do: close and open again at once, a
 * peer that loses its slot while it opens or sends, a newcomer that takes a
 * paused peer's slot, a peer that is dead or was never there, and entries a
 * hostile peer forges. Peers are threads with their own handles over one
 * buffer, with a ticking server page (as ivshmd keeps) unless a test says.
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
#include "seqlock.h"

#define SIZE ENV_SIZE
#define A_ID 1
#define B_ID 2
#define C_ID 3


static const struct ivshm_chan_opts small = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096 };


/* The reading peer of the reopen test: accept, read to the end, close, again. */
struct reader {
	struct ivshm_dev *dev;
	int cycles, protos, errors;
	int first_err, first_err_cycle;	/* what went wrong first, for the failure message */
	uint64_t messages;
	volatile int stop;
};

static void note(struct reader *r, int err)
{
	if (!r->errors++) {
		r->first_err = err;
		r->first_err_cycle = r->cycles;
	}
}

static void *read_channels(void *arg)
{
	struct reader *r = arg;
	struct ivshm_chan *ch;
	char buf[64];
	size_t len;
	int err;

	while (!r->stop) {
		err = ivshm_chan_accept(r->dev, 7, &small, 200, &ch);
		if (err == -ETIMEDOUT)
			continue;
		if (err) {
			note(r, err);
			break;
		}
		while (!(err = ivshm_chan_recv(ch, buf, sizeof(buf), &len, 2000)))
			r->messages++;
		if (err == -EPROTO)
			r->protos++;
		else if (err != -EPIPE)
			note(r, err);
		ivshm_chan_close(ch);
		r->cycles++;
	}
	return NULL;
}

/*
 * Close, then open again at once, while the peer still reads the old channel:
 * it must end with -EPIPE after every message, never see the freed entry or
 * half reused under it (-EPROTO).
 */
static void close_then_reopen_at_once(void **state)
{
	struct env *w = *state;
	struct reader rd = { .dev = w->b };
	struct ivshm_chan *ch;
	uint64_t sent = 0;
	int64_t deadline;
	pthread_t t;
	int i, k;

	assert_int_equal(pthread_create(&t, NULL, read_channels, &rd), 0);
	for (i = 0; i < 2000; i++) {
		assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &small, 5000, &ch), 0);
		for (k = 0; k < 3; k++, sent++)
			assert_int_equal(ivshm_chan_send(ch, &sent, sizeof(sent), 5000), 0);
		ivshm_chan_close(ch);
	}
	/* A waits for the reader to finish, beating (else it would look dead). */
	deadline = ivshm_clock_ms() + 10000;
	while (rd.cycles < 2000 && ivshm_clock_ms() < deadline) {
		ivshm_clock_sleep_ms(1);
		ivshm_heartbeat(w->a);
	}
	rd.stop = 1;
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(rd.protos, 0);
	if (rd.errors)
		fail_msg("%d errors, the first %s at cycle %d", rd.errors,
			 strerrorname_np(-rd.first_err), rd.first_err_cycle);
	assert_int_equal(rd.cycles, 2000);
	assert_int_equal(rd.messages, sent);
}

/* @from opens towards @to on @port, @to accepts: both ends connected. */
static void connect_pair(struct ivshm_dev *from, struct ivshm_dev *to, uint32_t port,
			 struct ivshm_chan **cf, struct ivshm_chan **ct)
{
	world_connect(from, to, port, &small, &small, cf, ct);
}

/* A closed end's entry and half are not reused while the peer's end still names them. */
static void a_closed_end_waits_for_its_peer(void **state)
{
	struct env *w = *state;
	struct ivshm_chan *ca, *cb, *ca2, *cb2;
	unsigned int old_entry;
	uint64_t old_half;
	char buf[16];
	size_t len;

	connect_pair(w->a, w->b, 7, &ca, &cb);
	old_entry = ca->entry;
	old_half = w->a->region.ends[old_entry].half_off;
	assert_int_equal(ivshm_chan_send(ca, "old", 4, 0), 0);
	ivshm_chan_close(ca);
	/* B has not noticed: A's next channel to B takes another entry and half. */
	connect_pair(w->a, w->b, 7, &ca2, &cb2);
	assert_int_not_equal(ca2->entry, old_entry);
	assert_true(w->a->region.ends[ca2->entry].half_off != old_half);
	assert_int_equal(ivshm_chan_send(ca2, "new", 4, 0), 0);
	/* Each of B's ends reads its own channel: the old one to its end. */
	assert_int_equal(ivshm_chan_recv(cb, buf, sizeof(buf), &len, 1000), 0);
	assert_string_equal(buf, "old");
	assert_int_equal(ivshm_chan_recv(cb, buf, sizeof(buf), &len, 1000), -EPIPE);
	assert_int_equal(ivshm_chan_recv(cb2, buf, sizeof(buf), &len, 1000), 0);
	assert_string_equal(buf, "new");
	/* Once B closed its old end, A may use the old entry again. */
	ivshm_chan_close(cb);
	ivshm_chan_close(ca2);
	ivshm_chan_close(cb2);
	connect_pair(w->a, w->b, 7, &ca, &cb);
	assert_int_equal(ca->entry, old_entry);
	ivshm_chan_close(ca);
	ivshm_chan_close(cb);
}

/* A new channel on the same port never connects to the peer's end of the old one. */
static void a_new_channel_never_joins_an_old_end(void **state)
{
	struct env *w = *state;
	struct ivshm_chan *ca, *cb, *ca2 = NULL;
	char buf[16];
	size_t len;

	connect_pair(w->a, w->b, 7, &ca, &cb);
	ivshm_chan_close(ca);
	/* B's old end is still OPEN and names A's epoch: A's new open must not take it. */
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &small, 300, &ca2), -ETIMEDOUT);
	assert_null(ca2);
	/* Nor does B's accept take A's old request (already answered). */
	assert_int_equal(ivshm_chan_accept(w->b, 7, &small, 100, &ca2), -ETIMEDOUT);
	assert_int_equal(ivshm_chan_recv(cb, buf, sizeof(buf), &len, 1000), -EPIPE);
	ivshm_chan_close(cb);
}

/* The accepting side takes requests on its own port only. */
static void accept_takes_its_port_only(void **state)
{
	struct env *w = *state;
	struct ivshm_chan_opts nb = small;
	struct ivshm_chan *ca = NULL, *cb = NULL;

	nb.flags = IVSHM_CHAN_NONBLOCK;
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 8, &nb, 0, &ca), -EINPROGRESS);
	assert_int_equal(ivshm_chan_accept(w->b, 7, &small, 300, &cb), -ETIMEDOUT);
	assert_null(cb);
	assert_int_equal(ivshm_chan_accept(w->b, 8, &small, 5000, &cb), 0);
	assert_int_equal(ivshm_chan_send(ca, "8", 2, 0), 0);
	ivshm_chan_close(ca);
	ivshm_chan_close(cb);
}

/* Forge an entry in @dev's table, as its owner would (what a hostile owner can do). */
static void forge_entry(struct ivshm_dev *dev, unsigned int i, const struct ivshm_shm_chan *val)
{
	struct ivshm_region *r = &dev->region;
	struct ivshm_shm_chan *e = ivshm__entry_at(r, (unsigned int)r->slot, i);
	uint32_t seq = ivshm_load_relaxed(&e->seq) & ~1u;

	ivshm_seq_write_begin(&e->seq, &seq);
	memcpy((char *)e + 4, (const char *)val + 4, sizeof(*val) - 4);
	ivshm_seq_write_end(&e->seq, &seq);
}

static struct ivshm_shm_chan request_from(struct ivshm_dev *dev, unsigned int to, uint32_t port)
{
	return (struct ivshm_shm_chan){
		.state = IVSHM_SHM_CHAN_OPEN, .peer_id = to, .port = port,
		.type = IVSHM_SHM_CHAN_PACKET, .ring_size = 4096, .max_msg = 2040,
		.half_off = IVSHM_SHM_HEAP_OFF + 16 * IVSHM_SHM_PAGE, .epoch = dev->region.epoch,
	};
}

/* A request that names a stale incarnation of this peer, or answers nobody it may, is not taken. */
static void stale_and_forged_requests_are_not_taken(void **state)
{
	struct env *w = *state;
	struct ivshm_shm_chan e = request_from(w->b, A_ID, 7);
	struct ivshm_chan *ch = NULL;

	/* B "answers" an earlier incarnation of A. */
	e.peer_epoch = w->a->region.epoch ^ 1;
	forge_entry(w->b, 5, &e);
	assert_int_equal(ivshm_chan_accept(w->a, 7, &small, 100, &ch), -ETIMEDOUT);
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &small, 100, &ch), -ETIMEDOUT);
	assert_null(ch);
	/* It answers this incarnation, but another of A's entries. */
	e.peer_epoch = w->a->region.epoch;
	e.peer_entry = 30;
	forge_entry(w->b, 5, &e);
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &small, 100, &ch), -ETIMEDOUT);
	assert_null(ch);
}

/* A slot that claims this peer's own ID is a forgery: accept takes nothing from it. */
static void accept_ignores_a_forged_self(void **state)
{
	struct env *w = *state;
	struct ivshm_shm_slot *s;
	struct ivshm_chan *ch = NULL;
	uint64_t owner;

	/* C publishes, asks A for a channel, then rewrites its slot to claim A's ID. */
	assert_int_equal(ivshm_publish(w->c, "evil", 0, 0), 0);
	forge_entry(w->c, 0, &(struct ivshm_shm_chan){
		.state = IVSHM_SHM_CHAN_OPEN, .peer_id = A_ID, .port = 7,
		.type = IVSHM_SHM_CHAN_PACKET, .ring_size = 4096, .max_msg = 2040,
		.half_off = IVSHM_SHM_HEAP_OFF, .epoch = w->c->region.epoch });
	s = ivshm__slot_at(&w->c->region, (unsigned int)w->c->region.slot);
	owner = ivshm_load_relaxed(&s->owner);
	ivshm_store_relaxed(&s->owner, (owner & ~(uint64_t)UINT32_MAX) | (A_ID + 1));
	assert_int_equal(ivshm_chan_accept(w->a, 7, &small, 200, &ch), -ETIMEDOUT);
	assert_null(ch);
}

/* Take @dev's slot from under it, as a newcomer does that saw it dead. */
static void take_slot(struct ivshm_dev *dev)
{
	struct ivshm_shm_slot *s = ivshm__slot_at(&dev->region, (unsigned int)dev->region.slot);
	uint64_t owner = ivshm_load_relaxed(&s->owner);

	assert_true(ivshm_cas(&s->owner, &owner, ((owner >> 32) + 1) << 32 | (C_ID + 1)));
}

struct slow_open {
	struct ivshm_dev *dev;
	int err;
	struct ivshm_chan *ch;
};

static void *open_to_nobody(void *arg)
{
	struct slow_open *o = arg;

	o->err = ivshm_chan_open(o->dev, B_ID, 9, &small, 3000, &o->ch);
	return NULL;
}

/* A slot lost while opening: the open ends with -ENOTCONN, and writes nothing. */
static void losing_the_slot_while_opening(void **state)
{
	struct env *w = *state;
	struct slow_open o = { .dev = w->a };
	struct ivshm_shm_chan e = request_from(w->b, A_ID, 9);
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, open_to_nobody, &o), 0);
	ivshm_clock_sleep_ms(50);
	take_slot(w->a);
	/* The peer answers after the loss: connecting would write through a lost slot. */
	e.peer_epoch = w->a->region.epoch;
	forge_entry(w->b, 3, &e);
	ivshm_trigger(w->b, A_ID, 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(o.err, -ENOTCONN);
	assert_null(o.ch);
	assert_int_equal(ivshm_heartbeat(w->a), -ENOTCONN);
}

/*
 * A peer that paused and lost its slot: every call on its channels fails,
 * its heartbeat says so, and nothing it sends lands in the newcomer's channel.
 */
static void a_lost_slot_ends_its_channels(void **state)
{
	struct env *w = *state;
	struct ivshm_chan *ca, *cb, *cc, *cb2;
	char buf[16];
	size_t len;
	void *p;

	connect_pair(w->a, w->b, 7, &ca, &cb);
	/* C claims A's slot (A paused), publishes under it and opens to B on A's port. */
	take_slot(w->a);
	assert_int_equal(ivshm_chan_send(ca, "lost", 5, 0), -ENOTCONN);
	assert_int_equal(ivshm_chan_recv(ca, buf, sizeof(buf), &len, 0), -ENOTCONN);
	assert_int_equal(ivshm_chan_reserve(ca, 4, &p, 0), -ENOTCONN);
	assert_int_equal(ivshm_heartbeat(w->a), -ENOTCONN);
	assert_int_equal(ivshm_chan_send(ca, "lost", 5, 0), -ENOTCONN);
	/* B's end sees its peer's slot hold another incarnation. */
	assert_int_equal(ivshm_chan_recv(cb, buf, sizeof(buf), &len, 1000), -ECONNRESET);
	ivshm_chan_close(cb);
	/* Publishing again takes a slot anew (and resets every entry and half). */
	assert_int_equal(ivshm_publish(w->a, "a", 0, 0), 0);
	connect_pair(w->a, w->b, 7, &cc, &cb2);
	assert_int_equal(ivshm_chan_send(cc, "again", 6, 0), 0);
	assert_int_equal(ivshm_chan_recv(cb2, buf, sizeof(buf), &len, 1000), 0);
	assert_string_equal(buf, "again");
	/* The old handle is dead and closing it writes nothing into the new table. */
	ivshm_chan_close(ca);
	assert_int_equal(ivshm_chan_send(cc, "still", 6, 0), 0);
	assert_int_equal(ivshm_chan_recv(cb2, buf, sizeof(buf), &len, 1000), 0);
	assert_string_equal(buf, "still");
	ivshm_chan_close(cc);
	ivshm_chan_close(cb2);
}

/*
 * After a takeover and a new publication, two open channels never share a
 * half: nothing of the lost claim's bookkeeping (an end still open, a closed
 * end's half) survives into the new one.
 */
static void a_new_claim_starts_an_empty_heap(void **state)
{
	struct env *w = *state;
	struct ivshm_chan *x, *bx, *wa, *bw, *y, *by, *z, *bz;
	uint64_t oy, oz;

	connect_pair(w->a, w->b, 8, &wa, &bw);
	connect_pair(w->a, w->b, 7, &x, &bx);
	ivshm_chan_close(wa);
	ivshm_chan_close(bw);
	take_slot(w->a);
	assert_int_equal(ivshm_publish(w->a, "a", 0, 0), 0);
	connect_pair(w->a, w->b, 9, &y, &by);
	connect_pair(w->a, w->b, 10, &z, &bz);
	oy = w->a->region.ends[y->entry].half_off;
	oz = w->a->region.ends[z->entry].half_off;
	assert_true(oy + sizeof(struct ivshm_shm_half) + 4096 <= oz ||
		    oz + sizeof(struct ivshm_shm_half) + 4096 <= oy);
	ivshm_chan_close(x);
	ivshm_chan_close(bx);
	ivshm_chan_close(y);
	ivshm_chan_close(by);
	ivshm_chan_close(z);
	ivshm_chan_close(bz);
}

/* With every slot held, an open with timeout 0 returns at once: it never claims. */
static void open_with_timeout_0_never_waits(void **state)
{
	struct env *w = *state;
	struct ivshm_chan *ch = NULL;
	int64_t t0 = ivshm_clock_ms();

	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &small, 0, &ch), -ETIMEDOUT);
	take_slot(w->a);
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &small, 0, &ch), -ENOTCONN);
	assert_true(ivshm_clock_ms() - t0 < 100);
}

/* An open to an ID nobody holds fails at once; one to a dead peer within its liveness bound. */
static void nobody_and_the_dead_fail_fast(void **state)
{
	struct env *w = *state;
	struct ivshm_chan *ch = NULL;
	int64_t t0 = ivshm_clock_ms();

	assert_int_equal(ivshm_chan_open(w->a, 77, 7, &small, 5000, &ch), -EHOSTUNREACH);
	assert_true(ivshm_clock_ms() - t0 < 100);
	/* B's VM goes away: the server says so. */
	mem_server_set(B_ID, false);
	t0 = ivshm_clock_ms();
	assert_int_equal(ivshm_chan_open(w->a, B_ID, 7, &small, 5000, &ch), -EHOSTDOWN);
	assert_true(ivshm_clock_ms() - t0 < 100);
	/* C is connected and published, but stops beating: dead within about a second. */
	mem_server_set(B_ID, true);
	assert_int_equal(ivshm_publish(w->c, "c", 0, 0), 0);
	w->c->region.hb_next_ms = INT64_MAX;
	t0 = ivshm_clock_ms();
	assert_int_equal(ivshm_chan_open(w->a, C_ID, 7, &small, 5000, &ch), -EHOSTDOWN);
	assert_true(ivshm_clock_ms() - t0 < 1500);
	assert_null(ch);
}

/*
 * Without a ticking server (QEMU's own), a first look cannot tell: an open to
 * a peer that died waits for its heartbeat to stand still, then -EHOSTDOWN.
 */
static void without_a_server_the_dead_fail_within_the_bound(void **state)
{
	struct env *w = *state;
	struct ivshm_chan *ch = NULL;
	int64_t t0;

	mem_server_stop();
	assert_int_equal(ivshm_publish(w->c, "c", 0, 0), 0);
	w->c->region.hb_next_ms = INT64_MAX;
	t0 = ivshm_clock_ms();
	assert_int_equal(ivshm_chan_open(w->a, C_ID, 7, &small, 5000, &ch), -EHOSTDOWN);
	assert_true(ivshm_clock_ms() - t0 >= 900 && ivshm_clock_ms() - t0 < 1500);
	assert_null(ch);
}

#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(close_then_reopen_at_once),
		T(a_closed_end_waits_for_its_peer),
		T(a_new_channel_never_joins_an_old_end),
		T(accept_takes_its_port_only),
		T(stale_and_forged_requests_are_not_taken),
		T(accept_ignores_a_forged_self),
		T(losing_the_slot_while_opening),
		T(a_lost_slot_ends_its_channels),
		T(a_new_claim_starts_an_empty_heap),
		T(open_with_timeout_0_never_waits),
		T(nobody_and_the_dead_fail_fast),
		T(without_a_server_the_dead_fail_within_the_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
