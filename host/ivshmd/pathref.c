// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pathref.h"

static int check_dir(const char *dir, const char *what)
{
	struct stat st;
	const char *why = NULL;

	if (stat(dir, &st) < 0) {
		int err = -errno;

		ivshmd_log(LOG_ERR, "directory %s of the %s: %s", dir, what, strerror(errno));
		return err;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid())
		why = "belongs to another user";
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		why = "is writable by group or others without the sticky bit";
	if (!why)
		return 0;
	ivshmd_log(LOG_ERR, "directory %s of the %s %s (uid %u, mode %04o): another user could "
		   "replace the %s; refusing", dir, what, why, (unsigned)st.st_uid,
		   (unsigned)(st.st_mode & 07777), what);
	return -EPERM;
}

int ivshmd_pathref_check_dirs(const char *path, const char *what)
{
	char *copy, *dir, *slash;
	int err;

	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	dir = realpath(dirname(copy), NULL);
	free(copy);
	if (!dir) {
		err = -errno;
		ivshmd_log(LOG_ERR, "directory of %s: %s", path, strerror(errno));
		return err;
	}
	/* From the directory up to /, each one resolved: a symlink stands for its target. */
	for (;;) {
		err = check_dir(dir[0] ? dir : "/", what);
		slash = strrchr(dir, '/');
		if (err || !slash || !dir[0])
			break;
		*slash = '\0';
	}
	free(dir);
	return err;
}

int ivshmd_pathref_init(struct ivshmd_pathref *p, const char *path)
{
	char *dcopy, *bcopy;
	int err;

	*p = (struct ivshmd_pathref){ .dirfd = -1 };
	if (!path[0] || strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	p->path = strdup(path);
	dcopy = strdup(path);
	bcopy = strdup(path);
	if (!p->path || !dcopy || !bcopy) {
		err = -ENOMEM;
		goto out_free;
	}
	p->base = strdup(basename(bcopy));
	if (!p->base) {
		err = -ENOMEM;
		goto out_free;
	}
	p->dirfd = open(dirname(dcopy), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0) {
		err = -errno;
		goto out_free;
	}
	free(dcopy);
	free(bcopy);
	return 0;

out_free:
	free(dcopy);
	free(bcopy);
	free(p->base);
	free(p->path);
	*p = (struct ivshmd_pathref){ .dirfd = -1 };
	return err;
}

int ivshmd_pathref_claim(struct ivshmd_pathref *p)
{
	struct stat st;

	if (fstatat(p->dirfd, p->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	return 0;
}

void ivshmd_pathref_release(struct ivshmd_pathref *p)
{
	struct stat st;

	if (p->dirfd < 0)
		return;
	if (p->ino && fstatat(p->dirfd, p->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == p->dev && st.st_ino == p->ino &&
	    unlinkat(p->dirfd, p->base, 0) < 0)
		ivshmd_log(LOG_WARNING, "removing %s: %s", p->path, strerror(errno));
	close(p->dirfd);
	free(p->base);
	free(p->path);
	*p = (struct ivshmd_pathref){ .dirfd = -1 };
}
