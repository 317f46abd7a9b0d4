/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The listening sockets of imports (import.c). */
#ifndef PROXY_IMPORT_H
#define PROXY_IMPORT_H

#include "proxy.h"

/* Listen for every import, watched by px->ep. Returns 0 or -errno (logged). */
int listeners_open(struct proxy *px);
/* Accept the clients waiting on @lst. */
void listener_event(struct proxy *px, struct listener *lst);
/* Listen again where running out of file descriptors paused it. */
void listeners_resume(struct proxy *px, int64_t now);
/* Stop listening and remove Unix socket files. */
void listeners_close(struct proxy *px);

#endif
