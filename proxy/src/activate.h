/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Socket activation (sd_listen_fds(3)), written out as notify.c writes out
 * sd_notify(): systemd, or systemd-socket-activate, listens on the imports'
 * addresses before the proxy runs and passes the sockets as fds 3, 4, ...
 * with LISTEN_PID (ours) and LISTEN_FDS (how many). Clients that connect
 * meanwhile wait in the backlog. Each socket is matched to the import on the
 * same address (listeners_open()); one that matches none is a mistake.
 */
#ifndef PROXY_ACTIVATE_H
#define PROXY_ACTIVATE_H

/* The highest fd count taken from LISTEN_FDS. */
#define ACTIVATE_MAX_FDS 1024

/*
 * The passed fds, close-on-exec from now on, in *@fds (the caller frees it;
 * NULL with none) and the variables removed from the environment. Returns
 * their count (0 without socket activation, or when LISTEN_PID is another
 * process's), or -EINVAL (a malformed variable), -ENOMEM.
 */
int activate_fds(int **fds);

#endif
