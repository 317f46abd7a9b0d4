/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The layout libivshm gives the ivshmem shared memory (BAR2): what every peer
 * that uses libivshm, in a guest or on the host, agrees on. Nothing else.
 *
 *   0            region header (one page; its second half is the server page)
 *   dir_off      peer directory: dir_slots slots of 128 bytes
 *   arena_off    dir_slots arenas of arena_size bytes, one per slot
 *
 * Everything is derived from the region size alone (ivshm_shm_layout()), so
 * any peer can write the header and two peers writing it at once write the
 * same bytes; no peer ever trusts the header's numbers, it compares them with
 * its own. Single writer everywhere, no atomic read-modify-write across VMs
 * (TCG guests do not make them atomic between QEMU processes):
 *   - slot N and arena N belong to the peer whose ID is N modulo dir_slots;
 *     only that peer writes them (a second live peer with the same residue is
 *     refused);
 *   - the server page belongs to the doorbell server (ivshmd --publish-peers);
 *   - everybody reads everything, and treats it as hostile: each field is
 *     loaded once, copied, then checked.
 * All integers are little-endian; offsets are from the start of the region.
 */
#ifndef IVSHM_SHM_H
#define IVSHM_SHM_H

#include <stdint.h>

#define IVSHM_SHM_MAGIC      0x4d485349u	/* "ISHM" */
#define IVSHM_SHM_MAJOR      1	/* readers refuse another major */
#define IVSHM_SHM_MINOR      0	/* a newer minor only adds */
#define IVSHM_SHM_PAGE       4096u
#define IVSHM_SHM_CACHELINE  64u
#define IVSHM_SHM_SLOT_SIZE  128u
#define IVSHM_SHM_MAX_SLOTS  64u
#define IVSHM_SHM_SLOT_SPAN  (64u * 1024)	/* one slot per 64 KiB of region */
#define IVSHM_SHM_MIN_SIZE   (4u * IVSHM_SHM_SLOT_SPAN)	/* 256 KiB: four slots */
#define IVSHM_SHM_ROLE_MAX   32u	/* role bytes, NUL included */

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
 * server that publishes who is connected (opt-in; QEMU's own server does not,
 * and then peers rely on heartbeats alone). live[slot] is the peer ID + 1 of
 * the peer connected in that slot's residue class, 0 for none. seq is odd
 * while the server rewrites the table.
 */
#define IVSHM_SHM_SERVER_OFF   2048u
#define IVSHM_SHM_SERVER_MAGIC 0x56525349u	/* "ISRV" */
struct ivshm_shm_server {
	uint32_t magic;
	uint32_t seq;
	uint32_t dir_slots;		/* as in the header */
	uint32_t reserved;
	uint32_t live[IVSHM_SHM_MAX_SLOTS];
};

enum ivshm_shm_slot_state {
	IVSHM_SHM_SLOT_FREE = 0,	/* never used */
	IVSHM_SHM_SLOT_LIVE = 1,	/* published, owner running */
	IVSHM_SHM_SLOT_GONE = 2,	/* owner left cleanly */
};

/*
 * A directory slot: two cache lines with one writer, the owner.
 * Line 0 is a seqlock: seq is odd while the owner rewrites the line and grows
 * by 2 with each publication, so a reader that loads seq, copies the line and
 * loads seq again knows whether it copied one publication whole (seq / 2 is
 * the generation). Line 1 is the heartbeat, outside the seqlock.
 */
struct ivshm_shm_slot {
	uint32_t seq;
	uint32_t state;			/* enum ivshm_shm_slot_state */
	uint32_t peer_id;		/* 0..IVSHMEM_MAX_PEER_ID */
	uint32_t vector;		/* the vector to ring the owner on */
	uint64_t epoch;			/* random per publication: tells incarnations apart */
	uint64_t user;			/* the application's word */
	char role[IVSHM_SHM_ROLE_MAX];	/* NUL-terminated, printable ASCII */
	/* line 1 */
	uint64_t heartbeat;		/* bumped at least every hb_period_ms while LIVE */
	uint32_t hb_period_ms;
	uint32_t reserved1[13];
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
_Static_assert(sizeof(struct ivshm_shm_server) <= IVSHM_SHM_PAGE - IVSHM_SHM_SERVER_OFF,
	       "server page fits the header page");
_Static_assert(sizeof(struct ivshm_shm_slot) == IVSHM_SHM_SLOT_SIZE, "two cache lines");

#endif /* IVSHM_SHM_H */
