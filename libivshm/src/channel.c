// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Channels (contracts/ivshm-shm.h): each end writes one entry in its own
 * channel table, its own half (indices and send ring) in its own arena, and
 * nothing else. Connecting copies the peer's entry once and keeps the checked
 * copy; afterwards only the peer's indices and records are read, each loaded
 * once. Sleeping ends advertise it in their half, and the other end rings only
 * then (the store-fence-load pattern on both sides: one of the two always sees
 * the other).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "clock.h"
#include "internal.h"

#define MIN_RING          IVSHM__MIN_RING
#define DEFAULT_SPIN_US   50u
/* Hybrid: the spin grows while sleeps stay this short, and shrinks after longer ones. */
#define MAX_SPIN_US       1000u
/* Non-blocking calls that find nothing look at the clock (for the peer's liveness) once per this many. */
#define IDLE_CHECK_CALLS  1024u
/* A waiting end looks at the peer's liveness at least this often. */
#define CHECK_MS          50
/* Busy loops read the clock once per this many turns. */
#define SPIN_BATCH        64

enum dir { RX, TX };

struct ivshm_chan {
	struct ivshm_dev *dev;
	struct ivshm_region *r;
	unsigned int entry;		/* ours, in our table */
	struct ivshm_shm_chan mine;	/* what we published there */
	uint32_t ent_seq;
	struct ivshm_shm_half *half;	/* ours */
	char *tx;
	uint32_t tx_size, prod;		/* private copies of what we published */
	uint32_t cons;
	uint32_t rx_wait, tx_wait;
	int armed[2];

	/* The peer's end, checked when we connected; never read again from memory. */
	unsigned int peer_id, peer_slot, peer_entry;
	struct ivshm_shm_chan theirs;
	const struct ivshm_shm_half *peer_half;
	const char *rx;
	uint32_t seen_prod, seen_cons;	/* the peer's indices as last seen: they only grow */
	uint32_t checked_prod, checked_cons;	/* ... at the last liveness check */
	uint32_t peer_seq;		/* the peer entry's sequence word as last checked */
	unsigned int ops;		/* calls since our last heartbeat check */
	uint32_t rung[2];		/* the peer's wait words we already rang for */

	size_t reserved;		/* payload bytes reserved, 0 for none */
	int err;			/* sticky: the channel is broken */
	int peer_closed;
	int64_t next_check_ms;
	enum ivshm_wait_mode wait;
	unsigned int spin_us;		/* hybrid: the spin the application asked for */
	unsigned int spin_cur;		/* hybrid: the spin now, adapted to the peer's pace */
	unsigned int idle_calls;
	struct ivshm_chan_stats st;
};

static struct ivshm_shm_chan *entry_at(const struct ivshm_region *r, unsigned int slot,
				       unsigned int i)
{
	return (struct ivshm_shm_chan *)(ivshm__arena_at(r, slot) + IVSHM_SHM_CHAN_OFF +
					 (size_t)i * IVSHM_SHM_CHAN_SIZE);
}

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* The defaults filled in and every option checked. */
static int opts_resolve(const struct ivshm_dev *dev, const struct ivshm_chan_opts *in,
			struct ivshm_chan_opts *o)
{
	static const struct ivshm_chan_opts defaults = { .type = IVSHM_CHAN_PACKET };

	*o = in ? *in : defaults;
	if (!o->type)
		o->type = IVSHM_CHAN_PACKET;
	if (!o->ring_size)
		o->ring_size = ivshm__default_ring(&dev->region);
	if (!o->spin_us)
		o->spin_us = DEFAULT_SPIN_US;
	if (o->type != IVSHM_CHAN_PACKET && o->type != IVSHM_CHAN_STREAM)
		return -EINVAL;
	if (!is_pow2(o->ring_size) || o->ring_size < MIN_RING)
		return -EINVAL;
	if (o->type == IVSHM_CHAN_PACKET) {
		if (!o->max_msg)
			o->max_msg = o->ring_size / 2 - sizeof(struct ivshm_shm_rec);
		if (o->max_msg > o->ring_size / 2 - sizeof(struct ivshm_shm_rec))
			return -EINVAL;
	} else {
		o->max_msg = 0;
	}
	if (o->wait > IVSHM_WAIT_HYBRID || o->vector >= dev->nr_vectors)
		return -EINVAL;
	return 0;
}

/*
 * A table entry and a half for a new channel in our arena: a free entry, or
 * one whose channel is closed and no longer used by its old peer. Returns 0
 * with @e filled for writing, or -ENOSPC.
 */
