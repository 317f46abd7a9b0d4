// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Discovery never hands out the dead: what the server page, the server's tick
 * and the heartbeat say about a peer, at the first look and later; lookups
 * that fail at once instead of waiting; claims that prefer free slots to a
 * paused peer's, and that two claimers never both win.
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
#include "clock.h"
#include "internal.h"
#include "world.h"

#define SIZE (4u << 20)

struct lenv {
	struct world *w;
	struct ivshm_dev *a, *b;	/* peers 1 and 2, not published, no server */
	char *mem;
};

static int setup(void **state)
{
	struct lenv *e = calloc(1, sizeof(*e));

	if (!e || !(e->w = world_new(SIZE, 2, 0)))
		return -1;
	e->a = e->w->peer[0];
	e->b = e->w->peer[1];
	e->mem = e->w->mem;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct lenv *e = *state;

	/* A test that swapped a handle keeps world's copy current. */
	e->w->peer[0] = e->a;
	e->w->peer[1] = e->b;
	world_free(e->w);
	free(e);
	return 0;
}

/* B stops calling libivshm: its heartbeat stands still from now on. */
static void freeze(struct ivshm_dev *dev)
{
	dev->region.hb_next_ms = INT64_MAX;
}

static void with_a_ticking_server_the_first_look_decides(void **state)
{
	struct lenv *w = *state;
	struct ivshm_peer p;

	assert_int_equal(mem_server_start(w->mem, 10), 0);
	assert_int_equal(ivshm_publish(w->b, "srv", 0, 0), 0);
	assert_int_equal(ivshm_find_peer(w->a, "srv", 0, &p), 0);
	assert_int_equal(p.id, 2);
	/* B goes silent: a reader that never looked before sees it dead after a second. */
	freeze(w->b);
	ivshm_clock_sleep_ms(1200);
	{
		struct ivshm_dev *fresh = mem_dev_open(w->mem, SIZE, 3, 2);

		assert_non_null(fresh);
		assert_int_equal(ivshm_find_peer(fresh, "srv", 0, &p), -ENOENT);
		assert_int_equal(ivshm_get_peer(fresh, 2, &p), 0);
		assert_int_equal(p.state, IVSHM_PEER_DEAD);
		ivshm_close(fresh);
	}
}

/*
 * Peers so busy that no call of theirs ever waits (so no nap beats for them)
 * are alive for others all the same: open, accept and calls that go on at
 * once beat when due. Short channels, opened and accepted back to back, as a
 * server under a stream of connections sees them: without that, the accepting
 * peer was dead for the opener after a second (EHOSTDOWN, 070's 10,000 cycles).
 */
