/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeping fds across a restart: systemd's file descriptor store (sd_notify
 * FDSTORE=1 with FDNAME, FDSTOREREMOVE=1), or ivshmd's own supervisor, which
 * speaks the same protocol. Used when $NOTIFY_SOCKET is set. A restarted
 * ivshmd gets the fds back as $LISTEN_FDS with $LISTEN_FDNAMES (inherit.h).
 *
 * Names: "record", "shm", "listen" (the main socket), "listen.NAME" (a
 * pinned socket), "ctl", "peer.ID" (a peer's connection) and "peer.ID.vN"
 * (its eventfd for vector N).
 */
#ifndef IVSHMD_STORE_H
#define IVSHMD_STORE_H

#include <stdbool.h>

#define IVSHMD_STORE_NAME_MAX 64

/* Whether a store listens ($NOTIFY_SOCKET); read once. */
bool ivshmd_store_enabled(void);

/* Keep a copy of fd under the name (printf-style). Failures are logged, not fatal. */
void ivshmd_store_add(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Drop every fd kept under the name. */
void ivshmd_store_remove(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