static int alloc_end(struct ivshm_region *r, uint32_t ring_size, unsigned int *entry)
{
	uint64_t need = sizeof(struct ivshm_shm_half) + ring_size;
	unsigned int i, open = 0;

	for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++)
		open += r->chans[i] != NULL;
	/* With nothing open, the whole heap is free again. */
	if (!open) {
		r->heap_next = IVSHM_SHM_HEAP_OFF;
		memset(r->half_size, 0, sizeof(r->half_size));
	}
	for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++) {
		if (r->chans[i])
			continue;
		if (r->half_size[i] >= need)
			break;
		if (r->half_size[i] == 0 && r->heap_next + need <= r->l.arena_size) {
			r->half_off[i] = r->heap_next;
			r->half_size[i] = need;
			/* Halves start on a page: the ring then never shares a line with another. */
			r->heap_next = (r->heap_next + need + IVSHM_SHM_PAGE - 1) &
				       ~(uint64_t)(IVSHM_SHM_PAGE - 1);
			break;
		}
	}
	if (i == IVSHM_SHM_MAX_CHANS) {
		ivshm__log(LOG_DEBUG, "no room for a %u-byte ring in this peer's arena of %llu bytes",
			   ring_size, (unsigned long long)r->l.arena_size);
		return -ENOSPC;
	}
	*entry = i;
	return 0;
}

static void publish_entry(struct ivshm_chan *ch)
{
	ivshm__seq_write(entry_at(ch->r, (unsigned int)ch->r->slot, ch->entry), &ch->mine,
			 sizeof(ch->mine), &ch->ent_seq);
}

/* Our end, written and visible (state OPEN, not yet connected). */
static int new_end(struct ivshm_dev *dev, unsigned int peer, uint32_t port,
		   const struct ivshm_chan_opts *o, struct ivshm_chan **chp)
{
	struct ivshm_region *r = &dev->region;
	struct ivshm_chan *ch;
	unsigned int entry;
	int err;

	if (dev->region_err)
		return dev->region_err;
	if (!r->published || ivshm__claim(r) || r->slot < 0) {
		ivshm__log(LOG_DEBUG, "publish this peer before opening channels");
		return -ENOTCONN;
	}
	err = alloc_end(r, o->ring_size, &entry);
	if (err)
		return err;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->dev = dev;
	ch->r = r;
	ch->entry = entry;
	ch->half = (struct ivshm_shm_half *)(ivshm__arena_at(r, (unsigned int)r->slot) +
					     r->half_off[entry]);
	ch->tx = (char *)(ch->half + 1);
	ch->tx_size = o->ring_size;
	ch->peer_id = peer;
	ch->wait = o->wait;
	ch->spin_us = ch->spin_cur = o->spin_us;
	/* Indices from zero before the entry points at the half. */
	memset(ch->half, 0, sizeof(*ch->half));
	ch->mine = (struct ivshm_shm_chan){
		.state = IVSHM_SHM_CHAN_OPEN,
		.peer_id = peer,
		.port = port,
		.type = o->type,
		.vector = o->vector,
		.ring_size = o->ring_size,
		.max_msg = o->max_msg,
		.half_off = r->half_off[entry],
		.epoch = r->epoch,
	};
	ch->ent_seq = __atomic_load_n(&entry_at(r, (unsigned int)r->slot, entry)->seq,
				      __ATOMIC_RELAXED) & ~1u;
	publish_entry(ch);
	r->chans[entry] = ch;
	*chp = ch;
	return 0;
}

static void drop_end(struct ivshm_chan *ch, uint32_t state)
{
	ch->mine.state = state;
	if (ch->r->slot >= 0)
		publish_entry(ch);
	ch->r->chans[ch->entry] = NULL;
	free(ch);
}

/*
 * Check the peer's entry @e (a private copy) for a channel to us on @port,
 * by the peer incarnation @epoch in slot @slot. Returns 1 when it matches and
 * is well-formed, 0 when it is not for us, -EPROTOTYPE, or -EPROTO (logged).
 */
static int entry_fits(const struct ivshm_chan *ch, const struct ivshm_shm_chan *e,
		      uint32_t port, uint64_t epoch)
{
	const struct ivshm_region *r = ch->r;
	uint64_t end;

	if (e->state != IVSHM_SHM_CHAN_OPEN || e->peer_id != (uint32_t)r->self_id ||
	    e->port != port || e->epoch != epoch)
		return 0;
	/* Connected to an earlier incarnation of ours: stale until the peer notices. */
	if (e->peer_epoch && e->peer_epoch != r->epoch)
		return 0;
	if (e->type != ch->mine.type) {
		ivshm__log(LOG_DEBUG, "peer %u port %u: a %s channel, ours is %s", ch->peer_id, port,
			   e->type == IVSHM_SHM_CHAN_STREAM ? "stream" : "packet",
			   ch->mine.type == IVSHM_SHM_CHAN_STREAM ? "stream" : "packet");
		return -EPROTOTYPE;
	}
	end = e->half_off + sizeof(struct ivshm_shm_half) + (uint64_t)e->ring_size;
	if (e->vector >= UIO_IVSHMEM_MAX_VECTORS || !is_pow2(e->ring_size) ||
	    e->ring_size < MIN_RING || e->half_off < IVSHM_SHM_HEAP_OFF ||
	    e->half_off % IVSHM_SHM_CACHELINE || e->half_off > r->l.arena_size ||
	    end > r->l.arena_size ||
	    (e->type == IVSHM_SHM_CHAN_PACKET &&
	     (e->max_msg == 0 || e->max_msg > e->ring_size / 2 - sizeof(struct ivshm_shm_rec)))) {
		ivshm__log(LOG_ERR, "peer %u port %u: malformed channel entry (ring %u at %llu, "
			   "max %u, vector %u)", ch->peer_id, port, e->ring_size,
			   (unsigned long long)e->half_off, e->max_msg, e->vector);
		return -EPROTO;
	}
	return 1;
}

