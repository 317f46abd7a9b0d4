/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a restarted ivshmd needs besides the fds it kept: which peers were
 * connected and whether each one's stream was at rest. A small memfd kept
 * with the other fds (systemd's fd store, the supervisor, a re-exec) and
 * written in place, one byte per ID, so whatever point a crash hits, the
 * record says what every peer had been sent:
 *
 *   CLEAN  its queue was empty: it knows exactly the peers recorded;
 *   DIRTY  messages were, or were about to be, on their way to it.
 *
 * Every peer that a change will be announced to is marked DIRTY before the
 * change is recorded, so a CLEAN peer never misses one. After a restart a
 * CLEAN peer keeps its connection; any other is disconnected and announced
 * as gone to the peers kept.
 */
#ifndef IVSHMD_RECORD_H
#define IVSHMD_RECORD_H

#include <stdint.h>

#define IVSHMD_RECORD_MAGIC   0x44524849u	/* "IHRD" */
#define IVSHMD_RECORD_VERSION 1u
#define IVSHMD_RECORD_IDS     65536u

enum ivshmd_record_state {
	IVSHMD_REC_NONE = 0,
	IVSHMD_REC_CLEAN = 1,
	IVSHMD_REC_DIRTY = 2,
};

struct ivshmd_record_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t shm_size;
	uint32_t shm_kind;
	uint32_t shm_created;	/* -M: the object was created by ivshmd (removed at exit) */
	uint32_t vectors;
	uint32_t next_id;	/* where the search for an unpinned ID goes on */
};

struct ivshmd_record {
	int fd;
	struct ivshmd_record_hdr *hdr;	/* the mapping starts here */
	uint8_t *state;			/* IVSHMD_RECORD_IDS bytes */
};

/* A new, empty record. Returns 0 or a negative errno. */
int ivshmd_record_create(struct ivshmd_record *r);

/*
 * Map a kept record fd. Returns 0 (r owns fd) when it is one, or a negative
 * errno (fd is left to the caller).
 */
int ivshmd_record_adopt(struct ivshmd_record *r, int fd);

/* Forget every peer and write a new header. */
void ivshmd_record_reset(struct ivshmd_record *r, const struct ivshmd_record_hdr *hdr);

void ivshmd_record_set(struct ivshmd_record *r, unsigned id, enum ivshmd_record_state st);

enum ivshmd_record_state ivshmd_record_get(const struct ivshmd_record *r, unsigned id);

/* Unmaps and closes; accepts a record never created. */
void ivshmd_record_close(struct ivshmd_record *r);

#endif
