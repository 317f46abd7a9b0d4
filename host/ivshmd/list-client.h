/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `ivshmd --list`: the client of a running server's control socket.
 */
#ifndef IVSHMD_LIST_CLIENT_H
#define IVSHMD_LIST_CLIENT_H

/*
 * Read the peer table from <socket_path>.ctl and copy it to stdout, giving
 * up after timeout_ms. Returns 0 or a negative errno after printing the
 * reason.
 */
int ivshmd_list_peers(const char *socket_path, int timeout_ms);

#endif
