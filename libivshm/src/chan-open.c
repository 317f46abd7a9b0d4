// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening and closing channels (contracts/ivshm-shm.h): each end writes one
 * entry in its own channel table and its own half (indices and send ring) in
 * its own arena, and nothing else. Connecting copies the peer's entry once and
 * keeps the checked copy. A closed end's entry and half stay untouched while
 * the peer's end still names them, so a peer still reading never sees its
 * channel's memory reused under it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "barrier.h"
#include "chan.h"
#include "clock.h"
#include "seqlock.h"

#define DEFAULT_SPIN_US 50u

struct ivshm_shm_chan *ivshm__entry_at(const struct ivshm_region *r, unsigned int slot,
				       unsigned int i)
{
	return (struct ivshm_shm_chan *)(ivshm__arena_at(r, slot) + IVSHM_SHM_CHAN_OFF +
					 (size_t)i * IVSHM_SHM_CHAN_SIZE);
}

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static int all_zero(const uint32_t *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i])
			return 0;
	return 1;
}

/* The defaults filled in and every option checked; each refusal says why. */
static int opts_resolve(const struct ivshm_dev *dev, const struct ivshm_chan_opts *in,
			struct ivshm_chan_opts *o)
{
	uint32_t max_ring = ivshm__max_ring(&dev->region), most;

	if (in)
		*o = *in;
	else
		memset(o, 0, sizeof(*o));
	if (!all_zero(o->reserved, sizeof(o->reserved) / sizeof(o->reserved[0]))) {
		ivshm__log(LOG_DEBUG, "channel options: reserved fields must be zero");
		return -EINVAL;
	}
	if (!o->type)
		o->type = IVSHM_CHAN_PACKET;
	if (!o->ring_size)
		o->ring_size = ivshm__default_ring(&dev->region);
	if (!o->spin_us)
		o->spin_us = DEFAULT_SPIN_US;
	if (o->type != IVSHM_CHAN_PACKET && o->type != IVSHM_CHAN_STREAM) {
		ivshm__log(LOG_DEBUG, "channel type %d: packet (1) or stream (2)", (int)o->type);
		return -EINVAL;
	}
	if (!is_pow2(o->ring_size) || o->ring_size < IVSHM__MIN_RING || o->ring_size > max_ring) {
		ivshm__log(LOG_DEBUG, "ring of %u bytes: a power of two from %u to %u (this region)",
			   o->ring_size, IVSHM__MIN_RING, max_ring);
		return -EINVAL;
	}
	most = ivshm__max_msg(o->ring_size);
	if (o->type == IVSHM_CHAN_PACKET) {
		if (!o->max_msg)
			o->max_msg = most;
		if (o->max_msg > most) {
			ivshm__log(LOG_DEBUG, "max_msg %u: a %u-byte ring carries at most %u", o->max_msg,
				   o->ring_size, most);
			return -EINVAL;
		}
	} else if (o->max_msg) {
		ivshm__log(LOG_DEBUG, "max_msg %u on a stream channel: streams have no messages",
			   o->max_msg);
		return -EINVAL;
	}
	if (o->flags & ~IVSHM_CHAN_NONBLOCK) {
		ivshm__log(LOG_DEBUG, "channel options: unknown flags %#x", o->flags);
		return -EINVAL;
	}
	if (o->wait > IVSHM_WAIT_HYBRID) {
		ivshm__log(LOG_DEBUG, "wait mode %d: interrupt (0), poll (1) or hybrid (2)",
			   (int)o->wait);
		return -EINVAL;
	}
	if (o->vector >= dev->nr_vectors && dev->mode == IVSHM_MODE_DOORBELL) {
		ivshm__log(LOG_DEBUG, "channel vector %u, the device has %u", o->vector,
			   dev->nr_vectors);
		return -EINVAL;
	}
	return 0;
}

/*
 * Whether the peer end a closed entry of ours was connected to may still
 * read it: its owner is the same incarnation, alive, and its entry still
 * names ours. For an end that never connected, any entry of that peer that
 * answered it.
 */
