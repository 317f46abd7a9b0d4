/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef IVSHMD_LIST_H
#define IVSHMD_LIST_H

/*
 * `ivshmd --list`: read the peer table from a running server's control
 * socket (<socket_path>.ctl) and copy it to stdout, giving up after
 * timeout_ms. Returns 0 or a negative errno after printing the reason.
 */
int ivshmd_list(const char *socket_path, int timeout_ms);

#endif
