// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pidfile.h"

int ivshmd_pidfile_create(struct ivshmd_pidfile *pf, const char *path)
{
	char buf[32];
	struct stat st;
	int ret, n;

	pf->fd = -1;
	ret = ivshmd_pathref_init(&pf->path, path);
	if (ret) {
		ivshmd_log(LOG_ERR, "pidfile %s: %s", path, strerror(-ret));
		return ret;
	}
	pf->fd = openat(pf->path.dirfd, pf->path.base,
			O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (pf->fd < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "pidfile %s: %s", path, strerror(errno));
		goto out_path;
	}
	if (flock(pf->fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		ivshmd_log(LOG_ERR, "pidfile %s: %s", path,
			   ret == -EBUSY ? "locked by a running server" : strerror(errno));
		goto out_close;
	}
	if (fstat(pf->fd, &st) < 0 || ftruncate(pf->fd, 0) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "pidfile %s: %s", path, strerror(errno));
		goto out_close;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	errno = 0;
	if (pwrite(pf->fd, buf, (size_t)n, 0) != n) {
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