static int still_read(struct ivshm_region *r, unsigned int i)
{
	const struct ivshm_end *end = &r->ends[i];
	struct ivshm_shm_chan e;
	struct ivshm_peer p;
	unsigned int slot, k, first, last;
	int err;

	if (end->connected) {
		err = ivshm__read_slot(r, end->peer_slot, &p, NULL);
		if (err == -EAGAIN)
			return 1;	/* mid-write: cannot tell yet */
		if (err || p.id != end->peer_id || p.state != IVSHM_PEER_LIVE)
			return 0;
		slot = end->peer_slot;
		first = last = end->peer_entry;
	} else {
		if (ivshm__lookup(r, end->peer_id, &p, &slot) || p.state != IVSHM_PEER_LIVE)
			return 0;
		first = 0;
		last = IVSHM_SHM_MAX_CHANS - 1;
	}
	for (k = first; k <= last; k++) {
		if (ivshm_seq_read(ivshm__entry_at(r, slot, k), &e, sizeof(e)))
			return 1;	/* mid-write: cannot tell yet */
		if (e.state == IVSHM_SHM_CHAN_OPEN && e.peer_id == (uint32_t)r->self_id &&
		    e.port == end->port && e.epoch == p.epoch && e.peer_epoch == r->epoch &&
		    (e.peer_entry == 0 || e.peer_entry == i + 1))
			return 1;
	}
	return 0;
}

/*
 * A table entry and a half for a new channel in our arena: a free entry, or
 * a closed one its old peer no longer reads; its half if big enough, else a
 * new one from the heap. Returns 0 with *@entry, or -ENOSPC.
 */
static int alloc_end(struct ivshm_region *r, uint32_t ring_size, unsigned int *entry)
{
	uint64_t need = sizeof(struct ivshm_shm_half) + ring_size;
	unsigned int i, busy = 0, pick = IVSHM_SHM_MAX_CHANS;
	struct ivshm_end *end;

	for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++) {
		end = &r->ends[i];
		if (end->state == IVSHM_SHM_CHAN_CLOSED && !still_read(r, i))
			end->state = IVSHM_SHM_CHAN_FREE;
		busy += end->state != IVSHM_SHM_CHAN_FREE;
	}
	/* With nothing open or still read, the whole heap is free again. */
	if (!busy) {
		r->heap_next = IVSHM_SHM_HEAP_OFF;
		for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++)
			r->ends[i].half_size = 0;
	}
	for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++) {
		end = &r->ends[i];
		if (end->state != IVSHM_SHM_CHAN_FREE)
			continue;
		if (end->half_size >= need) {
			pick = i;
			break;
		}
		if (end->half_size == 0 && pick == IVSHM_SHM_MAX_CHANS &&
		    r->heap_next + need <= r->l.arena_size)
			pick = i;
	}
	if (pick == IVSHM_SHM_MAX_CHANS) {
		ivshm__log(LOG_DEBUG, "no room for a %u-byte ring: %u of %u channel entries busy, "
			   "%llu of %llu arena bytes used", ring_size, busy, IVSHM_SHM_MAX_CHANS,
			   (unsigned long long)r->heap_next, (unsigned long long)r->l.arena_size);
		return -ENOSPC;
	}
	end = &r->ends[pick];
	if (end->half_size < need) {
		end->half_off = r->heap_next;
		end->half_size = need;
		/* Halves start on a page: the ring then never shares a line with another. */
		r->heap_next = (r->heap_next + need + IVSHM_SHM_PAGE - 1) &
			       ~(uint64_t)(IVSHM_SHM_PAGE - 1);
	}
	*entry = pick;
	return 0;
}

void ivshm__chan_publish_entry(struct ivshm_chan *ch)
{
	struct ivshm_shm_chan *e;
	const size_t skip = sizeof(ch->mine.seq);

	/* Only the claim this end was made under may write the table, while it stands. */
	if (ch->claim_gen != ch->r->claim_gen || !ivshm__still_ours(ch->r) ||
	    ch->claim_gen != ch->r->claim_gen)
		return;
	e = ivshm__entry_at(ch->r, (unsigned int)ch->r->slot, ch->entry);
	ivshm_seq_write_begin(&e->seq, &ch->ent_seq);
	memcpy((char *)e + skip, (const char *)&ch->mine + skip, sizeof(ch->mine) - skip);
	ivshm_seq_write_end(&e->seq, &ch->ent_seq);
}

