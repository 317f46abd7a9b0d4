/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The header shm-server/shm-client and ivshm-pingpong place at offset 0 of
 * the ivshmem shared buffer: the shared-memory layout alone, nothing else.
 *
 * One side, the owner (shm-server, pingpong "pong"), publishes it with its
 * peer ID and the vector it waits on; the other side, the guest (shm-client,
 * pingpong "ping"), finds the owner there, so no peer ID is ever hard-coded.
 * All fields are little-endian (both sides are x86 guests).
 *
 * Protocol, owner:  state = EMPTY; write every other field and the message;
 *                   release; state = OWNER_READY.
 *           guest:  acquire-load state; copy the header; validate the copy;
 *                   write guest_* and the message; release; state = GUEST_DONE;
 *                   ring owner_id/owner_vector.
 * An owner that exits zeroes magic and state so nobody trusts a stale header.
 * A reader treats everything as hostile: a foreign magic, another version or
 * out-of-bounds offsets are errors, never followed.
 */
#ifndef IVSHM_SHM_LAYOUT_H
#define IVSHM_SHM_LAYOUT_H

#include <stdint.h>

#define IVSHM_APP_MAGIC   0x50415649u	/* "IVAP" little-endian */
#define IVSHM_APP_VERSION 1u
#define IVSHM_APP_ID_NONE 0xffffffffu	/* guest_id/guest_vector not written yet */

enum ivshm_app_kind {
	IVSHM_APP_EXCHANGE = 1,		/* shm-server / shm-client */
	IVSHM_APP_PINGPONG = 2,		/* ivshm-pingpong */
};

enum ivshm_app_state {
	IVSHM_APP_EMPTY = 0,		/* being written, or its owner exited */
	IVSHM_APP_OWNER_READY = 1,	/* owner waits for the guest's doorbell */
	IVSHM_APP_GUEST_DONE = 2,	/* guest wrote its reply and rang */
};

struct ivshm_app_hdr {
	uint32_t magic;			/* IVSHM_APP_MAGIC */
	uint16_t version;		/* IVSHM_APP_VERSION */
	uint16_t hdr_size;		/* sizeof(struct ivshm_app_hdr) */
	uint32_t kind;			/* enum ivshm_app_kind */
	uint32_t state;			/* enum ivshm_app_state, stored last */
	uint32_t owner_id;		/* owner's peer ID, 0..65535 */
	uint32_t owner_vector;		/* vector the owner waits on, < 64 */
	uint32_t guest_id;		/* guest's peer ID, or IVSHM_APP_ID_NONE */
	uint32_t guest_vector;		/* vector the guest waits on, or IVSHM_APP_ID_NONE */
	uint32_t msg_off;		/* message area: offset from the buffer start */
	uint32_t msg_cap;		/* message area: size in bytes */
	uint32_t msg_len;		/* bytes of message in the area (no NUL) */
	uint32_t reserved[5];		/* zero */
};

_Static_assert(sizeof(struct ivshm_app_hdr) == 64, "header must stay 64 bytes");

/*
 * ivshm-pingpong's message area: one sequence number per direction, each on
 * its own cache line with a single writer.
 */
struct ivshm_pingpong_slot {
	uint32_t ping_seq;		/* written by ping: round 1..rounds */
	uint32_t rounds;		/* written by ping before its first doorbell */
	uint32_t pad0[14];
	uint32_t pong_seq;		/* written by pong */
	uint32_t pad1[15];
};

_Static_assert(sizeof(struct ivshm_pingpong_slot) == 128, "two cache lines");

#endif /* IVSHM_SHM_LAYOUT_H */
