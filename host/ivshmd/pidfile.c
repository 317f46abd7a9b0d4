// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pidfile is created exclusively (mode 0600 until locked and written),
 * in a directory no other user can write; an existing one is taken over
 * only if it is a regular file of ours, with one link and nobody else's
 * write permission. The lock is an OFD write lock: only a writer can take
 * one, so a process holding the file open for reading cannot fake a running
 * server. A read lock found on it (flock() does not conflict at all) is
 * nobody's right to the name: the file is replaced by a fresh one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pidfile.h"

#define PIDFILE_MODE 0644

static int lock(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* The type of a lock someone else holds on fd: F_WRLCK, F_RDLCK or F_UNLCK. */
static int lock_held(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return F_WRLCK;
	return fl.l_type;
}

static int check_existing(const char *path, int fd)
{
	struct stat st;
	const char *why = NULL;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		why = "is not a regular file";
	else if (st.st_uid != geteuid())
		why = "belongs to another user";
	else if (st.st_nlink != 1)
		why = "has more than one link";
	else if (st.st_mode & 022)
		why = "is writable by group or others";
	if (!why)
		return 0;
	ivshmd_log(LOG_ERR, "pidfile %s %s (uid %u, mode %04o, %lu links); refusing it", path,
		   why, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
		   (unsigned long)st.st_nlink);
	return -EPERM;
}

/* A new file under a temporary name, locked, then renamed over the path. */
static int replace(struct ivshmd_pidfile *pf)
{
	char tmp[64];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), ".ivshmd-pidfile.%d", (int)getpid());
	fd = openat(pf->path.dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = lock(fd);
	if (!ret && renameat(pf->path.dirfd, tmp, pf->path.dirfd, pf->path.base) < 0)
		ret = -errno;
	if (ret) {
		unlinkat(pf->path.dirfd, tmp, 0);
		close(fd);
		return ret;
	}
	return fd;
}

/* Our fd for the path, locked: created, taken over or replaced. */
static int open_locked(struct ivshmd_pidfile *pf, const char *path)
{
	int fd, ret;

	fd = openat(pf->path.dirfd, pf->path.base,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		ret = lock(fd);
		if (!ret)
			return fd;
		close(fd);
		return ret;
	}
	if (errno != EEXIST)
		return -errno;
	/* O_NONBLOCK: a FIFO under the name must not block the open. */
	fd = openat(pf->path.dirfd, pf->path.base, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = check_existing(path, fd);
	if (!ret && lock(fd) == 0)
		return fd;
	if (!ret && lock_held(fd) == F_WRLCK)
		ret = -EBUSY;
	close(fd);
	if (ret)
		return ret;
	ivshmd_log(LOG_WARNING, "pidfile %s: another process holds a read lock on it; "
		   "replacing it", path);
	return replace(pf);
}

int ivshmd_pidfile_create(struct ivshmd_pidfile *pf, const char *path)
{
	char buf[32];
	struct stat st;
	int ret, n;

	pf->fd = -1;
	pf->path = (struct ivshmd_pathref){ .dirfd = -1 };
	ret = ivshmd_pathref_check_dirs(path, "pidfile");
	if (ret)
		return ret;
	ret = ivshmd_pathref_init(&pf->path, path);
	if (ret) {
		ivshmd_log(LOG_ERR, "pidfile %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = open_locked(pf, path);
	if (ret < 0) {
		if (ret == -EBUSY)
			ivshmd_log(LOG_ERR, "pidfile %s: locked by a running server", path);
		else if (ret != -EPERM)
			ivshmd_log(LOG_ERR, "pidfile %s: %s", path, strerror(-ret));
		goto out_path;
	}
	pf->fd = ret;
	if (fstat(pf->fd, &st) < 0 || ftruncate(pf->fd, 0) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "pidfile %s: %s", path, strerror(errno));
		goto out_close;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	errno = 0;
	if (pwrite(pf->fd, buf, (size_t)n, 0) != n || fchmod(pf->fd, PIDFILE_MODE) < 0) {
		ret = errno ? -errno : -EIO;
		ivshmd_log(LOG_ERR, "writing pidfile %s: %s", path, strerror(-ret));
		goto out_close;
	}
	pf->path.dev = st.st_dev;
	pf->path.ino = st.st_ino;
	return 0;

out_close:
	close(pf->fd);
	pf->fd = -1;
out_path:
	/* Nothing claimed yet: this never removes another server's pidfile. */
	ivshmd_pathref_release(&pf->path);
	return ret;
}

void ivshmd_pidfile_remove(struct ivshmd_pidfile *pf)
{
	if (pf->fd < 0)
		return;
	ivshmd_pathref_release(&pf->path);
	close(pf->fd);
	pf->fd = -1;
}