/* Our end, written and visible (state OPEN, not yet connected). */
static int new_end(struct ivshm_dev *dev, unsigned int peer, uint32_t port,
		   const struct ivshm_chan_opts *o, struct ivshm_chan **chp)
{
	struct ivshm_region *r = &dev->region;
	struct ivshm_chan *ch;
	unsigned int entry;
	int err;

	if (!r->published || !ivshm__still_ours(r)) {
		ivshm__log(LOG_DEBUG, r->lost ? "this peer lost its directory slot: publish again" :
			   "publish this peer before opening channels");
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
	ch->claim_gen = r->claim_gen;
	ch->entry = entry;
	ch->half = (struct ivshm_shm_half *)(ivshm__arena_at(r, (unsigned int)r->slot) +
					     r->ends[entry].half_off);
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
		.half_off = r->ends[entry].half_off,
		.epoch = r->epoch,
	};
	ch->ent_seq = ivshm_load_relaxed(&ivshm__entry_at(r, (unsigned int)r->slot, entry)->seq) &
		      ~1u;
	ivshm__chan_publish_entry(ch);
	r->ends[entry] = (struct ivshm_end){
		.ch = ch,
		.state = IVSHM_SHM_CHAN_OPEN,
		.half_off = r->ends[entry].half_off,
		.half_size = r->ends[entry].half_size,
		.peer_id = peer,
		.port = port,
	};
	ch->next = r->chans;
	if (r->chans)
		r->chans->prev = ch;
	r->chans = ch;
	*chp = ch;
	return 0;
}

/* End our side: the entry says CLOSED, and stays ours until the peer no longer reads it. */
static void drop_end(struct ivshm_chan *ch)
{
	struct ivshm_region *r = ch->r;

	if (ch->claim_gen == r->claim_gen && r->slot >= 0) {
		ch->mine.state = IVSHM_SHM_CHAN_CLOSED;
		ivshm__chan_publish_entry(ch);
		r->ends[ch->entry].ch = NULL;
		r->ends[ch->entry].state = IVSHM_SHM_CHAN_CLOSED;
	}
	if (ch->prev)
		ch->prev->next = ch->next;
	else
		r->chans = ch->next;
	if (ch->next)
		ch->next->prev = ch->prev;
	free(ch);
}

/* What an end looks for in the peer's table. */
struct match {
	uint32_t port;
	uint32_t type;
	uint64_t epoch;			/* the peer's incarnation */
	int accept;			/* only requests nobody answered yet */
	unsigned int entry;		/* open: our entry, which an answer must name */
};

/*
 * Check the peer's entry @e (a private copy) against @m. Returns 1 when it
 * is ours and well-formed, 0 when it is not for us, -EPROTOTYPE, or -EPROTO
 * (logged).
 */
static int entry_fits(const struct ivshm_region *r, unsigned int peer,
		      const struct ivshm_shm_chan *e, const struct match *m)
{
	uint64_t end;

	if (e->state != IVSHM_SHM_CHAN_OPEN || e->peer_id != (uint32_t)r->self_id ||
	    e->port != m->port || e->epoch != m->epoch)
		return 0;
	if (m->accept) {
		/* Answered already (an old channel of ours it still holds): not a request. */
		if (e->peer_epoch)
			return 0;
	} else if (e->peer_epoch &&
		   (e->peer_epoch != r->epoch || (e->peer_entry && e->peer_entry != m->entry + 1))) {
		/* It answers an earlier incarnation of ours, or another of our entries. */
		return 0;
	}
	if (e->type != m->type) {
		ivshm__log(LOG_DEBUG, "peer %u port %u: a %s channel, ours is %s", peer, m->port,
			   e->type == IVSHM_SHM_CHAN_STREAM ? "stream" : "packet",
			   m->type == IVSHM_SHM_CHAN_STREAM ? "stream" : "packet");
		return -EPROTOTYPE;
	}
	end = e->half_off + sizeof(struct ivshm_shm_half) + (uint64_t)e->ring_size;
	if (e->vector >= UIO_IVSHMEM_MAX_VECTORS || !is_pow2(e->ring_size) ||
	    e->ring_size < IVSHM__MIN_RING || e->half_off < IVSHM_SHM_HEAP_OFF ||
	    e->half_off % IVSHM_SHM_CACHELINE || e->half_off > r->l.arena_size ||
	    end > r->l.arena_size || e->peer_entry > IVSHM_SHM_MAX_CHANS ||
	    (e->type == IVSHM_SHM_CHAN_PACKET &&
	     (e->max_msg == 0 || e->max_msg > ivshm__max_msg(e->ring_size)))) {
		ivshm__log(LOG_ERR, "peer %u port %u: malformed channel entry (ring %u at %llu, "
			   "max %u, vector %u)", peer, m->port, e->ring_size,
			   (unsigned long long)e->half_off, e->max_msg, e->vector);
		return -EPROTO;
	}
	return 1;
}

