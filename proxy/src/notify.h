/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * systemd's readiness protocol (sd_notify(3)), written out: one datagram to
 * $NOTIFY_SOCKET. The static guest binary cannot link libsystemd, and the
 * protocol is a stable interface. Does nothing without $NOTIFY_SOCKET.
 */
#ifndef PROXY_NOTIFY_H
#define PROXY_NOTIFY_H

/* Send @state ("READY=1\nSTATUS=..."). Returns 0 or -errno. */
int proxy_notify(const char *state);

#endif