static void busy_peers_that_never_wait_stay_alive(void **state)
{
	static const struct ivshm_chan_opts nb = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096,
						   .flags = IVSHM_CHAN_NONBLOCK };
	static const struct ivshm_chan_opts o = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096 };
	struct lenv *w = *state;
	struct ivshm_chan *ca, *cb;
	struct ivshm_dev *fresh;
	struct ivshm_peer p;
	uint64_t v = 0, got;
	int64_t end;
	size_t len;
	int err, k, cycles = 0;

	assert_int_equal(mem_server_start(w->mem, 10), 0);
	assert_int_equal(ivshm_publish(w->a, "a", 0, 0), 0);
	assert_int_equal(ivshm_publish(w->b, "b", 0, 0), 0);
	end = ivshm_clock_ms() + 1500;
	while (ivshm_clock_ms() < end) {
		err = ivshm_chan_open(w->a, 2, 5, &nb, 0, &ca);
		assert_true(err == 0 || err == -EINPROGRESS);
		assert_int_equal(ivshm_chan_accept(w->b, 5, &o, 0, &cb), 0);
		for (k = 0; k < 3; k++)
			assert_int_equal(ivshm_chan_send(ca, &v, sizeof(v), 0), 0);
		ivshm_chan_close(ca);
		for (k = 0; k < 3; k++) {
			assert_int_equal(ivshm_chan_recv(cb, &got, sizeof(got), &len, 0), 0);
			assert_int_equal(got, v);
		}
		assert_int_equal(ivshm_chan_recv(cb, &got, sizeof(got), &len, 0), -EPIPE);
		ivshm_chan_close(cb);
		v++;
		cycles++;
	}
	print_message("%d channels in 1.5 s, none waited\n", cycles);
	fresh = mem_dev_open(w->mem, SIZE, 3, 2);
	assert_non_null(fresh);
	assert_int_equal(ivshm_get_peer(fresh, 1, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
	assert_int_equal(ivshm_get_peer(fresh, 2, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
	ivshm_close(fresh);
}

static void the_server_saying_gone_is_dead_at_once(void **state)
{
	struct lenv *w = *state;
	struct ivshm_peer p;
	int64_t t0;

	assert_int_equal(mem_server_start(w->mem, 10), 0);
	assert_int_equal(ivshm_publish(w->b, "srv", 0, 0), 0);
	mem_server_set(2, false);
	t0 = ivshm_clock_ms();
	assert_int_equal(ivshm_find_peer(w->a, "srv", 300, &p), -ETIMEDOUT);
	assert_int_equal(ivshm_get_peer(w->a, 2, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_DEAD);
	assert_true(ivshm_clock_ms() - t0 < 1000);
}

/*
 * Without a ticking server (QEMU's own): a first look cannot tell, so
 * discovery waits for a sign of life: it finds a live peer once its heartbeat
 * moved, and never returns one whose heartbeat stands still.
 */
static void without_a_server_discovery_waits_for_a_sign_of_life(void **state)
{
	struct lenv *w = *state;
	struct ivshm_peer p;
	int64_t t0;

	assert_int_equal(ivshm_publish(w->b, "srv", 0, 0), 0);
	/* A look that cannot wait finds nobody it can vouch for. */
	assert_int_equal(ivshm_find_peer(w->a, "srv", 0, &p), -ENOENT);
	/* B beats (any waiting call does): found within a heartbeat period or so. */
	ivshm_clock_sleep_ms(300);
	assert_int_equal(ivshm_heartbeat(w->b), 0);
	t0 = ivshm_clock_ms();
	assert_int_equal(ivshm_find_peer(w->a, "srv", 2000, &p), 0);
	assert_true(ivshm_clock_ms() - t0 < 500);
	/* A peer killed (it never beats again) is never returned, however long we wait. */
	freeze(w->b);
	ivshm_close(w->a);
	w->a = mem_dev_open(w->mem, SIZE, 1, 2);
	assert_non_null(w->a);
	assert_int_equal(ivshm_find_peer(w->a, "srv", 1500, &p), -ETIMEDOUT);
}

/* A server killed without withdrawing its page: its tick stands still, and is not believed. */
static void a_frozen_tick_is_not_believed(void **state)
{
	struct lenv *w = *state;
	struct ivshm_peer p;

	assert_int_equal(mem_server_start(w->mem, 10), 0);
	assert_int_equal(ivshm_publish(w->b, "srv", 0, 0), 0);
	assert_int_equal(ivshm_find_peer(w->a, "srv", 0, &p), 0);
	/* Server and B stop together; the page says B is connected, forever. */
	mem_server_freeze(true);
	freeze(w->b);
	/* Believed for a few of its periods (a tick is not a clock), then no longer. */
	ivshm_clock_sleep_ms(600);
	assert_int_equal(ivshm_find_peer(w->a, "srv", 2000, &p), -ETIMEDOUT);
	assert_int_equal(ivshm_get_peer(w->a, 2, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_DEAD);
}

static void bad_lookups_fail_at_once(void **state)
{
	struct lenv *w = *state;
	struct ivshm_peer p;
	int64_t t0 = ivshm_clock_ms();

	assert_int_equal(ivshm_find_peer(w->a, "", 5000, &p), -EINVAL);
	assert_int_equal(ivshm_find_peer(w->a, "has blank", 5000, &p), -EINVAL);
	assert_int_equal(ivshm_find_peer(w->a, "01234567890123456789012345678901234", 5000, &p),
			 -EINVAL);
	assert_int_equal(ivshm_find_peer(w->a, NULL, 5000, &p), -EINVAL);
	assert_int_equal(ivshm_find_peer(w->a, "nobody", 0, &p), -ENOENT);
	assert_true(ivshm_clock_ms() - t0 < 100);
	assert_int_equal(ivshm_find_peer(w->a, "nobody", 100, &p), -ETIMEDOUT);
	/* The device has 2 vectors: a publication asking to be rung on a third is refused. */
	assert_int_equal(ivshm_publish(w->a, "a", 2, 0), -EINVAL);
	assert_int_equal(ivshm_publish(w->a, "a", 1, 0), 0);
}

/* A newcomer takes a free slot before a paused (dead-looking) peer's. */
static void a_claim_prefers_a_free_slot(void **state)
{
	struct lenv *w = *state;
	struct ivshm_dev *c;

	assert_int_equal(mem_server_start(w->mem, 10), 0);
	assert_int_equal(ivshm_publish(w->b, "paused", 0, 0), 0);
	freeze(w->b);
	ivshm_clock_sleep_ms(1200);
	c = mem_dev_open(w->mem, SIZE, 3, 2);
	assert_non_null(c);
	assert_int_equal(ivshm_publish(c, "c", 0, 0), 0);
	assert_int_not_equal(c->region.slot, w->b->region.slot);
	/* The paused peer comes back to find its slot still its own. */
	w->b->region.hb_next_ms = 0;
	assert_int_equal(ivshm_heartbeat(w->b), 0);
	ivshm_close(c);
}

/* A holder that died mid-rewrite (its sequence word stays odd) is reclaimed, by its heartbeat. */
static void a_holder_dead_mid_write_is_reclaimed(void **state)
{
	struct lenv *w = *state;
	struct ivshm_region r[5];
	struct ivshm_shm_slot *s;
	unsigned int i;

	/* 1 MiB: four slots, all held; the one in slot 1 dies while rewriting. */
	memset(w->mem, 0, 1 << 20);
	for (i = 0; i < 5; i++)
		assert_int_equal(ivshm__region_init(&r[i], w->mem, 1 << 20, (int)(10 + i)), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(ivshm__publish(&r[i], "p", 0, 0), 0);
	s = ivshm__slot_at(&r[0], 1);
	ivshm_store_relaxed(&s->seq, s->seq | 1);
	/* The others keep beating while the claimer watches (their period is long). */
	for (i = 0; i < 4; i++)
		if (i != 1) {
			struct ivshm_shm_slot *o = ivshm__slot_at(&r[0], i);

			o->seq++;
			o->hb_period_ms = 60000;
			o->seq++;
		}
	assert_int_equal(ivshm__publish(&r[4], "p", 0, 0), 0);
	assert_int_equal(r[4].slot, 1);
}

struct claimer {
	struct ivshm_region r;
	pthread_barrier_t *start;
	int won;
};

static void *claim_one(void *arg)
{
	struct claimer *c = arg;

	pthread_barrier_wait(c->start);
	c->won = ivshm__claim(&c->r, ivshm_clock_ms()) == 0;
	return NULL;
}

/*
 * Claimers racing for the one slot a peer left: exactly one wins, every time.
 * A left slot (not a never used one) makes each claimer read the slot between
 * its look at the owner word and its swap, so the race is there to lose.
 */
static void two_claimers_never_both_win(void **state)
{
	struct lenv *w = *state;
	struct ivshm_region held[4];
	struct claimer c[4];
	pthread_barrier_t start;
	pthread_t t[4];
	int round, i, wins;

	for (round = 0; round < 3000; round++) {
		memset(w->mem, 0, 1 << 20);
		for (i = 0; i < 4; i++) {
			assert_int_equal(ivshm__region_init(&held[i], w->mem, 1 << 20, 20 + i), 0);
			assert_int_equal(ivshm__publish(&held[i], "h", 0, 0), 0);
			ivshm__slot_at(&held[0], (unsigned int)i)->seq++;
			ivshm__slot_at(&held[0], (unsigned int)i)->hb_period_ms = 60000;
			ivshm__slot_at(&held[0], (unsigned int)i)->seq++;
		}
		assert_int_equal(ivshm__unpublish(&held[3]), 0);
		assert_int_equal(pthread_barrier_init(&start, NULL, 4), 0);
		for (i = 0; i < 4; i++) {
			assert_int_equal(ivshm__region_init(&c[i].r, w->mem, 1 << 20, 30 + i), 0);
			c[i].start = &start;
			assert_int_equal(pthread_create(&t[i], NULL, claim_one, &c[i]), 0);
		}
		for (i = 0, wins = 0; i < 4; i++) {
			assert_int_equal(pthread_join(t[i], NULL), 0);
			wins += c[i].won;
		}
		pthread_barrier_destroy(&start);
		assert_int_equal(wins, 1);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(with_a_ticking_server_the_first_look_decides),
		T(busy_peers_that_never_wait_stay_alive),
		T(the_server_saying_gone_is_dead_at_once),
		T(without_a_server_discovery_waits_for_a_sign_of_life),
		T(a_frozen_tick_is_not_believed),
		T(bad_lookups_fail_at_once),
		T(a_claim_prefers_a_free_slot),
		T(a_holder_dead_mid_write_is_reclaimed),
		T(two_claimers_never_both_win),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
