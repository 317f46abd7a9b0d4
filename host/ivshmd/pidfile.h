/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A locked pidfile: the lock, not the file's existence, says a server runs,
 * so a file left by a crash never blocks a restart.
 */
#ifndef IVSHMD_PIDFILE_H
#define IVSHMD_PIDFILE_H

#include "pathref.h"

struct ivshmd_pidfile {
	int fd;
	struct ivshmd_pathref path;
};

/*
 * Create or take over path (never through a symlink), lock it and write our
 * pid. Returns 0, -EBUSY when a live process holds the lock, or another
 * negative errno; logs the reason.
 */
int ivshmd_pidfile_create(struct ivshmd_pidfile *pf, const char *path);

/* Removes the file if it is still ours and drops the lock. */
void ivshmd_pidfile_remove(struct ivshmd_pidfile *pf);

#endif
