/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bounded FIFO of protocol messages waiting for one client's socket.
 * Sends never block: what the socket does not take stays queued, and a
 * queue that would exceed its limit refuses the message instead of growing,
 * so one client that stops reading cannot exhaust the server.
 */
#ifndef IVSHMD_SENDQ_H
#define IVSHMD_SENDQ_H

#include <stddef.h>
#include <stdint.h>

#include "fdref.h"

struct ivshmd_msg {
	int64_t value;
	struct ivshmd_fdref *ref;	/* NULL: no fd */
};

struct ivshmd_sendq {
	struct ivshmd_msg *ring;
	size_t cap;	/* allocated entries, a power of two */
	size_t head;
	size_t len;
	size_t limit;
	size_t partial;	/* bytes of the head message already sent */
};

void ivshmd_sendq_init(struct ivshmd_sendq *q, size_t limit);

/* Drops every queued message (and its fd reference) and frees the ring. */
void ivshmd_sendq_clear(struct ivshmd_sendq *q);

/*
 * Append a message; with ref, the queue takes its own reference.
 * Returns 0, -ENOBUFS when the queue is at its limit, or -ENOMEM.
 */
int ivshmd_sendq_push(struct ivshmd_sendq *q, int64_t value, struct ivshmd_fdref *ref);

/*
 * Send as much as the non-blocking socket takes. *progress is set when at
 * least one byte left. Returns 0 when the queue is empty, -EAGAIN when the
 * socket is full, or the negative errno of a failed send (the client is
 * broken: EPIPE, ECONNRESET, ETOOMANYREFS...).
 */
int ivshmd_sendq_flush(struct ivshmd_sendq *q, int sock, int *progress);

#endif
