/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A reference-counted fd. A queued message that carries an fd holds a
 * reference, so a peer's eventfd stays open until every queue that announces
 * it has sent it, even after that peer has left.
 */
#ifndef IVSHMD_FDREF_H
#define IVSHMD_FDREF_H

struct ivshmd_fdref;

/*
 * Wrap fd with one reference. On success the reference owns fd; on failure
 * (-ENOMEM) fd is left to the caller.
 */
int ivshmd_fdref_new(int fd, struct ivshmd_fdref **out);

/* Returns r with one more reference. */
struct ivshmd_fdref *ivshmd_fdref_get(struct ivshmd_fdref *r);

/* Drops one reference; the last one closes the fd. Accepts NULL. */
void ivshmd_fdref_put(struct ivshmd_fdref *r);

int ivshmd_fdref_fd(const struct ivshmd_fdref *r);

#endif
