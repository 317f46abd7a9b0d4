// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the peer's end of a channel says, and whether our own end still
 * stands: the peer's indices (loaded once, checked against what we saw
 * before), its entry (the copy we took when we connected is the truth; a
 * rewrite beyond naming us is a broken protocol), its owner's liveness, and
 * our claim of our slot.
 */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "barrier.h"
#include "chan.h"
#include "clock.h"
#include "seqlock.h"

/* Non-blocking calls that find nothing look at the clock (for the peer's liveness) once per this many. */
#define IDLE_CHECK_CALLS 1024u
/* A waiting end looks at the peer's liveness at least this often. */
#define CHECK_MS 50

int ivshm__chan_fail(struct ivshm_chan *ch, int err)
{
	if (err == -EPROTO || err == -ECONNRESET || err == -EHOSTDOWN || err == -ENOTCONN ||
	    err == -ENOLINK || err == -EPROTOTYPE || err == -EHOSTUNREACH)
		ch->err = err;
	return err;
}

int ivshm__chan_usable(struct ivshm_chan *ch)
{
	int err;

	if (ch->err)
		return ch->err;
	if (ch->connecting)
		return ivshm__chan_connect_step(ch);
	if (ch->claim_gen != ch->r->claim_gen) {
		ivshm__log(LOG_DEBUG, "peer %u port %u: this peer lost its directory slot",
			   ch->peer_id, ch->mine.port);
		return ivshm__chan_fail(ch, -ENOTCONN);
	}
	err = ivshm__dev_link(ch->dev);
	return err ? ivshm__chan_fail(ch, err) : 0;
}

/* The peer's slot is mid-write: fine for a moment; for longer than its heartbeat bound, its owner's word. */
static int unreadable_slot(struct ivshm_chan *ch)
{
	uint64_t owner;

	if (++ch->unreadable * CHECK_MS < IVSHM_DEAD_PERIODS * IVSHM_HEARTBEAT_MS)
		return 0;
	owner = ivshm_load_relaxed(&ivshm__slot_at(ch->r, ch->peer_slot)->owner);
	if (IVSHM_SHM_OWNER_ID(owner) != ch->peer_id)
		return -ECONNRESET;
	if (ivshm__owner_life(ch->r, ch->peer_slot, owner, ch->theirs.epoch,
			      IVSHM_HEARTBEAT_MS) == IVSHM_LIFE_DEAD) {
		ivshm__log(LOG_DEBUG, "peer %u died while rewriting its directory slot", ch->peer_id);
		return -EHOSTDOWN;
	}
	return 0;
}

int ivshm__chan_check_peer(struct ivshm_chan *ch)
{
	struct ivshm_shm_chan e, want;
	enum ivshm_life life;
	uint32_t prod, cons;
	int64_t now = ivshm_clock_ms();
	struct ivshm_peer p;
	int err;

	ch->next_check_ms = now + CHECK_MS;
	if (!ivshm__still_ours(ch->r) || ch->claim_gen != ch->r->claim_gen)
		return ivshm__chan_usable(ch);
	prod = ivshm_load_relaxed(&ch->peer_half->prod);
	cons = ivshm_load_relaxed(&ch->peer_half->cons);
	if (prod != ch->checked_prod || cons != ch->checked_cons)
		ch->moved_ms = now;
	ch->checked_prod = prod;
	ch->checked_cons = cons;
	err = ivshm__read_slot(ch->r, ch->peer_slot, &p, &life);
	if (err == -EAGAIN)
		return unreadable_slot(ch);
	ch->unreadable = 0;
	if (err || p.id != ch->peer_id || p.epoch != ch->theirs.epoch) {
		ivshm__log(LOG_DEBUG, "peer %u port %u: its slot holds another incarnation now",
			   ch->peer_id, ch->theirs.port);
		return -ECONNRESET;
	}
	/*
	 * The server's word that it left is final; a stopped heartbeat is not, for
	 * a peer whose indices moved within the bound: it is busy, not dead.
	 */
	if (life == IVSHM_LIFE_DEAD && p.state == IVSHM_PEER_DEAD &&
	    (ivshm__peer_connected(ch->r, ch->peer_id) == 0 ||
	     now - ch->moved_ms > IVSHM_DEAD_PERIODS * IVSHM_HEARTBEAT_MS)) {
		ivshm__log(LOG_DEBUG, "peer %u port %u: the peer died (heartbeat or server)",
			   ch->peer_id, ch->theirs.port);
		return -EHOSTDOWN;
	}
	if (p.state == IVSHM_PEER_GONE) {
		ch->peer_closed = 1;
		return 0;
	}
	if (ivshm_seq_read(ivshm__entry_at(ch->r, ch->peer_slot, ch->peer_entry), &e, sizeof(e)))
		return 0;
	if (e.state == IVSHM_SHM_CHAN_CLOSED && e.epoch == ch->theirs.epoch) {
		ch->peer_closed = 1;
		return 0;
	}
	/* Everything but the sequence word and the words that name us was fixed when published. */
	want = ch->theirs;
	want.seq = e.seq;
	want.peer_epoch = e.peer_epoch;
	want.peer_entry = e.peer_entry;
	if (memcmp(&want, &e, sizeof(e)) != 0 ||
	    (e.peer_epoch && e.peer_epoch != ch->r->epoch) ||
	    (e.peer_entry && e.peer_entry != ch->entry + 1)) {
		ivshm__log(LOG_ERR, "peer %u port %u: it rewrote its published channel entry",
			   ch->peer_id, ch->theirs.port);
		return -EPROTO;
	}
	/* A legitimate rewrite (the peer naming us): no need to look again. */
	ch->peer_seq = e.seq;
	return 0;
}

