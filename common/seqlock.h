/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The seqlock of contracts/ivshm-shm.h, both sides, for every structure that
 * starts with a 32-bit sequence word and has one writer: directory slots,
 * channel entries (libivshm) and the server page (ivshmd). The writer makes
 * the word odd, rewrites the fields, and makes it even again; a reader copies
 * the structure between two loads of the word and keeps the copy only when
 * both loads are the same even value.
 */
#ifndef IVSHM_COMMON_SEQLOCK_H
#define IVSHM_COMMON_SEQLOCK_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "barrier.h"

/* A structure rewritten this many times while it is copied is not worth waiting for. */
#define IVSHM_SEQ_RETRIES 64

/*
 * Begin a rewrite of the structure whose sequence word is *@seqp; *@seq is the
 * writer's private copy of the word (the shared one is never read back).
 */
static inline void ivshm_seq_write_begin(uint32_t *seqp, uint32_t *seq)
{
	*seq |= 1;
	ivshm_store_relaxed(seqp, *seq);
	/* The odd word before any field changes. */
	ivshm_fence_release();
}

static inline void ivshm_seq_write_end(uint32_t *seqp, uint32_t *seq)
{
	(*seq)++;
	/* Every field before the even word: a copy between two equal words has them all. */
	ivshm_store_release(seqp, *seq);
}

/*
 * Copy @len bytes of the structure at @shared (its sequence word first) into
 * @out, whole: between two equal, even loads of the word. The copy's word is
 * the value both loads saw.
 * Returns 0, or -EAGAIN when the writer kept rewriting it (or died mid-write).
 */
static inline int ivshm_seq_read(const void *shared, void *out, size_t len)
{
	const uint32_t *seqp = (const uint32_t *)shared;
	uint32_t seq;
	int tries;

	for (tries = 0; tries < IVSHM_SEQ_RETRIES; tries++) {
		seq = ivshm_load_acquire(seqp);
		if (seq & 1)
			continue;
		memcpy(out, shared, len);
		/* The copy's loads complete before the second load of the word. */
		ivshm_fence_acquire();
		if (ivshm_load_relaxed(seqp) == seq) {
			memcpy(out, &seq, sizeof(seq));
			return 0;
		}
	}
	return -EAGAIN;
}

#endif /* IVSHM_COMMON_SEQLOCK_H */
