/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connecting to a local stream socket (ivshmd's, or its control socket). */
#ifndef IVSHM_COMMON_UNIX_H
#define IVSHM_COMMON_UNIX_H

/*
 * ivshm_unix_connect - a non-blocking, close-on-exec stream socket connected
 * to the AF_UNIX socket at @path. A local connect completes at once or fails.
 * Returns: the fd (the caller owns it), -ENAMETOOLONG, or -errno of
 * socket()/connect() (-ENOENT: nothing there, -ECONNREFUSED: nobody listens).
 */
int ivshm_unix_connect(const char *path);

#endif /* IVSHM_COMMON_UNIX_H */
