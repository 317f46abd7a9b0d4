/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshmd without -F: the daemon is a small supervisor that does for the
 * server what systemd does for ivshmd.service. It holds the pidfile, runs
 * the server as its child with $NOTIFY_SOCKET pointing at itself, keeps the
 * fds the server stores there (FDSTORE=1, store.h) and, when the server
 * dies, starts it again with them ($LISTEN_FDS), so the memory, the
 * listening sockets and the connected peers survive a crash. SIGTERM and
 * SIGINT stop the server, then the supervisor; SIGUSR2 is passed on (the
 * server re-executes itself).
 */
#ifndef IVSHMD_SUPERVISE_H
#define IVSHMD_SUPERVISE_H

/* Set in the server's environment: "1" while stderr is the terminal, "2" once detached. */
#define IVSHMD_SUPERVISED_ENV "IVSHMD_SUPERVISED"

/*
 * Daemonize (the caller's process exits once the server is ready, see
 * daemon.h) and supervise the server, which runs argv again. Returns the
 * supervisor's exit status.
 */
int ivshmd_supervise(const char *pidfile, char *argv[]);

#endif
