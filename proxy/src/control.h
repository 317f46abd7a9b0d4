/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket (AF_UNIX stream, the config's "control" path): a client
 * writes one command line and reads the answer until the end of the stream.
 * Commands: "status" (services, links and every connection, one
 * "KIND key=value ..." line each, then "end").
 */
#ifndef PROXY_CONTROL_H
#define PROXY_CONTROL_H

#include <stdint.h>

#include "proxy.h"

/* Listen on the control path (its directory made if missing). Returns 0 or -errno (logged). */
int control_open(struct proxy *px);
void control_event(struct proxy *px, struct watch *w, uint32_t events);
/* Drop clients that took too long. */
void control_expire(struct proxy *px, int64_t now);
void control_close(struct proxy *px);

/* The status text, as the control socket answers "status". */
void control_status(struct proxy *px, FILE *f);

/*
 * The client side: send @cmd to the control socket at @path and copy the
 * answer to @out, within @timeout_ms. Returns 0 or -errno.
 */
int control_query(const char *path, const char *cmd, FILE *out, int timeout_ms);

#endif
