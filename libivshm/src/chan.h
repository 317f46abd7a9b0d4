/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Channels, private to libivshm: the end of a channel a process holds, and
 * the modules that work on it, split by job as libxenvchan splits init.c
 * from io.c:
 *   chan-open.c   options, this peer's entries and halves, open/accept/close
 *   chan-peer.c   what the peer's end says: indices, entry, liveness
 *   chan-wait.c   waiting in the channel's mode, doorbells, hybrid's spin
 *   chan-io.c     the data path: send/recv, write/read, reserve/commit,
 *                 peek/release, batches
 *   poll.c        readiness of many channels for event loops
 */
#ifndef IVSHM_CHAN_H
#define IVSHM_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

enum ivshm_dir { IVSHM_RX, IVSHM_TX };

struct ivshm_chan {
	struct ivshm_dev *dev;
	struct ivshm_region *r;
	uint32_t claim_gen;		/* the claim of our slot this end lives in */
	unsigned int entry;		/* ours, in our table */
	struct ivshm_shm_chan mine;	/* what we published there */
	uint32_t ent_seq;
	struct ivshm_shm_half *half;	/* ours */
	char *tx;
	uint32_t tx_size;
	uint32_t prod, cons;		/* what we produced and consumed */
	uint32_t prod_pub, cons_pub;	/* ... as the peer can see it (a batch holds them back) */
	uint32_t rx_wait, tx_wait;	/* private copies of our wait words */
	int armed[2];

	/* The peer's end, checked when we connected; never read again from memory. */
	unsigned int peer_id, peer_slot, peer_entry;
	struct ivshm_shm_chan theirs;
	const struct ivshm_shm_half *peer_half;
	const char *rx;
	uint32_t seen_prod, seen_cons;	/* the peer's indices as last seen: they only grow */
	uint32_t checked_prod, checked_cons;	/* ... at the last liveness check */
	int64_t moved_ms;		/* when we last saw them move: a sign of life too */
	uint32_t peer_seq;		/* the peer entry's sequence word as last checked */
	unsigned int unreadable;	/* liveness checks that found the peer's slot mid-write */
	uint32_t rung[2];		/* the peer's wait words we already rang for */

	size_t reserved;		/* payload bytes reserved, 0 for none */
	uint32_t peeked;		/* bytes the peeked message or bytes span, 0 for none */
	uint32_t peek_len;		/* payload bytes of the peeked message or bytes */
	int batch;			/* between batch_begin and batch_end */
	int connecting;			/* opened with IVSHM_CHAN_NONBLOCK, no answer yet */
	int err;			/* sticky: the channel is broken */
	int peer_closed;
	int64_t next_check_ms;
	enum ivshm_wait_mode wait;
	unsigned int spin_us;		/* hybrid: the spin the application asked for */
	unsigned int spin_cur;		/* hybrid: the spin now, adapted to the peer's pace */
	unsigned int idle_calls, ops;
	uint32_t events;		/* what ivshm_poll() reports for it */
	void *data;
	struct ivshm_chan *next, *prev;	/* the region's list of channels */
	struct ivshm_chan_stats st;
};

/* chan-open.c */
struct ivshm_shm_chan *ivshm__entry_at(const struct ivshm_region *r, unsigned int slot,
				       unsigned int i);
void ivshm__chan_publish_entry(struct ivshm_chan *ch);
/*
 * A channel opened with IVSHM_CHAN_NONBLOCK: look once for the peer's answer.
 * Returns 0 (connected now), -EAGAIN (not yet), or why it never will (sticky).
 */
int ivshm__chan_connect_step(struct ivshm_chan *ch);
/*
 * One pass over the live peers' tables: pending[k] set when a peer asks this
 * one for a channel on ports[k] that no end of ours answered yet.
 */
void ivshm__find_requests(struct ivshm_region *r, const uint32_t *ports, unsigned int n,
			  unsigned char *pending);

/* chan-peer.c */
/* Whether @ch can be used: 0, its sticky error, -ENOTCONN (our slot is gone), -ENOLINK. */
int ivshm__chan_usable(struct ivshm_chan *ch);
/* Full look at the peer's end: 0, or -EHOSTDOWN, -ECONNRESET, -EPROTO; sets peer_closed. */
int ivshm__chan_check_peer(struct ivshm_chan *ch);
/*
 * What a call that found nothing to do should say: 0 (wait for the peer),
 * -EPIPE (@d RX: the peer closed and everything it sent was read; TX: nobody
 * reads what we would send), or the peer's end's error.
 */
int ivshm__chan_idle(struct ivshm_chan *ch, enum ivshm_dir d);
/* Whether sending makes sense: 0, -EPIPE (the peer closed its end), or the peer's end's error. */
int ivshm__chan_sendable(struct ivshm_chan *ch);
/* The peer's producer index, loaded once and checked: bytes to read in *@avail, or -EPROTO. */
int ivshm__chan_peer_prod(struct ivshm_chan *ch, uint32_t *avail);
/* Free bytes in our ring, from the peer's consumer index loaded once, or -EPROTO. */
int ivshm__chan_peer_cons(struct ivshm_chan *ch, uint32_t *free);
/* A broken channel stays broken: remember errors that are for good. */
int ivshm__chan_fail(struct ivshm_chan *ch, int err);

/* chan-wait.c */
/* Sleep until a doorbell, at most @ms, keeping our heartbeat. */
int ivshm__nap(struct ivshm_dev *dev, int ms);
/* Ring the peer if it sleeps on @d (rx_wait: for data we sent; tx_wait: for room we made). */
void ivshm__chan_kick(struct ivshm_chan *ch, enum ivshm_dir d);
/* Ask the peer to ring when @d can go on (@on), or stop asking. */
void ivshm__chan_arm(struct ivshm_chan *ch, enum ivshm_dir d, int on);
/* Whether @d can go on now: data to read, or @need bytes of room. */
int ivshm__chan_ready(struct ivshm_chan *ch, enum ivshm_dir d, uint32_t need);
/*
 * Call @try until it stops saying -EAGAIN or @timeout_ms passes, waiting
 * for @d in the channel's mode between tries. @try gets @arg and says, in
 * *need, how many bytes of room it waits for (TX).
 */
typedef int (*ivshm_chan_try_fn)(struct ivshm_chan *ch, void *arg, uint32_t *need);
int ivshm__chan_retry(struct ivshm_chan *ch, enum ivshm_dir d, ivshm_chan_try_fn try, void *arg,
		      int timeout_ms);

/* chan-io.c */
/* Make what we produced and consumed visible (unless a batch holds it), ringing if need be. */
void ivshm__chan_publish(struct ivshm_chan *ch);

#endif /* IVSHM_CHAN_H */
