/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One connection to an ivshmem server, as QEMU's device makes it: receive
 * the setup, map the memory, keep every peer's eventfds, and report each
 * event as one line on stdout (the format is in ivshm-peer --help).
 */
#ifndef IVSHM_PEER_CONN_H
#define IVSHM_PEER_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "pump.h"

struct conn {
	struct ivshm_pump p;	/* the connection and its session (common/pump.h) */
	unsigned char *map;
	uint64_t size;
	bool trace;		/* print every raw message */
	bool quiet;		/* print nothing about the protocol */
	bool map_shm;
	uint64_t counts[UIO_IVSHMEM_MAX_VECTORS];	/* own vector firings seen */
};

/*
 * Connect to path. vectors: eventfds per peer (QEMU's vectors=N, 0 for a
 * server without doorbells); keep: keep the fds and map the memory (false
 * for connection churn). Returns 0 or a negative errno (printed); on error
 * c holds nothing and needs no conn_close().
 */
int conn_open(struct conn *c, const char *path, unsigned vectors, bool keep);

void conn_close(struct conn *c);

/*
 * Handle every message already readable. Returns 0 when the socket has no
 * more, 1 on end of stream (prints "eof"), or a negative errno ("error ..."
 * printed; -EPROTO for a protocol violation).
 */
int conn_pump(struct conn *c);

/*
 * Pump until the setup is complete or deadline_ms (ivshm_clock_ms()) passes.
 * Returns 0, 1 on EOF, -ETIMEDOUT or -errno.
 */
int conn_wait_ready(struct conn *c, int64_t deadline_ms);

/* Own eventfd of vector v, or -1. */
int conn_own_fd(const struct conn *c, unsigned v);

/* Ring peer's vector v: write 1 to its eventfd. Returns 0, -ENOENT or -errno. */
int conn_ring(struct conn *c, unsigned peer, unsigned v);

/*
 * Consume own vector v's eventfd if it fired (non-blocking), add to
 * counts and print "got". Returns the count read (0 if none) or -errno.
 */
long long conn_take(struct conn *c, unsigned v);

/* Bounds-checked access to the mapped memory; -ERANGE outside it, -ENODEV unmapped. */
int conn_write(struct conn *c, uint64_t off, const void *buf, uint64_t len);
int conn_read(struct conn *c, uint64_t off, void *buf, uint64_t len);

#endif