/* Take the peer's end: keep the checked copy and point at its half. */
static void connect_to(struct ivshm_chan *ch, unsigned int slot, unsigned int i,
		       const struct ivshm_shm_chan *e)
{
	char *arena = ivshm__arena_at(ch->r, slot);

	ch->peer_slot = slot;
	ch->peer_entry = i;
	ch->theirs = *e;
	ch->peer_seq = e->seq;
	ch->peer_half = (const struct ivshm_shm_half *)(arena + e->half_off);
	ch->rx = (const char *)(ch->peer_half + 1);
	/* Both halves start at zero: the peer may have sent already, never more than a ring. */
	ch->seen_prod = 0;
	ch->seen_cons = 0;
	ch->mine.peer_epoch = e->epoch;
	publish_entry(ch);
	/* The peer may be sleeping in open or accept: tell it we are there. */
	if (!ivshm_trigger(ch->dev, ch->peer_id, e->vector))
		ch->st.doorbells++;
}

/*
 * Look once for the peer's end of our channel. Returns 1 (connected), 0 (not
 * there yet), or an error.
 */
static int try_connect(struct ivshm_chan *ch)
{
	struct ivshm_shm_chan e;
	struct ivshm_peer p;
	unsigned int slot, i;
	int err, fits;

	err = ivshm__lookup(ch->r, ch->peer_id, &p, &slot);
	if (err == -ENOENT || err == -EAGAIN || (!err && p.state != IVSHM_PEER_LIVE))
		return 0;
	if (err)
		return err;
	for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++) {
		if (ivshm__seq_copy(entry_at(ch->r, slot, i), &e, sizeof(e)))
			continue;
		fits = entry_fits(ch, &e, ch->mine.port, p.epoch);
		if (fits < 0)
			return fits;
		if (fits) {
			connect_to(ch, slot, i, &e);
			return 1;
		}
	}
	return 0;
}

/* Sleep until a doorbell, at most @ms, keeping our heartbeat. */
static int nap(struct ivshm_dev *dev, int ms)
{
	uint64_t fired, coalesced;
	int hb, err;

	ivshm__heartbeat(&dev->region, 0);
	hb = ivshm__heartbeat_due_ms(&dev->region);
	if (hb >= 0 && hb < ms)
		ms = hb > 0 ? hb : 1;
	if (dev->mode != IVSHM_MODE_DOORBELL) {
		ivshm_clock_sleep_ms((unsigned int)ms);
		return 0;
	}
	err = dev->ops->block(dev, ms);
	if (err)
		return err;
	/* Keep the device's report level: the channels look at their rings themselves. */
	return ivshm__consume(dev, &fired, &coalesced);
}

static int64_t deadline_of(int timeout_ms)
{
	return ivshm_clock_ms() + timeout_ms;
}

static int left_ms(int64_t deadline)
{
	int64_t left = deadline - ivshm_clock_ms();

	return left < 0 ? 0 : left > CHECK_MS ? CHECK_MS : (int)left;
}

int ivshm_chan_open(struct ivshm_dev *dev, unsigned int peer, uint32_t port,
		    const struct ivshm_chan_opts *opts, int timeout_ms, struct ivshm_chan **chp)
{
	struct ivshm_chan_opts o;
	struct ivshm_peer p;
	struct ivshm_chan *ch;
	int64_t deadline = deadline_of(timeout_ms);
	int err;

	if (!dev || !chp || timeout_ms < 0 || peer > IVSHMEM_MAX_PEER_ID ||
	    (int)peer == dev->peer_id)
		return -EINVAL;
	err = opts_resolve(dev, opts, &o);
	if (err)
		return err;
	err = new_end(dev, peer, port, &o, &ch);
	if (err)
		return err;
	/* An accepting peer sleeps: ring it. */
	if (!ivshm__lookup(ch->r, peer, &p, NULL) && p.state == IVSHM_PEER_LIVE &&
	    !ivshm_trigger(dev, peer, p.vector))
		ch->st.doorbells++;
	for (;;) {
		err = try_connect(ch);
		if (err == 1)
			break;
		if (!err && ivshm_clock_ms() >= deadline)
			err = -ETIMEDOUT;
		if (!err)
			err = nap(dev, left_ms(deadline) ? left_ms(deadline) : 1);
		if (err) {
			drop_end(ch, IVSHM_SHM_CHAN_FREE);
			return err;
		}
	}
	*chp = ch;
	return 0;
}

/* Whether we already have a channel with @peer on @port (accept must not take it twice). */
static int have_channel(const struct ivshm_region *r, unsigned int peer, uint32_t port)
{
	unsigned int i;

	for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++)
		if (r->chans[i] && r->chans[i]->peer_id == peer && r->chans[i]->mine.port == port)
			return 1;
	return 0;
}