/*
 * Three loads that tell whether the peer left, closed or rewrote its end, or
 * another peer took our slot: its entry's sequence word, its slot's state,
 * our slot's owner word. Cheap enough for every call; the full check follows
 * a change.
 */
static int peer_moved(struct ivshm_chan *ch)
{
	const struct ivshm_shm_chan *e = ivshm__entry_at(ch->r, ch->peer_slot, ch->peer_entry);
	const struct ivshm_shm_slot *s = ivshm__slot_at(ch->r, ch->peer_slot);
	const struct ivshm_shm_slot *ours = ivshm__slot_at(ch->r, (unsigned int)ch->r->slot);

	return ch->r->slot < 0 || ivshm_load_relaxed(&ours->owner) != ch->r->owner ||
	       ivshm_load_relaxed(&e->seq) != ch->peer_seq ||
	       ivshm_load_relaxed(&s->state) != IVSHM_SHM_SLOT_LIVE;
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

int ivshm__chan_idle(struct ivshm_chan *ch, enum ivshm_dir d)
{
	int err;

	if (!ch->peer_closed && (peer_moved(ch) || check_due(ch))) {
		err = ivshm__chan_check_peer(ch);
		if (err)
			return ivshm__chan_fail(ch, err);
	}
	if (!ch->peer_closed)
		return 0;
	/* Closed: whatever it sent before closing is still ours to read. */
	if (d == IVSHM_RX && ivshm_load_acquire(&ch->peer_half->prod) != ch->cons)
		return 0;
	ivshm__log(LOG_DEBUG, "peer %u port %u: the peer closed its end", ch->peer_id,
		   ch->theirs.port);
	return -EPIPE;
}

int ivshm__chan_sendable(struct ivshm_chan *ch)
{
	int err;

	if (!ch->peer_closed && peer_moved(ch)) {
		err = ivshm__chan_check_peer(ch);
		if (err)
			return ivshm__chan_fail(ch, err);
	}
	if (!ch->peer_closed)
		return 0;
	ivshm__log(LOG_DEBUG, "peer %u port %u: the peer closed its end: nobody reads what we send",
		   ch->peer_id, ch->theirs.port);
	return -EPIPE;
}

int ivshm__chan_peer_prod(struct ivshm_chan *ch, uint32_t *avail)
{
	uint32_t prod = ivshm_load_acquire(&ch->peer_half->prod);

	if ((int32_t)(prod - ch->seen_prod) < 0 ||
	    ivshm__ring_used(prod, ch->cons, ch->theirs.ring_size, avail)) {
		ivshm__log(LOG_ERR, "peer %u port %u: producer index %u (was %u, consumed %u, ring %u)",
			   ch->peer_id, ch->theirs.port, prod, ch->seen_prod, ch->cons,
			   ch->theirs.ring_size);
		return ivshm__chan_fail(ch, -EPROTO);
	}
	ch->seen_prod = prod;
	return 0;
}

int ivshm__chan_peer_cons(struct ivshm_chan *ch, uint32_t *free)
{
	uint32_t cons = ivshm_load_acquire(&ch->peer_half->cons), used;

	/* It cannot have consumed what we have not published (a batch holds it back). */
	if ((int32_t)(cons - ch->seen_cons) < 0 ||
	    ivshm__ring_used(ch->prod_pub, cons, ch->tx_size, &used)) {
		ivshm__log(LOG_ERR, "peer %u port %u: consumer index %u (was %u, produced %u, ring %u)",
			   ch->peer_id, ch->theirs.port, cons, ch->seen_cons, ch->prod, ch->tx_size);
		return ivshm__chan_fail(ch, -EPROTO);
	}
	ch->seen_cons = cons;
	*free = ch->tx_size - (ch->prod - cons);
	return 0;
}
