// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Waiting on a channel, in its mode: interrupt (sleep until the peer rings),
 * poll (spin on the peer's index, never ring) or hybrid (spin, then sleep).
 * A sleeping end advertises it in its half, and the other end rings only
 * then: each side stores its own word, fences, then loads the other's (one
 * of the two always sees the other), so no wake-up is lost and no doorbell
 * is wasted on an end that is awake.
 */
#include <errno.h>
#include <stdint.h>

#include "barrier.h"
#include "chan.h"
#include "clock.h"

/* Hybrid: the spin grows while sleeps stay this short, and shrinks after longer ones. */
#define MAX_SPIN_US  1000u
/* A waiting end looks at the peer's liveness at least this often. */
#define CHECK_MS     50
/* Busy loops read the clock once per this many turns. */
#define SPIN_BATCH   64

int ivshm__nap(struct ivshm_dev *dev, int ms)
{
	uint64_t fired, coalesced;
	int hb, err;

	err = ivshm__heartbeat(&dev->region, 0);
	if (err)
		return err;
	/* Wake for the heartbeat too, so a long wait does not look like death. */
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

void ivshm__chan_kick(struct ivshm_chan *ch, enum ivshm_dir d)
{
	const uint32_t *word = d == IVSHM_RX ? &ch->peer_half->rx_wait : &ch->peer_half->tx_wait;
	uint32_t w;

	/* Our index store before the load of its wait word; it does the mirror image. */
	ivshm_fence_full();
	w = ivshm_load_relaxed(word);
	if (!(w & 1) || w == ch->rung[d])
		return;
	ch->rung[d] = w;
	if (!ivshm_trigger(ch->dev, ch->peer_id, ch->theirs.vector))
		ch->st.doorbells++;
}

/*
 * A new odd wait word each time we start sleeping (the peer rings once per
 * value), an even one when we stop.
 */
void ivshm__chan_arm(struct ivshm_chan *ch, enum ivshm_dir d, int on)
{
	uint32_t *word = d == IVSHM_RX ? &ch->half->rx_wait : &ch->half->tx_wait;
	uint32_t *mine = d == IVSHM_RX ? &ch->rx_wait : &ch->tx_wait;

	if (!on && !ch->armed[d])
		return;
	*mine += ch->armed[d] == on ? 2 : 1;
	ch->armed[d] = on;
	ivshm_store_relaxed(word, *mine);
	/* The wait word before our next look at the peer's index. */
	if (on)
		ivshm_fence_full();
}

int ivshm__chan_ready(struct ivshm_chan *ch, enum ivshm_dir d, uint32_t need)
{
	uint32_t n;

	if (d == IVSHM_RX)
		return ivshm_load_relaxed(&ch->peer_half->prod) != ch->cons;
	n = ch->prod - ivshm_load_relaxed(&ch->peer_half->cons);
	/* A lying index reads as ready: the next real look reports it. */
	return n > ch->tx_size || ch->tx_size - n >= need;
}

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

/* Between looks at a waiting channel: the heartbeat we owe, and the peer's liveness. */
static int between_looks(struct ivshm_chan *ch, int64_t now_ms)
{
	int err;

	if (now_ms < ch->next_check_ms)
		return 0;
	err = ivshm__heartbeat(ch->r, 0);
	if (!err)
		err = ivshm__chan_check_peer(ch);
	return err ? err : ch->peer_closed ? -EPIPE : 0;
}

/*
 * Spin until @d can go on, the spin ends (hybrid) or @deadline passes: 0
 * (ready, or the spin ended), -ETIMEDOUT, or the peer's end's error. -EPIPE
 * only says "look again": the call sorts out what a closed peer means.
 */
static int spin(struct ivshm_chan *ch, enum ivshm_dir d, uint32_t need, int64_t deadline)
{
	int64_t end_us = ch->wait == IVSHM_WAIT_POLL ? INT64_MAX : ivshm_clock_us() + ch->spin_cur;
	unsigned int turns = 0;
	int64_t now;
	int err;

	for (;;) {
		if (ivshm__chan_ready(ch, d, need))
			return 0;
		if (++turns % SPIN_BATCH)
			continue;
		now = ivshm_clock_us();
		if (now / 1000 >= deadline)
			return -ETIMEDOUT;
		err = between_looks(ch, now / 1000);
		if (err)
			return err;
		if (now >= end_us)
			return 0;
	}
}

/*
 * Wait once for @d (@need bytes of room for TX) until @deadline in the
 * channel's mode. Returns 0 (look again), -ETIMEDOUT, or the peer's end's
 * error (-EPIPE: look again, it closed).
 */
static int wait_step(struct ivshm_chan *ch, enum ivshm_dir d, uint32_t need, int64_t deadline)
{
	int64_t now = ivshm_clock_ms(), slept_us, left;
	int err;

	if (now >= deadline)
		return -ETIMEDOUT;
	/* Whatever a batch holds back goes out first: the peer may be waiting for it. */
	ivshm__chan_publish(ch);
	err = between_looks(ch, now);
	if (err)
		return err;
	if (ch->wait != IVSHM_WAIT_INTERRUPT) {
		err = spin(ch, d, need, deadline);
		if (err || ivshm__chan_ready(ch, d, need))
			return err;
	}
	ivshm__chan_arm(ch, d, 1);
	if (ivshm__chan_ready(ch, d, need))
		return 0;
	ch->st.sleeps++;
	slept_us = ivshm_clock_us();
	left = deadline - ivshm_clock_ms();
	err = ivshm__nap(ch->dev, left < 1 ? 1 : left > CHECK_MS ? CHECK_MS : (int)left);
	if (err)
		return err;
	if (ch->wait == IVSHM_WAIT_HYBRID)
		adapt_spin(ch, ivshm_clock_us() - slept_us);
	return 0;
}

int ivshm__chan_retry(struct ivshm_chan *ch, enum ivshm_dir d, ivshm_chan_try_fn try, void *arg,
		      int timeout_ms)
{
	int64_t deadline = -1;
	uint32_t need = 1;
	int err;

	for (;;) {
		err = try(ch, arg, &need);
		if (err != -EAGAIN) {
			if (deadline < 0)
				ivshm__busy_beat(ch->r);
			break;
		}
		/* A non-blocking call in a sleeping mode stays armed: the peer rings the device fd. */
		if (timeout_ms == 0) {
			ivshm__busy_beat(ch->r);
			if (ch->wait != IVSHM_WAIT_POLL)
				ivshm__chan_arm(ch, d, 1);
			return err;
		}
		/*
		 * The clock once there is something to wait for: a call that goes on
		 * at once (most of them, on a busy channel) reads none.
		 */
		if (deadline < 0)
			deadline = ivshm_clock_ms() + timeout_ms;
		err = wait_step(ch, d, need, deadline);
		/* A closed peer: the next try tells whether anything is left to read. */
		if (err == -EPIPE)
			continue;
		if (err)
			break;
	}
	ivshm__chan_arm(ch, d, 0);
	return ivshm__chan_fail(ch, err);
}
