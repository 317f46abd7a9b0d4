/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Executing ivshmd again with fds to keep, the way systemd passes its fd
 * store: the fds at 3, 4, ... in order, $LISTEN_FDS, $LISTEN_PID and
 * $LISTEN_FDNAMES (colon-separated names). Used by the supervisor to start a
 * server and by a server re-executing itself (SIGUSR2).
 */
#ifndef IVSHMD_HANDOVER_H
#define IVSHMD_HANDOVER_H

#include <stddef.h>

/* The running binary's path, for executing it again; NULL if unknown (logged). */
char *ivshmd_self_path(void);

/*
 * Lay out fds[0..n-1] as 3..3+n-1, close every other fd above 2, set the
 * variables and exec path with argv. Only returns on failure, and then the
 * process's fds are gone: the caller can only exit.
 */
void ivshmd_handover_exec(const char *path, char *const argv[], const int *fds,
			  char *const names[], size_t n);

#endif
