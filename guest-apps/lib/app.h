/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every guest program does the same way: open the device saying what
 * failed, and read numeric options. Messages (common/msg.h) and clocks
 * (common/clock.h) come from the helpers all components share.
 */
#ifndef IVSHM_APP_H
#define IVSHM_APP_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "ivshm.h"
#include "msg.h"
#include "why.h"

/* Exit statuses of every guest program. */
#define EXIT_FAIL  1	/* runtime error: device, peer, header, timeout */
#define EXIT_USAGE 2	/* bad command line */

/*
 * Open @device (NULL: the first one) and say what failed (app_err(): install
 * app_log_init() first for libivshm's detail). Returns 0 or -errno.
 */
int app_open(const char *device, struct ivshm_dev **dev);

/*
 * Open a guest device (@device, NULL: the first one) or, with @host set, join
 * the doorbell server at that socket as a host peer with @vectors vectors (0:
 * the server's) and ivshm_open_server()'s @flags (IVSHM_OPEN_UNSEALED: the
 * programs' --unsealed), saying what failed. Returns 0 or -errno.
 */
int app_open_any(const char *device, const char *host, unsigned int vectors, unsigned int flags,
		 struct ivshm_dev **dev);

/* Open a doorbell device, with its peer ID and buffer. Returns 0 or -errno. */
int app_open_doorbell(const char *device, struct ivshm_dev **dev, unsigned int *id,
		      void **buf, size_t *size);

/* Publish this peer as @role, to be rung on @vector, and say what failed. Returns 0 or -errno. */
int app_publish(struct ivshm_dev *dev, const char *role, unsigned int vector, uint64_t user);

/*
 * Print the peer directory, one line per publication:
 *   peer id=N role=ROLE state=live|gone|dead vector=V generation=G
 * or "peers none". Returns 0 or -errno (said).
 */
int app_list_peers(struct ivshm_dev *dev);

/*
 * Parse an option value (decimal, or hexadecimal with 0x) of at most @max, or
 * print why it is bad. Returns 0 or -1.
 */
/*
 * The entry named @name of a table of @n entries of @size bytes each, whose
 * first member is its name (a const char *); NULL if none.
 */
const void *app_lookup(const void *table, size_t n, size_t size, const char *name);

int app_parse_opt(const char *opt, const char *s, uint64_t max, uint64_t *out);

#endif /* IVSHM_APP_H */