/* One pass over the live peers' tables for a request to us on @port. */
static int accept_once(struct ivshm_dev *dev, uint32_t port, const struct ivshm_chan_opts *o,
		       struct ivshm_chan **chp)
{
	struct ivshm_region *r = &dev->region;
	struct ivshm_shm_chan e;
	struct ivshm_chan probe;
	struct ivshm_peer p;
	unsigned int slot, i;
	int err;

	memset(&probe, 0, sizeof(probe));
	probe.r = r;
	probe.mine.type = o->type;
	for (slot = 0; slot < r->l.dir_slots; slot++) {
		if ((int)slot == r->slot || ivshm__read_slot(r, slot, &p) ||
		    p.state != IVSHM_PEER_LIVE || have_channel(r, p.id, port))
			continue;
		probe.peer_id = p.id;
		for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++) {
			if (ivshm__seq_copy(entry_at(r, slot, i), &e, sizeof(e)))
				continue;
			/* A malformed request or the wrong type is the requester's problem. */
			if (entry_fits(&probe, &e, port, p.epoch) != 1)
				continue;
			err = new_end(dev, p.id, port, o, chp);
			if (err)
				return err;
			connect_to(*chp, slot, i, &e);
			return 1;
		}
	}
	return 0;
}

int ivshm_chan_accept(struct ivshm_dev *dev, uint32_t port, const struct ivshm_chan_opts *opts,
		      int timeout_ms, struct ivshm_chan **chp)
{
	struct ivshm_chan_opts o;
	int64_t deadline = deadline_of(timeout_ms);
	int err;

	if (!dev || !chp || timeout_ms < 0)
		return -EINVAL;
	err = opts_resolve(dev, opts, &o);
	if (err)
		return err;
	if (dev->region_err)
		return dev->region_err;
	if (!dev->region.published)
		return -ENOTCONN;
	for (;;) {
		err = accept_once(dev, port, &o, chp);
		if (err == 1)
			return 0;
		if (err)
			return err;
		if (ivshm_clock_ms() >= deadline)
			return -ETIMEDOUT;
		err = nap(dev, left_ms(deadline) ? left_ms(deadline) : 1);
		if (err)
			return err;
	}
}

void ivshm_chan_close(struct ivshm_chan *ch)
{
	if (!ch)
		return;
	/* A peer asleep on this channel wakes up to find it closed. */
	if (!ch->err && !ivshm_trigger(ch->dev, ch->peer_id, ch->theirs.vector))
		ch->st.doorbells++;
	drop_end(ch, IVSHM_SHM_CHAN_CLOSED);
}

/*
 * Whether the peer's end still stands: its slot holds the incarnation we
 * connected to, its entry still says what it said. Returns 0, or -EHOSTDOWN,
 * -ECONNRESET, -EPROTO (a rewrite); a clean close sets peer_closed.
 */
static int check_peer(struct ivshm_chan *ch)
{
	struct ivshm_shm_chan e, want;
	uint32_t prod, cons;
	struct ivshm_peer p;
	int err, moved;

	ch->next_check_ms = ivshm_clock_ms() + CHECK_MS;
	prod = __atomic_load_n(&ch->peer_half->prod, __ATOMIC_RELAXED);
	cons = __atomic_load_n(&ch->peer_half->cons, __ATOMIC_RELAXED);
	moved = prod != ch->checked_prod || cons != ch->checked_cons;
	ch->checked_prod = prod;
	ch->checked_cons = cons;
	err = ivshm__read_slot(ch->r, ch->peer_slot, &p);
	if (err == -EAGAIN)
		return 0;
	if (err || p.id != ch->peer_id || p.epoch != ch->theirs.epoch)
		return -ECONNRESET;
	/* A peer that moved its indices since the last look is alive, heartbeat or not. */
	if (p.state == IVSHM_PEER_DEAD && !moved)
		return -EHOSTDOWN;
	if (p.state == IVSHM_PEER_GONE) {
		ch->peer_closed = 1;
		return 0;
	}
	if (ivshm__seq_copy(entry_at(ch->r, ch->peer_slot, ch->peer_entry), &e, sizeof(e)))
		return 0;
	if (e.state == IVSHM_SHM_CHAN_CLOSED && e.epoch == ch->theirs.epoch) {
		ch->peer_closed = 1;
		return 0;
	}
	/* Everything but the sequence word and our epoch was fixed when it was published. */
	want = ch->theirs;
	want.seq = e.seq;
	want.peer_epoch = e.peer_epoch;
	if (memcmp(&want, &e, sizeof(e)) != 0 ||
	    (e.peer_epoch && e.peer_epoch != ch->r->epoch)) {
		ivshm__log(LOG_ERR, "peer %u port %u: it rewrote its published channel entry",
			   ch->peer_id, ch->theirs.port);
		return -EPROTO;
	}
	/* A legitimate rewrite (the peer noting our epoch): no need to look again. */
	ch->peer_seq = e.seq;
	return 0;
}

