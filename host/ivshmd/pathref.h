/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A file this process created (socket, pidfile), remembered by directory fd,
 * name and inode: it can be removed after chdir("/"), and only while it is
 * still the very file we created, never one that replaced it.
 */
#ifndef IVSHMD_PATHREF_H
#define IVSHMD_PATHREF_H

#include <sys/types.h>

struct ivshmd_pathref {
	char *path;	/* as given, for messages */
	char *base;	/* last component */
	int dirfd;	/* O_PATH of the directory */
	dev_t dev;
	ino_t ino;	/* 0 until ivshmd_pathref_claim() */
};

/* Opens path's directory. Returns 0, -ENAMETOOLONG, -ENOMEM or -errno of open(). */
int ivshmd_pathref_init(struct ivshmd_pathref *p, const char *path);

/* Records the inode now at the path (without following symlinks) as ours. */
int ivshmd_pathref_claim(struct ivshmd_pathref *p);

/* Unlinks the path if it is still the claimed inode, then frees everything. */
void ivshmd_pathref_release(struct ivshmd_pathref *p);

/*
 * Whether the directory holding path, and every directory above it, is safe
 * for a file others rely on (a socket, a pidfile): owned by root or by us,
 * and not writable by group or others unless sticky, so no other user can
 * rename or replace what ivshmd puts there. Logs the offending directory and
 * returns -EPERM, another negative errno if a directory cannot be examined,
 * or 0. what names the file in the message.
 */
int ivshmd_pathref_check_dirs(const char *path, const char *what);

#endif
