/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Listening UNIX sockets created safely: never through a symlink, never
 * world-accessible, never over a live server's socket.
 */
#ifndef IVSHMD_LISTEN_H
#define IVSHMD_LISTEN_H

#include <sys/types.h>

#include "pathref.h"

struct ivshmd_listener {
	int fd;
	struct ivshmd_pathref path;
};

/*
 * Listen on path with the given mode (created with it, no chmod window) and
 * group (-1: keep ours). The socket is prepared as <path>~ and renamed into
 * place, so path appears only once it accepts connections. An existing path
 * (or <path>~) is removed only if it is a socket (lstat) and a connect() to
 * it gets ECONNREFUSED; a live server gives -EADDRINUSE, anything else at the
 * path -EEXIST. Logs the reason and returns a negative errno on failure.
 */
int ivshmd_listen_open(struct ivshmd_listener *l, const char *path, mode_t mode, gid_t gid);

/*
 * Take over fd, a socket an earlier ivshmd listened on at path (kept across
 * a restart): it must still be listening, bound where ivshmd binds it, and
 * path must still be a socket. Returns 0 (l owns fd) or a negative errno (fd
 * is left to the caller).
 */
int ivshmd_listen_adopt(struct ivshmd_listener *l, const char *path, int fd);

/*
 * Connect to path and hang up. Returns 0 when nobody answers (no socket,
 * ECONNREFUSED), -EADDRINUSE when a server accepts, or another negative errno.
 */
int ivshmd_listen_probe(const char *path);

/* Closes the socket and removes its path if it is still ours. */
void ivshmd_listen_close(struct ivshmd_listener *l);

#endif