/* The peer's producer index, loaded once and checked: -EPROTO on a lie. */
static int peer_prod(struct ivshm_chan *ch, uint32_t *avail)
{
	uint32_t prod = __atomic_load_n(&ch->peer_half->prod, __ATOMIC_ACQUIRE);

	if ((int32_t)(prod - ch->seen_prod) < 0 ||
	    ivshm__ring_used(prod, ch->cons, ch->theirs.ring_size, avail)) {
		ivshm__log(LOG_ERR, "peer %u port %u: producer index %u (was %u, consumed %u, ring %u)",
			   ch->peer_id, ch->theirs.port, prod, ch->seen_prod, ch->cons,
			   ch->theirs.ring_size);
		return -EPROTO;
	}
	ch->seen_prod = prod;
	return 0;
}

/* Free bytes in our ring, from the peer's consumer index loaded once. */
static int peer_cons(struct ivshm_chan *ch, uint32_t *free)
{
	uint32_t cons = __atomic_load_n(&ch->peer_half->cons, __ATOMIC_ACQUIRE), used;

	if ((int32_t)(cons - ch->seen_cons) < 0 || ivshm__ring_used(ch->prod, cons, ch->tx_size, &used)) {
		ivshm__log(LOG_ERR, "peer %u port %u: consumer index %u (was %u, produced %u, ring %u)",
			   ch->peer_id, ch->theirs.port, cons, ch->seen_cons, ch->prod, ch->tx_size);
		return -EPROTO;
	}
	ch->seen_cons = cons;
	*free = ch->tx_size - used;
	return 0;
}

static int fail(struct ivshm_chan *ch, int err)
{
	if (err == -EPROTO || err == -ECONNRESET || err == -EHOSTDOWN)
		ch->err = err;
	return err;
}

/* Ring the peer if it sleeps on @d (its rx_wait for data we sent, tx_wait for room we made). */
static void kick(struct ivshm_chan *ch, enum dir d)
{
	const uint32_t *word = d == RX ? &ch->peer_half->rx_wait : &ch->peer_half->tx_wait;
	uint32_t w;

	/* Our index store before the load of its wait word; it does the mirror image. */
	atomic_thread_fence(memory_order_seq_cst);
	w = __atomic_load_n(word, __ATOMIC_RELAXED);
	if (!(w & 1) || w == ch->rung[d])
		return;
	ch->rung[d] = w;
	if (!ivshm_trigger(ch->dev, ch->peer_id, ch->theirs.vector))
		ch->st.doorbells++;
}

/*
 * Tell the peer we sleep on @d: a new odd wait word each time, since the
 * peer rings once per value; or that we no longer do (even).
 */
static void arm(struct ivshm_chan *ch, enum dir d, int on)
{
	uint32_t *word = d == RX ? &ch->half->rx_wait : &ch->half->tx_wait;
	uint32_t *mine = d == RX ? &ch->rx_wait : &ch->tx_wait;

	if (!on && !ch->armed[d])
		return;
	*mine += ch->armed[d] == on ? 2 : 1;
	ch->armed[d] = on;
	__atomic_store_n(word, *mine, __ATOMIC_RELAXED);
	/* The wait word before our next look at the peer's index. */
	if (on)
		atomic_thread_fence(memory_order_seq_cst);
}

/* Whether the condition we wait for holds: data to read, or @need bytes of room. */
static int ready(struct ivshm_chan *ch, enum dir d, uint32_t need)
{
	uint32_t n;

	if (d == RX)
		return __atomic_load_n(&ch->peer_half->prod, __ATOMIC_RELAXED) != ch->cons;
	n = ch->prod - __atomic_load_n(&ch->peer_half->cons, __ATOMIC_RELAXED);
	/* A lying index reads as ready: the next real look reports it. */
	return n > ch->tx_size || ch->tx_size - n >= need;
}

/*
 * Wait once for @d (need bytes of room for TX) until @deadline in the
 * channel's mode. Returns 0 (look again), -ETIMEDOUT, or an error of the peer.
 */
/*
 * Hybrid mode learns the peer's pace, as KVM's halt polling does: a sleep
 * shorter than the longest spin means spinning a little longer would have
 * caught the peer (and saved a doorbell and a wake-up on both sides): double
 * the spin. A longer sleep means the peer is slow or idle: halve it, down to
 * what the application asked for, so an idle end burns next to nothing.
 */
static void adapt_spin(struct ivshm_chan *ch, int64_t slept_us)
{
	if (slept_us < MAX_SPIN_US)
		ch->spin_cur = ch->spin_cur * 2 > MAX_SPIN_US ? MAX_SPIN_US : ch->spin_cur * 2;
	else if (ch->spin_cur / 2 >= ch->spin_us)
		ch->spin_cur /= 2;
	else
		ch->spin_cur = ch->spin_us;
}

