/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Doorbells of a host handle, safe against the other host peers. The server
 * passes every eventfd by SCM_RIGHTS, so all peers share one open file
 * description per eventfd, O_NONBLOCK included: any of them can clear the
 * flag, and fill a counter to 2^64 - 2 so that the next write() blocks
 * forever. pwritev2(RWF_NOWAIT) is refused on eventfds, so a write cannot be
 * bounded by a flag of our own.
 *
 * A doorbell checks the flag and writes. A full counter means the peer is
 * already signalled: the doorbell is dropped. A cleared flag is restored,
 * the counter polled, and the handle marked tampered; from then on its
 * doorbells are handed to a ringer thread as pending (peer, vector) bits,
 * and the caller never waits for it. A ringer that stays in write() longer
 * than IVSHM_RINGER_STUCK_MS (an attacker won the race between the check
 * and the write) is cancelled, and doorbells to that eventfd are dropped
 * until its peer leaves.
 */
#ifndef IVSHM_HOST_RING_H
#define IVSHM_HOST_RING_H

#include <stdbool.h>
#include <stdint.h>

#define IVSHM_RINGER_STUCK_MS 100

struct ivshm_ringer;

/*
 * Ring the eventfd @fd of @peer's @vector (fd owned by the caller, valid
 * during the call). *@r is created on the first tampering seen.
 * Returns 0 (rung, dropped or queued) or -ENOMEM; never blocks.
 */
int ivshm__ring_eventfd(struct ivshm_ringer **r, int fd, unsigned int peer, unsigned int vector);

/* @peer left: forget its eventfds and pending doorbells (the caller closes its own fds). */
void ivshm__ringer_forget(struct ivshm_ringer *r, unsigned int peer);

/* Stop the ringer without waiting for it; accepts NULL. */
void ivshm__ringer_free(struct ivshm_ringer *r);

#endif