/* Take the peer's end: keep the checked copy, point at its half, name it in our entry. */
static void connect_to(struct ivshm_chan *ch, unsigned int slot, unsigned int i,
		       const struct ivshm_shm_chan *e)
{
	struct ivshm_end *end = &ch->r->ends[ch->entry];
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
	ch->next_check_ms = ivshm_clock_ms();
	ch->moved_ms = ch->next_check_ms;
	ch->mine.peer_epoch = e->epoch;
	ch->mine.peer_entry = i + 1;
	ivshm__chan_publish_entry(ch);
	end->connected = 1;
	end->peer_slot = slot;
	end->peer_entry = i;
	end->peer_epoch = e->epoch;
	/* The peer may be sleeping in open or accept: tell it we are there. */
	if (!ivshm_trigger(ch->dev, ch->peer_id, e->vector))
		ch->st.doorbells++;
}

/*
 * Look once for the peer's end of our channel. Returns 1 (connected), 0 (not
 * there yet), or an error: -EHOSTDOWN (it is dead), -EHOSTUNREACH (nobody
 * holds its ID), -EPROTOTYPE, -EPROTO.
 */
static int try_connect(struct ivshm_chan *ch)
{
	struct ivshm_shm_chan e;
	enum ivshm_life life;
	struct ivshm_peer p;
	unsigned int slot, i;
	struct match m;
	int err, fits;

	err = ivshm__lookup(ch->r, ch->peer_id, &p, &slot);
	if (err == -ENOENT || (!err && p.state == IVSHM_PEER_GONE)) {
		if (ivshm__peer_connected(ch->r, ch->peer_id) == 0) {
			ivshm__log(LOG_DEBUG, "peer %u: no peer with this ID is connected",
				   ch->peer_id);
			return -EHOSTUNREACH;
		}
		return 0;
	}
	if (err == -EAGAIN)
		return 0;
	if (err)
		return err;
	if (ivshm__read_slot(ch->r, slot, &p, &life))
		return 0;
	if (life == IVSHM_LIFE_DEAD) {
		ivshm__log(LOG_DEBUG, "peer %u is dead (heartbeat or server)", ch->peer_id);
		return -EHOSTDOWN;
	}
	m = (struct match){ .port = ch->mine.port, .type = ch->mine.type, .epoch = p.epoch,
			    .entry = ch->entry };
	for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++) {
		if (ivshm_seq_read(ivshm__entry_at(ch->r, slot, i), &e, sizeof(e)))
			continue;
		fits = entry_fits(ch->r, ch->peer_id, &e, &m);
		if (fits < 0)
			return fits;
		/*
		 * An answer that names our end was written while we waited: a sign
		 * of life. A request of its own (peer_epoch 0) may be a dead
		 * process's: only from a peer seen alive.
		 */
		if (fits && (e.peer_epoch || life == IVSHM_LIFE_ALIVE)) {
			connect_to(ch, slot, i, &e);
			return 1;
		}
	}
	return 0;
}

static int64_t deadline_of(int timeout_ms)
{
	return ivshm_clock_ms() + timeout_ms;
}

/* A nap that ends by @deadline, at least 1 ms (0 would spin). */
static int nap_until(struct ivshm_dev *dev, int64_t deadline)
{
	int64_t left = deadline - ivshm_clock_ms();

	return ivshm__nap(dev, left < 1 ? 1 : left > 50 ? 50 : (int)left);
}

/* The checks open and accept share: a usable handle, published, options. */
static int begin(struct ivshm_dev *dev, const struct ivshm_chan_opts *opts, int timeout_ms,
		 struct ivshm_chan **chp, struct ivshm_chan_opts *o)
{
	struct ivshm_region *r;
	int err;