static int wait_step(struct ivshm_chan *ch, enum dir d, uint32_t need, int64_t deadline)
{
	int64_t now = ivshm_clock_ms(), spin_end_us, slept_us;
	unsigned int turns = 0;
	int err;

	if (now >= deadline)
		return -ETIMEDOUT;
	if (now >= ch->next_check_ms) {
		err = check_peer(ch);
		if (err || ch->peer_closed)
			return err;
	}
	if (ch->wait != IVSHM_WAIT_INTERRUPT) {
		spin_end_us = ch->wait == IVSHM_WAIT_POLL ? INT64_MAX :
			      ivshm_clock_us() + ch->spin_cur;
		for (;;) {
			if (ready(ch, d, need))
				return 0;
			if (++turns % SPIN_BATCH)
				continue;
			now = ivshm_clock_us();
			if (now / 1000 >= deadline)
				return -ETIMEDOUT;
			if (now / 1000 >= ch->next_check_ms) {
				ivshm__heartbeat(ch->r, 0);
				err = check_peer(ch);
				if (err || ch->peer_closed)
					return err;
			}
			if (now >= spin_end_us)
				break;
		}
	}
	arm(ch, d, 1);
	if (!ready(ch, d, need)) {
		ch->st.sleeps++;
		slept_us = ivshm_clock_us();
		err = nap(ch->dev, left_ms(deadline) ? left_ms(deadline) : 1);
		if (err)
			return err;
		if (ch->wait == IVSHM_WAIT_HYBRID)
			adapt_spin(ch, ivshm_clock_us() - slept_us);
	}
	return 0;
}

/* One attempt of a call: 0, -EAGAIN to wait for @d (and @need bytes of room), or an error. */
struct attempt {
	int (*fn)(struct ivshm_chan *ch, struct attempt *a);
	enum dir d;
	uint32_t need;
	const void *src;
	void *dst;
	size_t len;
	size_t *done;
	void **slot;
};

/*
 * Attempt until it stops saying -EAGAIN or @timeout_ms passes, waiting for
 * the attempt's direction between tries. A non-blocking call in a sleeping
 * mode stays armed, so the peer rings the device fd.
 */
static int retry(struct ivshm_chan *ch, struct attempt *a, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	int err;

	for (;;) {
		err = a->fn(ch, a);
		if (err != -EAGAIN)
			break;
		if (timeout_ms == 0) {
			if (ch->wait != IVSHM_WAIT_POLL)
				arm(ch, a->d, 1);
			return fail(ch, err);
		}
		err = wait_step(ch, a->d, a->need, deadline);
		if (err)
			break;
	}
	arm(ch, a->d, 0);
	return fail(ch, err);
}

/*
 * Two loads that tell whether the peer left, closed or rewrote its end: its
 * entry's sequence word and its slot's state. Cheap enough for every call;
 * the full check follows a change.
 */
static int peer_moved(struct ivshm_chan *ch)
{
	const struct ivshm_shm_chan *e = entry_at(ch->r, ch->peer_slot, ch->peer_entry);
	const struct ivshm_shm_slot *s = (const struct ivshm_shm_slot *)
		(ch->r->base + ch->r->l.dir_off + (size_t)ch->peer_slot * IVSHM_SHM_SLOT_SIZE);

	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) != ch->peer_seq ||
	       __atomic_load_n(&s->state, __ATOMIC_RELAXED) != IVSHM_SHM_SLOT_LIVE;
}

/*
 * Whether a call that found nothing should look at the peer's liveness: the
 * waits do on their own clock; a caller that never waits (non-blocking, event
 * loops) is looked after once per IDLE_CHECK_CALLS such calls, not paying a
 * clock read on each.
 */
static int check_due(struct ivshm_chan *ch)
{
	return ++ch->idle_calls % IDLE_CHECK_CALLS == 0 && ivshm_clock_ms() >= ch->next_check_ms;
}

/* The peer's state when it may have changed: 0 (still there), -EPIPE or another end. */
static int peer_still_there(struct ivshm_chan *ch)
{
	int err;

	if (!ch->peer_closed && (peer_moved(ch) || check_due(ch))) {
		err = check_peer(ch);
		if (err)
			return err;
	}
	return ch->peer_closed ? -EPIPE : 0;
}

/* What an empty ring means: wait, or the peer is gone for good. */
static int empty(struct ivshm_chan *ch)
{
	int err;

	if (!ch->peer_closed && (peer_moved(ch) || check_due(ch))) {
		err = check_peer(ch);
		if (err)
			return err;
	}
	if (!ch->peer_closed)
		return -EAGAIN;
	/* Closed: whatever it sent before closing is still ours to read. */
	if (__atomic_load_n(&ch->peer_half->prod, __ATOMIC_ACQUIRE) != ch->cons)
		return -EAGAIN;
	return -EPIPE;
}

static int full(struct ivshm_chan *ch)
{
	int err = peer_still_there(ch);

	return err ? err : -EAGAIN;
}

/* A message (packet) or a call that moved bytes (stream), for ivshm_chan_get_stats(). */
static void count(struct ivshm_chan *ch, enum dir d, size_t bytes)
{
	if (d == RX) {
		ch->st.received++;
		ch->st.bytes_received += bytes;
	} else {
		ch->st.sent++;
		ch->st.bytes_sent += bytes;
	}
}

/* Busy ends beat too: every so many calls, if the period passed. */
static void beat(struct ivshm_chan *ch)
{
	if (++ch->ops % 256 == 0)
		ivshm__heartbeat(ch->r, 0);
}

