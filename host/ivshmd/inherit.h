/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fds ivshmd starts with. Those passed as $LISTEN_FDS with
 * $LISTEN_FDNAMES (systemd's fd store, the supervisor or ivshmd's own
 * re-exec: store.h) are kept for the server to take by name; every other fd
 * above 2 was inherited by accident and is closed, and fds 0-2 are always
 * open, so nothing ivshmd opens can become stdin, stdout or stderr.
 */
#ifndef IVSHMD_INHERIT_H
#define IVSHMD_INHERIT_H

struct ivshmd_inherited {
	unsigned n;
	int *fds;	/* -1 once taken */
	char **names;
};

/*
 * Call first thing in main(). Returns 0, or a negative errno when /dev/null
 * cannot fill fds 0-2 (there is nowhere to say so).
 */
int ivshmd_inherit_collect(struct ivshmd_inherited *in);

/* The fd kept under name, now the caller's (close-on-exec), or -1. */
int ivshmd_inherit_take(struct ivshmd_inherited *in, const char *name);

/* Whether an fd under name is there and not taken. */
int ivshmd_inherit_has(const struct ivshmd_inherited *in, const char *name);

/* Closes the fds nobody took (dropping them from the store too) and frees in. */
void ivshmd_inherit_release(struct ivshmd_inherited *in);

#endif
