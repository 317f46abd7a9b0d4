// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Whether a published peer is still there. Three witnesses, best first:
 *   - the doorbell server's page (ivshmd): which peer IDs are connected, so a
 *     peer whose VM or process went away is dead at once;
 *   - the server's tick next to the peer's hb_tick: the tick the peer saw at
 *     its last heartbeat, so a reader tells at its first look whether the
 *     peer beat within the last second;
 *   - without a ticking server (QEMU's own), the heartbeat watched on our own
 *     clock: alive once it moved, dead once it stood still for a second, and
 *     unsure at the first look.
 * Peers share no clock; everything they write is loaded once and is only
 * compared, never trusted as a count of anything.
 */
#include <string.h>

#include "barrier.h"
#include "clock.h"
#include "internal.h"
#include "seqlock.h"

/* A tick that stood still this many of its periods is a stopped server. */
#define TICK_STALE_PERIODS 5
#define TICK_STALE_MIN_MS  500

static const struct ivshm_shm_server *server_page(const struct ivshm_region *r)
{
	return (const struct ivshm_shm_server *)(r->base + IVSHM_SHM_SERVER_OFF);
}

/*
 * The server's tick and its period, or 0 when there is no ticking server or
 * its tick stood still long enough (on our clock) that it stopped without
 * withdrawing the page. A tick seen for the first time counts as running.
 */
static uint32_t live_tick(struct ivshm_region *r, uint32_t *tick_ms)
{
	const struct ivshm_shm_server *sp = server_page(r);
	struct ivshm_tick_watch *w = &r->tick;
	uint32_t tick, period;
	int64_t now, stale;

	if (ivshm_load_relaxed(&sp->magic) != IVSHM_SHM_SERVER_MAGIC)
		return 0;
	period = ivshm_load_relaxed(&sp->tick_ms);
	tick = ivshm_load_acquire(&sp->tick);
	if (!period || !tick || period > 60000)
		return 0;
	now = ivshm_clock_ms();
	if (!w->seen || w->tick != tick) {
		w->seen = 1;
		w->tick = tick;
		w->since_ms = now;
	}
	stale = (int64_t)period * TICK_STALE_PERIODS;
	if (stale < TICK_STALE_MIN_MS)
		stale = TICK_STALE_MIN_MS;
	if (now - w->since_ms > stale)
		return 0;
	*tick_ms = period;
	return tick;
}

uint32_t ivshm__server_tick(struct ivshm_region *r)
{
	uint32_t period;

	return live_tick(r, &period);
}

/* The page's bit for @id: 1, 0, or -1 (no page, a page being rewritten, an ID it lacks). */
static int page_says(struct ivshm_region *r, unsigned int id)
{
	const struct ivshm_shm_server *sp = server_page(r);
	uint32_t seq, word, period;

	if (ivshm_load_relaxed(&sp->magic) != IVSHM_SHM_SERVER_MAGIC ||
	    ivshm_load_relaxed(&sp->nr_ids) != IVSHM_SHM_SERVER_IDS || id >= IVSHM_SHM_SERVER_IDS)
		return -1;
	/* A page whose server ticked once and stopped is stale: its bits too. */
	if (ivshm_load_relaxed(&sp->tick_ms) && !live_tick(r, &period))
		return -1;
	seq = ivshm_load_acquire(&sp->seq);
	word = ivshm_load_relaxed(&sp->live[id / 32]);
	/* The word's load before the second load of seq. */
	ivshm_fence_acquire();
	if ((seq & 1) || ivshm_load_relaxed(&sp->seq) != seq)
		return -1;
	return !!(word & (UINT32_C(1) << (id % 32)));
}

int ivshm__peer_connected(struct ivshm_region *r, unsigned int id)
{
	struct ivshm_dev *dev = r->dev;
	int says = page_says(r, id);

	if (says >= 0)
		return says;
	if (dev && dev->ops->peer_present)
		return dev->ops->peer_present(dev, id);
	return -1;
}

static enum ivshm_life life(struct ivshm_region *r, unsigned int i, uint64_t owner,
			   uint64_t epoch, uint32_t hb_period_ms, int use_tick)
{
	const struct ivshm_shm_slot *s = ivshm__slot_at(r, i);
	struct ivshm_watch *w = &r->watch[i];
	int64_t now = ivshm_clock_ms(), bound;
	uint32_t tick, period = 0, hb_tick;
	uint64_t hb;

	if (ivshm__peer_connected(r, IVSHM_SHM_OWNER_ID(owner)) == 0)
		return IVSHM_LIFE_DEAD;
	bound = (int64_t)hb_period_ms * IVSHM_DEAD_PERIODS;
	/* The tick before the peer's word: a tick that moves on after we load it only ages the peer. */
	tick = use_tick ? live_tick(r, &period) : 0;
	hb_tick = ivshm_load_acquire(&s->hb_tick);
	hb = ivshm_load_relaxed(&s->heartbeat);
	if (!w->seen || w->owner != owner || w->epoch != epoch) {
		memset(w, 0, sizeof(*w));
		w->seen = 1;
		w->owner = owner;
		w->epoch = epoch;
		w->heartbeat = hb;
		w->since_ms = now;
	} else if (w->heartbeat != hb) {
		w->heartbeat = hb;
		w->since_ms = now;
		w->moved = 1;
	}
	if (tick && hb_tick) {
		/* Unsigned: right across the wrap; a peer ahead of the server looks young. */
		uint32_t age = tick - hb_tick;

		if (age > UINT32_MAX / 2)
			age = 0;
		return (int64_t)age * period <= bound + period ? IVSHM_LIFE_ALIVE : IVSHM_LIFE_DEAD;
	}
	if (now - w->since_ms > bound)
		return IVSHM_LIFE_DEAD;
	return w->moved ? IVSHM_LIFE_ALIVE : IVSHM_LIFE_UNSURE;
}

enum ivshm_life ivshm__owner_life(struct ivshm_region *r, unsigned int i, uint64_t owner,
				  uint64_t epoch, uint32_t hb_period_ms)
{
	return life(r, i, owner, epoch, hb_period_ms, 1);
}

enum ivshm_life ivshm__claimer_life(struct ivshm_region *r, unsigned int i, uint64_t owner)
{
	return life(r, i, owner, 0, IVSHM_HEARTBEAT_MS, 0);
}