static void consumed(struct ivshm_chan *ch, uint32_t bytes)
{
	beat(ch);
	ch->cons += bytes;
	__atomic_store_n(&ch->half->cons, ch->cons, __ATOMIC_RELEASE);
	kick(ch, TX);
}

static void produced(struct ivshm_chan *ch, uint32_t bytes)
{
	beat(ch);
	ch->prod += bytes;
	/* Data before the index: a peer that sees the index sees the data. */
	__atomic_store_n(&ch->half->prod, ch->prod, __ATOMIC_RELEASE);
	kick(ch, RX);
}

static int usable(const struct ivshm_chan *ch, enum ivshm_chan_type type)
{
	if (ch->err)
		return ch->err;
	return ch->mine.type == (uint32_t)type ? 0 : -EINVAL;
}

/* What every call does once its arguments are checked: a usable channel of @type, then the attempts. */
static int run(struct ivshm_chan *ch, enum ivshm_chan_type type, struct attempt *a, int timeout_ms)
{
	int err = usable(ch, type);

	if (err)
		return err;
	if (type == IVSHM_CHAN_STREAM && !a->len)
		return 0;
	/* A reservation holds our producer index until its commit. */
	if (type == IVSHM_CHAN_PACKET && a->d == TX) {
		if (ch->reserved)
			return -EBUSY;
		if (a->len > ch->mine.max_msg)
			return -EMSGSIZE;
	}
	return retry(ch, a, timeout_ms);
}

static int recv_try(struct ivshm_chan *ch, struct attempt *a)
{
	void *buf = a->dst;
	size_t size = a->len, *len = a->done;
	struct ivshm_shm_rec h;
	uint32_t avail, span, pos;
	int err;

	/* At most a pad and a record: ivshm__rec_check() refuses a pad at the ring's start. */
	for (;;) {
		err = peer_prod(ch, &avail);
		if (err)
			return err;
		if (!avail)
			return empty(ch);
		if (avail % IVSHM_SHM_REC_ALIGN) {
			ivshm__log(LOG_ERR, "peer %u port %u: %u bytes published, not whole records",
				   ch->peer_id, ch->theirs.port, avail);
			return -EPROTO;
		}
		/* The header, once, into our memory; then only the copy is looked at. An
		 * 8-aligned header never crosses the ring's end. */
		pos = ch->cons & (ch->theirs.ring_size - 1);
		memcpy(&h, ch->rx + pos, sizeof(h));
		err = ivshm__rec_check(&h, ch->cons, ch->theirs.ring_size, avail,
				       ch->theirs.max_msg, &span);
		if (err)
			return err;
		if (!(h.flags & IVSHM_SHM_REC_PAD))
			break;
		consumed(ch, span);
	}
	*len = h.len;
	if (h.len > size)
		return -EMSGSIZE;
	/* The check above made sure the record ends before the ring does. */
	memcpy(buf, ch->rx + pos + sizeof(h), h.len);
	consumed(ch, span);
	count(ch, RX, h.len);
	return 0;
}

int ivshm_chan_recv(struct ivshm_chan *ch, void *buf, size_t size, size_t *len, int timeout_ms)
{
	struct attempt a = { .fn = recv_try, .d = RX, .dst = buf, .len = size, .done = len };

	if (!ch || (!buf && size) || !len || timeout_ms < 0)
		return -EINVAL;
	return run(ch, IVSHM_CHAN_PACKET, &a, timeout_ms);
}

/* Room for a record of @len bytes at our producer index, padding to the ring's start if need be. */
static int make_room(struct ivshm_chan *ch, uint32_t len, uint32_t *need)
{
	uint32_t free, to_end = ch->tx_size - (ch->prod & (ch->tx_size - 1)), span;
	struct ivshm_shm_rec pad = { .flags = IVSHM_SHM_REC_PAD };
	int err;

	span = ivshm__rec_span(len);
	*need = span > to_end ? span + to_end : span;
	/* Nobody reads what we send to a closed end. */
	if (peer_moved(ch)) {
		err = peer_still_there(ch);
		if (err)
			return err;
	}
	err = peer_cons(ch, &free);
	if (err)
		return err;
	if (free < *need)
		return full(ch);
	if (span > to_end) {
		pad.len = to_end - sizeof(pad);
		ivshm__ring_put(ch->tx, ch->tx_size, ch->prod, &pad, sizeof(pad));
		produced(ch, to_end);
	}
	return 0;
}

static int send_try(struct ivshm_chan *ch, struct attempt *a)
{
	uint32_t len = (uint32_t)a->len;
	struct ivshm_shm_rec h = { .len = len };
	char *at;
	int err;

	err = make_room(ch, len, &a->need);
	if (err)
		return err;
	/* After make_room() the record fits before the ring's end. */
	at = ch->tx + (ch->prod & (ch->tx_size - 1));
	memcpy(at, &h, sizeof(h));
	memcpy(at + sizeof(h), a->src, len);
	produced(ch, ivshm__rec_span(len));
	count(ch, TX, len);
	return 0;
}

int ivshm_chan_send(struct ivshm_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	struct attempt a = { .fn = send_try, .d = TX, .src = msg, .len = len };

	if (!ch || (!msg && len) || timeout_ms < 0)
		return -EINVAL;
	return run(ch, IVSHM_CHAN_PACKET, &a, timeout_ms);
}