	if (!chp || timeout_ms < 0) {
		ivshm__log(LOG_DEBUG, "channel: %s", !chp ? "nowhere to put it" : "a negative timeout");
		return -EINVAL;
	}
	err = ivshm__region_of(dev, &r);
	if (err)
		return err;
	return opts_resolve(dev, opts, o);
}

int ivshm_chan_open(struct ivshm_dev *dev, unsigned int peer, uint32_t port,
		    const struct ivshm_chan_opts *opts, int timeout_ms, struct ivshm_chan **chp)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct ivshm_chan_opts o;
	struct ivshm_chan *ch;
	struct ivshm_peer p;
	int err;

	err = begin(dev, opts, timeout_ms, chp, &o);
	if (err)
		return err;
	if (peer > IVSHMEM_MAX_PEER_ID || (int)peer == dev->peer_id) {
		ivshm__log(LOG_DEBUG, "channel to peer %u: %s", peer,
			   (int)peer == dev->peer_id ? "that is this peer" : "no such ID");
		return -EINVAL;
	}
	(void)ivshm__heartbeat(&dev->region, 0);
	err = new_end(dev, peer, port, &o, &ch);
	if (err)
		return err;
	/* An accepting peer sleeps: ring it. */
	if (!ivshm__lookup(ch->r, peer, &p, NULL) && p.state == IVSHM_PEER_LIVE &&
	    !ivshm_trigger(dev, peer, p.vector))
		ch->st.doorbells++;
	if (o.flags & IVSHM_CHAN_NONBLOCK) {
		err = try_connect(ch);
		if (err < 0) {
			drop_end(ch);
			return err;
		}
		*chp = ch;
		ch->connecting = !err;
		return err ? 0 : -EINPROGRESS;
	}
	for (;;) {
		if (!ivshm__still_ours(ch->r) || ch->claim_gen != ch->r->claim_gen) {
			err = -ENOTCONN;
			ivshm__log(LOG_DEBUG, "this peer lost its directory slot while opening");
		} else {
			err = try_connect(ch);
		}
		if (err == 1)
			break;
		if (!err && ivshm_clock_ms() >= deadline) {
			ivshm__log(LOG_DEBUG, "peer %u port %u: no answer in %d ms", peer, port,
				   timeout_ms);
			err = -ETIMEDOUT;
		}
		if (!err)
			err = nap_until(dev, deadline);
		if (err) {
			drop_end(ch);
			return err;
		}
	}
	*chp = ch;
	return 0;
}

int ivshm__chan_connect_step(struct ivshm_chan *ch)
{
	int err;

	if (!ivshm__still_ours(ch->r) || ch->claim_gen != ch->r->claim_gen) {
		ivshm__log(LOG_DEBUG, "this peer lost its directory slot while opening");
		return ivshm__chan_fail(ch, -ENOTCONN);
	}
	err = try_connect(ch);
	if (err == 1) {
		ch->connecting = 0;
		return 0;
	}
	if (err)
		return ivshm__chan_fail(ch, err);
	return -EAGAIN;
}

/* Whether one of our open ends answered the peer's entry @i in slot @slot already. */
static int answered(const struct ivshm_region *r, unsigned int slot, unsigned int i,
		    uint64_t epoch)
{
	unsigned int k;

	for (k = 0; k < IVSHM_SHM_MAX_CHANS; k++)
		if (r->ends[k].ch && r->ends[k].connected && r->ends[k].peer_slot == slot &&
		    r->ends[k].peer_entry == i && r->ends[k].peer_epoch == epoch)
			return 1;
	return 0;
}

void ivshm__find_requests(struct ivshm_region *r, const uint32_t *ports, unsigned int n,
			  unsigned char *pending)
{
	struct ivshm_shm_chan e;
	enum ivshm_life life;
	struct ivshm_peer p;
	unsigned int slot, i, k;

	for (slot = 0; slot < r->l.dir_slots; slot++) {
		if ((int)slot == r->slot || ivshm__read_slot(r, slot, &p, &life) ||
		    p.state != IVSHM_PEER_LIVE || life != IVSHM_LIFE_ALIVE ||
		    (int)p.id == r->self_id)
			continue;
		for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++) {
			if (ivshm_seq_read(ivshm__entry_at(r, slot, i), &e, sizeof(e)) ||
			    e.state != IVSHM_SHM_CHAN_OPEN || e.peer_id != (uint32_t)r->self_id ||
			    e.epoch != p.epoch || e.peer_epoch || answered(r, slot, i, p.epoch))
				continue;
			for (k = 0; k < n; k++)
				if (ports[k] == e.port)
					pending[k] = 1;
		}
	}
}

