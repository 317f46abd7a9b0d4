/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event loop: one epoll set over the device fd, the listeners, every
 * connection's socket, the control socket and a signalfd. A turn serves every
 * link (records in, frames out, in one batch each); the loop sleeps only when
 * a turn did nothing, after asking every peer to ring (interrupt mode), or
 * after spinning spin-us (hybrid), or never (poll).
 */
#ifndef PROXY_LOOP_H
#define PROXY_LOOP_H

#include "proxy.h"

/* Until px->stop. Returns 0 or -errno of epoll_wait(). */
int proxy_loop(struct proxy *px);

#endif