static int reserve_try(struct ivshm_chan *ch, struct attempt *a)
{
	int err = make_room(ch, (uint32_t)a->len, &a->need);

	if (err)
		return err;
	*a->slot = ch->tx + (ch->prod & (ch->tx_size - 1)) + sizeof(struct ivshm_shm_rec);
	return 0;
}

int ivshm_chan_reserve(struct ivshm_chan *ch, size_t len, void **buf, int timeout_ms)
{
	struct attempt a = { .fn = reserve_try, .d = TX, .len = len, .slot = buf };
	int err;

	if (!ch || !buf || !len || timeout_ms < 0)
		return -EINVAL;
	err = run(ch, IVSHM_CHAN_PACKET, &a, timeout_ms);
	if (!err)
		ch->reserved = len;
	return err;
}

int ivshm_chan_commit(struct ivshm_chan *ch, size_t len)
{
	struct ivshm_shm_rec h = { .len = (uint32_t)len };

	if (!ch || !ch->reserved || len > ch->reserved)
		return -EINVAL;
	ch->reserved = 0;
	if (ch->err)
		return ch->err;
	/* The room is still ours: only we advance our producer index. */
	ivshm__ring_put(ch->tx, ch->tx_size, ch->prod, &h, sizeof(h));
	produced(ch, ivshm__rec_span((uint32_t)len));
	count(ch, TX, len);
	return 0;
}

static int write_try(struct ivshm_chan *ch, struct attempt *a)
{
	const void *buf = a->src;
	size_t len = a->len, *done = a->done;
	uint32_t free, n;
	int err;

	if (peer_moved(ch)) {
		err = peer_still_there(ch);
		if (err)
			return err;
	}
	err = peer_cons(ch, &free);
	if (err)
		return err;
	if (!free)
		return full(ch);
	n = len < free ? (uint32_t)len : free;
	ivshm__ring_put(ch->tx, ch->tx_size, ch->prod, buf, n);
	produced(ch, n);
	*done = n;
	count(ch, TX, n);
	return 0;
}

int ivshm_chan_write(struct ivshm_chan *ch, const void *buf, size_t len, size_t *done,
		     int timeout_ms)
{
	struct attempt a = { .fn = write_try, .d = TX, .need = 1, .src = buf, .len = len,
			     .done = done };

	if (!ch || (!buf && len) || !done || timeout_ms < 0)
		return -EINVAL;
	*done = 0;
	return run(ch, IVSHM_CHAN_STREAM, &a, timeout_ms);
}

static int read_try(struct ivshm_chan *ch, struct attempt *a)
{
	void *buf = a->dst;
	size_t size = a->len, *done = a->done;
	uint32_t avail, n;
	int err;

	err = peer_prod(ch, &avail);
	if (err)
		return err;
	if (!avail)
		return empty(ch);
	n = size < avail ? (uint32_t)size : avail;
	ivshm__ring_get(ch->rx, ch->theirs.ring_size, ch->cons, buf, n);
	consumed(ch, n);
	*done = n;
	count(ch, RX, n);
	return 0;
}

int ivshm_chan_read(struct ivshm_chan *ch, void *buf, size_t size, size_t *done, int timeout_ms)
{
	struct attempt a = { .fn = read_try, .d = RX, .dst = buf, .len = size, .done = done };

	if (!ch || (!buf && size) || !done || timeout_ms < 0)
		return -EINVAL;
	*done = 0;
	return run(ch, IVSHM_CHAN_STREAM, &a, timeout_ms);
}

void ivshm__chan_rebase(struct ivshm_chan *ch, uint32_t base)
{
	ch->prod = ch->cons = ch->seen_prod = ch->seen_cons = base;
	__atomic_store_n(&ch->half->prod, base, __ATOMIC_RELEASE);
	__atomic_store_n(&ch->half->cons, base, __ATOMIC_RELEASE);
}

int ivshm_chan_set_wait(struct ivshm_chan *ch, enum ivshm_wait_mode mode, unsigned int spin_us)
{
	if (!ch || mode > IVSHM_WAIT_HYBRID)
		return -EINVAL;
	ch->wait = mode;
	ch->spin_us = ch->spin_cur = spin_us ? spin_us : DEFAULT_SPIN_US;
	return 0;
}

int ivshm_chan_get_info(const struct ivshm_chan *ch, struct ivshm_chan_info *info)
{
	if (!ch || !info)
		return -EINVAL;
	*info = (struct ivshm_chan_info){
		.peer = ch->peer_id,
		.port = ch->mine.port,
		.type = (enum ivshm_chan_type)ch->mine.type,
		.tx_ring = ch->tx_size,
		.rx_ring = ch->theirs.ring_size,
		.max_send = ch->mine.max_msg,
		.max_recv = ch->theirs.max_msg,
	};
	return 0;
}

int ivshm_chan_get_stats(const struct ivshm_chan *ch, struct ivshm_chan_stats *stats)
{
	if (!ch || !stats)
		return -EINVAL;
	*stats = ch->st;
	return 0;
}
