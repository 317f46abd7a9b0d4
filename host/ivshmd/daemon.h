/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Backgrounding without lying about success: the parent of the fork waits
 * until the daemon reports that it is ready, and exits 1 if it failed.
 */
#ifndef IVSHMD_DAEMON_H
#define IVSHMD_DAEMON_H

/*
 * Fork and start a new session. Returns 0 in the child with *report for
 * ivshmd_daemon_ready() or ivshmd_daemon_failed(), or a negative errno
 * (nothing forked). The parent does not return: it exits 0 once the child
 * reports readiness, 1 if the child fails, exits or stays silent for 30
 * seconds. SIGTERM or SIGINT meanwhile (whatever the caller blocked) make it
 * send SIGTERM to the child, wait for it and die of that signal.
 */
int ivshmd_daemonize(int *report);

/* Detach from the terminal: stdio to /dev/null, cwd to /, logging to syslog. */
int ivshmd_detach(void);

/*
 * In the child: ivshmd_detach(), then tell the parent it may exit with
 * status 0. Returns 0 or a negative errno.
 */
int ivshmd_daemon_ready(int report);

/* In the child: tell the parent start-up failed (it exits 1). */
void ivshmd_daemon_failed(int report);

#endif