/* One pass over the live peers' tables for a request to us on @port. */
static int accept_once(struct ivshm_dev *dev, uint32_t port, const struct ivshm_chan_opts *o,
		       struct ivshm_chan **chp)
{
	struct ivshm_region *r = &dev->region;
	struct ivshm_shm_chan e;
	enum ivshm_life life;
	struct ivshm_peer p;
	unsigned int slot, i;
	struct match m;
	int err;

	for (slot = 0; slot < r->l.dir_slots; slot++) {
		/* Not our own slot, nor a forged one that claims our ID. */
		if ((int)slot == r->slot || ivshm__read_slot(r, slot, &p, &life) ||
		    p.state != IVSHM_PEER_LIVE || life != IVSHM_LIFE_ALIVE ||
		    (int)p.id == r->self_id)
			continue;
		m = (struct match){ .port = port, .type = o->type, .epoch = p.epoch, .accept = 1 };
		for (i = 0; i < IVSHM_SHM_MAX_CHANS; i++) {
			if (ivshm_seq_read(ivshm__entry_at(r, slot, i), &e, sizeof(e)))
				continue;
			/* A malformed request or the wrong type is the requester's problem. */
			if (entry_fits(r, p.id, &e, &m) != 1 || answered(r, slot, i, p.epoch))
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
	int64_t deadline = deadline_of(timeout_ms);
	struct ivshm_chan_opts o;
	int err;

	err = begin(dev, opts, timeout_ms, chp, &o);
	if (err)
		return err;
	if (!dev->region.published || !ivshm__still_ours(&dev->region)) {
		ivshm__log(LOG_DEBUG, dev->region.lost ? "this peer lost its directory slot: "
			   "publish again" : "publish this peer before accepting channels");
		return -ENOTCONN;
	}
	/* A peer that accepts back to back never naps: beat here (if due). */
	(void)ivshm__heartbeat(&dev->region, 0);
	for (;;) {
		err = accept_once(dev, port, &o, chp);
		if (err == 1)
			return 0;
		if (err)
			return err;
		if (ivshm_clock_ms() >= deadline) {
			ivshm__log(LOG_DEBUG, "port %u: no peer opened a channel in %d ms", port,
				   timeout_ms);
			return -ETIMEDOUT;
		}
		err = nap_until(dev, deadline);
		if (err)
			return err;
		if (!ivshm__still_ours(&dev->region)) {
			ivshm__log(LOG_DEBUG, "this peer lost its directory slot while accepting");
			return -ENOTCONN;
		}
	}
}

void ivshm_chan_close(struct ivshm_chan *ch)
{
	struct ivshm_dev *dev;
	unsigned int peer, vector;
	int ring;

	if (!ch)
		return;
	dev = ch->dev;
	peer = ch->peer_id;
	vector = ch->theirs.vector;
	ring = !ch->err && ch->peer_half && ch->claim_gen == ch->r->claim_gen;
	/* Whatever a batch held back goes out: the peer drains it before -EPIPE. */
	ch->batch = 0;
	if (ring)
		ivshm__chan_publish(ch);
	drop_end(ch);
	/* A peer asleep on this channel wakes up to find it closed. */
	if (ring)
		ivshm_trigger(dev, peer, vector);
}

int ivshm_chan_set_wait(struct ivshm_chan *ch, enum ivshm_wait_mode mode, unsigned int spin_us)
{
	if (!ch || mode > IVSHM_WAIT_HYBRID) {
		ivshm__log(LOG_DEBUG, "set_wait: mode %d: interrupt (0), poll (1) or hybrid (2)",
			   (int)mode);
		return -EINVAL;
	}
	ch->wait = mode;
	ch->spin_us = ch->spin_cur = spin_us ? spin_us : DEFAULT_SPIN_US;
	return 0;
}

int ivshm_chan_get_info(const struct ivshm_chan *ch, struct ivshm_chan_info *info)
{
	if (!ch || !info)
		return ivshm__bad_arg(__func__, "a NULL pointer");
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
		return ivshm__bad_arg(__func__, "a NULL pointer");
	*stats = ch->st;
	return 0;
}
