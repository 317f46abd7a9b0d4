/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The layout libivshm gives the ivshmem shared memory (BAR2): what every peer
 * that uses libivshm, in a guest or on the host, agrees on. Nothing else.
 *
 *   0            region header (one page; its second half is the server page)
 *   dir_off      peer directory: dir_slots slots of 128 bytes
 *   arena_off    dir_slots arenas of arena_size bytes; arena N goes with slot N:
 *                  +0                  user page (the application's, 4 KiB)
 *                  +IVSHM_SHM_CHAN_OFF channel table (IVSHM_SHM_MAX_CHANS entries)
 *                  +IVSHM_SHM_HEAP_OFF channel halves, placed by the owner
 *
 * Everything is derived from the region size alone (ivshm_shm_layout()), so
 * any peer can write the header and two peers writing it at once write the
 * same bytes; no peer trusts the header's numbers, it compares them with its
 * own. One writer per word:
 *   - a peer claims a free slot by compare-and-swap of its owner word, then
 *     it alone writes the slot and the slot's arena;
 *   - the server page belongs to the doorbell server (ivshmd --publish-peers);
 *   - everybody reads everything, and treats it as hostile: each field is
 *     loaded once, copied, then checked.
 * Cross-VM compare-and-swap and fences need real atomics in every guest: KVM
 * has them; QEMU TCG before 8.1 elides them in guests with a single possible
 * CPU, so TCG guests run with maxcpus >= 2.
 * All integers are little-endian; offsets are from the start of the region
 * unless a comment says otherwise.
 */
#ifndef IVSHM_SHM_H
#define IVSHM_SHM_H

#include <stdint.h>

#include "ivshm-role.h"

#define IVSHM_SHM_MAGIC      0x4d485349u	/* "ISHM" */
#define IVSHM_SHM_MAJOR      1	/* readers refuse another major */
#define IVSHM_SHM_MINOR      1	/* a newer minor only adds (1.1: ticks, peer_entry) */
#define IVSHM_SHM_PAGE       4096u
#define IVSHM_SHM_CACHELINE  64u
#define IVSHM_SHM_SLOT_SIZE  128u
#define IVSHM_SHM_MAX_SLOTS  64u
#define IVSHM_SHM_SLOT_SPAN  (256u * 1024)	/* one slot per 256 KiB of region */
#define IVSHM_SHM_MIN_SIZE   (4u * IVSHM_SHM_SLOT_SPAN)	/* 1 MiB: four slots */
#define IVSHM_SHM_ROLE_MAX   IVSHM_ROLE_MAX	/* role bytes, NUL included */

/* Offset 0. Written with magic last; identical from every writer. */
struct ivshm_shm_header {
	uint32_t magic;			/* IVSHM_SHM_MAGIC, stored last */
	uint16_t major, minor;
	uint32_t hdr_size;		/* sizeof(struct ivshm_shm_header) */
	uint32_t slot_size;		/* IVSHM_SHM_SLOT_SIZE */
	uint64_t region_size;
	uint64_t dir_off;
	uint64_t arena_off;
	uint64_t arena_size;
	uint32_t dir_slots;
	uint32_t reserved[3];		/* zero */
};

/*
 * The server page, offset IVSHM_SHM_SERVER_OFF: written only by a doorbell
 * server that publishes who is connected (ivshmd does by default; QEMU's own
 * server does not, and then peers rely on heartbeats alone). live[] is a bitmap
 * of connected peer IDs. seq is odd while the server rewrites magic, nr_ids,
 * vectors or live[].
 *
 * Since 1.1 the server also ticks: tick grows by one every tick_ms while it
 * runs (never 0: it wraps from UINT32_MAX to 1), stored alone, outside the
 * seqlock. A peer writes the tick it saw into its slot's hb_tick at every
 * heartbeat, so a reader tells a live peer from a dead one at its first look,
 * without watching the heartbeat move for a while. A server that stops
 * withdraws the page (magic 0); a tick that stands still is a stopped server.
 */
#define IVSHM_SHM_SERVER_OFF   2048u
#define IVSHM_SHM_SERVER_MAGIC 0x56525349u	/* "ISRV" */
#define IVSHM_SHM_SERVER_IDS   8192u		/* IDs the bitmap covers: 0..8191 */
#define IVSHM_SHM_TICK_MS      100u		/* the period ivshmd ticks at */
struct ivshm_shm_server {
	uint32_t magic;
	uint32_t seq;
	uint32_t nr_ids;		/* IVSHM_SHM_SERVER_IDS */
	uint32_t vectors;		/* the server's vectors per peer; 0: not told (1.0) */
	uint32_t live[IVSHM_SHM_SERVER_IDS / 32];	/* bit id % 32 of word id / 32 */
	/* 1.1 */
	uint32_t tick;			/* see above; 0: the server does not tick */
	uint32_t tick_ms;		/* its period; 0: it does not tick */
};

enum ivshm_shm_slot_state {
	IVSHM_SHM_SLOT_FREE = 0,	/* never published (owner 0: never claimed either) */
	IVSHM_SHM_SLOT_LIVE = 1,	/* published, owner running */
	IVSHM_SHM_SLOT_GONE = 2,	/* owner left cleanly */
};

/*
 * A directory slot: two cache lines. owner is claimed by compare-and-swap
 * from the value the claimer saw to the claim count + 1 in bits 32-62 and
 * the peer ID + 1 in the low half, so of two claims from one observation only
 * one succeeds; everything else has one writer, the owner. A slot is free to
 * claim when owner is 0 (never claimed) or has IVSHM_SHM_OWNER_LEFT set (1.1:
 * its owner left: GONE, and it set the bit by compare-and-swap from its own
 * claim), or when its owner is dead. A GONE slot without the bit is one a
 * claimer took and has not published yet (or one a 1.0 peer left): not free
 * while its owner lives. Line 0 is a seqlock: seq is odd while the owner
 * rewrites it and grows by 2 with each publication, so a reader that loads
 * seq, copies the line and loads seq again knows whether it copied one
 * publication whole (seq / 2 is the generation). Line 1 is the heartbeat,
 * bumped by the owner from its claim on.
 */
#define IVSHM_SHM_OWNER_ID(owner) ((uint32_t)(owner) - 1)	/* when (uint32_t)owner != 0 */
#define IVSHM_SHM_OWNER_LEFT  (UINT64_C(1) << 63)
#define IVSHM_SHM_OWNER_CLAIMS(owner) (((owner) >> 32) & 0x7fffffffu)
struct ivshm_shm_slot {
	uint32_t seq;
	uint32_t state;			/* enum ivshm_shm_slot_state */
	uint32_t vector;		/* the vector to ring the owner on */
	uint32_t hb_period_ms;		/* the owner's heartbeat period */
	uint64_t owner;			/* claims << 32 | (peer ID + 1); 0 never claimed */
	uint64_t epoch;			/* random per claim: tells incarnations apart */
	uint64_t user;			/* the application's word */
	char role[IVSHM_SHM_ROLE_MAX];	/* NUL-terminated, printable ASCII, no blank */
	/* line 1 */
	uint64_t heartbeat;		/* bumped at least every hb_period_ms while LIVE */
	uint32_t hb_tick;		/* 1.1: the server's tick at that bump; 0 none */
	uint32_t reserved1[13];
};

/* Within an arena. */
#define IVSHM_SHM_USER_SIZE  IVSHM_SHM_PAGE
#define IVSHM_SHM_CHAN_OFF   IVSHM_SHM_USER_SIZE
#define IVSHM_SHM_CHAN_SIZE  128u
#define IVSHM_SHM_MAX_CHANS  32u
#define IVSHM_SHM_HEAP_OFF   (IVSHM_SHM_CHAN_OFF + IVSHM_SHM_MAX_CHANS * IVSHM_SHM_CHAN_SIZE)

enum ivshm_shm_chan_state {
	IVSHM_SHM_CHAN_FREE = 0,
	IVSHM_SHM_CHAN_OPEN = 1,	/* this half exists and is being used */
	IVSHM_SHM_CHAN_CLOSED = 2,	/* its owner closed it: drain, then end */
};

enum ivshm_shm_chan_type {
	IVSHM_SHM_CHAN_PACKET = 1,	/* records: whole messages */
	IVSHM_SHM_CHAN_STREAM = 2,	/* bytes */
};

/*
 * One end of a channel, in its owner's channel table; seqlocked like a slot,
 * one writer (the owner). A channel between peers A and B on port P is A's
 * entry naming (B, P) and B's entry naming (A, P); each entry points at its
 * owner's half: the ring the owner sends on and the indices the owner writes.
 *
 * An end that closes leaves its entry CLOSED, and neither the entry nor its
 * half is used again while the other end's entry still names it (OPEN, this
 * owner's epoch as peer_epoch, this entry as peer_entry): a peer still reading
 * a closed channel never sees its memory reused under it. Since 1.1 an end
 * names the entry it connected to (peer_entry), so a new channel between the
 * same two peers on the same port never connects to the old one's entry.
 */
struct ivshm_shm_chan {
	uint32_t seq;
	uint32_t state;			/* enum ivshm_shm_chan_state */
	uint32_t peer_id;		/* the other end */
	uint32_t port;			/* the application's channel number */
	uint32_t type;			/* enum ivshm_shm_chan_type; both ends agree */
	uint32_t vector;		/* the vector to ring the owner on for this channel */
	uint32_t ring_size;		/* bytes of the owner's send ring: a power of two */
	uint32_t max_msg;		/* packet: largest message the owner sends */
	uint64_t half_off;		/* the half, from the start of the owner's arena */
	uint64_t epoch;			/* the owner's slot epoch */
	uint64_t peer_epoch;		/* the peer's epoch this end connected to; 0 before */
	/* 1.1 */
	uint32_t peer_entry;		/* the peer's entry this end connected to, + 1; 0 before */
	uint32_t reserved[17];
};

/*
 * A half: four cache lines of indices, then the owner's send ring. Indices
 * are free-running 32-bit byte counts; a ring position is index & (size - 1).
 * Every word has one writer, the owner; the peer only reads.
 */
struct ivshm_shm_half {
	uint32_t prod;			/* bytes the owner produced into its ring */
	uint32_t pad0[15];
	uint32_t cons;			/* bytes the owner consumed from the peer's ring */
	uint32_t pad1[15];
	uint32_t rx_wait;		/* changes (odd) when the owner sleeps for data: ring it */
	uint32_t pad2[15];
	uint32_t tx_wait;		/* changes (odd) when the owner sleeps for space: ring it */
	uint32_t pad3[15];
	/* the ring follows: ring_size bytes */
};

/*
 * A packet record in a ring: this header, then len bytes, padded to 8. A
 * record never wraps: a writer that would cross the ring's end writes a PAD
 * record to the end instead and starts at 0.
 */
#define IVSHM_SHM_REC_PAD   1u	/* flags: skip to the end of the ring */
#define IVSHM_SHM_REC_ALIGN 8u
struct ivshm_shm_rec {
	uint32_t len;
	uint32_t flags;
};

/* The layout of a region of @size bytes; -1 when it is too small. */
struct ivshm_shm_layout {
	uint64_t region_size;
	uint64_t dir_off;
	uint64_t arena_off;
	uint64_t arena_size;
	uint32_t dir_slots;
};

static inline int ivshm_shm_layout(uint64_t size, struct ivshm_shm_layout *l)
{
	uint64_t slots, dir_bytes;

	if (size < IVSHM_SHM_MIN_SIZE)
		return -1;
	slots = size / IVSHM_SHM_SLOT_SPAN;
	if (slots > IVSHM_SHM_MAX_SLOTS)
		slots = IVSHM_SHM_MAX_SLOTS;
	dir_bytes = slots * IVSHM_SHM_SLOT_SIZE;
	l->region_size = size;
	l->dir_slots = (uint32_t)slots;
	l->dir_off = IVSHM_SHM_PAGE;
	l->arena_off = l->dir_off + (dir_bytes + IVSHM_SHM_PAGE - 1) / IVSHM_SHM_PAGE * IVSHM_SHM_PAGE;
	l->arena_size = (size - l->arena_off) / slots / IVSHM_SHM_PAGE * IVSHM_SHM_PAGE;
	return 0;
}

_Static_assert(sizeof(struct ivshm_shm_header) == 64, "one cache line");
_Static_assert(IVSHM_SHM_SERVER_OFF + sizeof(struct ivshm_shm_server) <= IVSHM_SHM_PAGE,
	       "server page fits the header page");
_Static_assert(sizeof(struct ivshm_shm_slot) == IVSHM_SHM_SLOT_SIZE, "two cache lines");
_Static_assert(sizeof(struct ivshm_shm_chan) == IVSHM_SHM_CHAN_SIZE, "two cache lines");
_Static_assert(sizeof(struct ivshm_shm_half) == 4 * IVSHM_SHM_CACHELINE, "four cache lines");
_Static_assert(IVSHM_SHM_HEAP_OFF < IVSHM_SHM_SLOT_SPAN / 2, "arenas keep room for rings");

#endif /* IVSHM_SHM_H */
