// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Returns 0 when nobody answers at the path (ECONNREFUSED), -EADDRINUSE when a server does. */
static int probe(const struct sockaddr_un *sa)
{
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		ret = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		ret = 0;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		ret = -EADDRINUSE;	/* a full backlog is a live server */
	else
		ret = -errno;
	close(fd);
	return ret;
}

static int clear_stale(struct ivshmd_listener *l, const struct sockaddr_un *sa)
{
	struct ivshmd_pathref *p = &l->path;
	struct stat st, again;
	int ret;

	if (fstatat(p->dirfd, p->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		ivshmd_log(LOG_ERR, "%s: %s", p->path, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		ivshmd_log(LOG_ERR, "%s exists and is not a socket; refusing to touch it", p->path);
		return -EEXIST;
	}
	ret = probe(sa);
	if (ret == -EADDRINUSE) {
		ivshmd_log(LOG_ERR, "%s: another server is listening there", p->path);
		return ret;
	}
	if (ret) {
		ivshmd_log(LOG_ERR, "%s: cannot tell whether it is stale: %s", p->path, strerror(-ret));
		return ret;
	}
	/* Only the socket we just probed, not something swapped in meanwhile. */
	if (fstatat(p->dirfd, p->base, &again, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISSOCK(again.st_mode) || again.st_ino != st.st_ino || again.st_dev != st.st_dev) {
		ivshmd_log(LOG_ERR, "%s changed while checking it; refusing to touch it", p->path);
		return -EEXIST;
	}
	if (unlinkat(p->dirfd, p->base, 0) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "removing stale socket %s: %s", p->path, strerror(errno));
		return ret;
	}
	ivshmd_log(LOG_INFO, "removed stale socket %s", p->path);
	return 0;
}

int ivshmd_listen_open(struct ivshmd_listener *l, const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un sa;
	mode_t old_umask;
	int ret;

	l->fd = -1;
	ret = fill_addr(&sa, path);
	if (ret) {
		ivshmd_log(LOG_ERR, "socket path too long (max %zu bytes): %s",
			   sizeof(sa.sun_path) - 1, path);
		return ret;
	}
	ret = ivshmd_pathref_init(&l->path, path);
	if (ret) {
		ivshmd_log(LOG_ERR, "directory of %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = clear_stale(l, &sa);
	if (ret)
		goto out_path;

	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "socket: %s", strerror(errno));
		goto out_path;
	}
	old_umask = umask(~mode & 0777);
	ret = bind(l->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (ret < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "bind %s: %s", path, strerror(errno));
		goto out_close;
	}
	ret = ivshmd_pathref_claim(&l->path);
	if (ret) {
		ivshmd_log(LOG_ERR, "%s vanished after bind: %s", path, strerror(-ret));
		goto out_close;
	}
	if (gid != (gid_t)-1 &&
	    fchownat(l->path.dirfd, l->path.base, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "setting group %u on %s: %s", (unsigned)gid, path, strerror(errno));
		goto out_close;
	}
	if (listen(l->fd, SOMAXCONN) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "listen %s: %s", path, strerror(errno));
		goto out_close;
	}
	return 0;

out_close:
	close(l->fd);
	l->fd = -1;
out_path:
	/* Also removes the socket once bind created it: release unlinks only what we claimed. */
	ivshmd_pathref_release(&l->path);
	return ret;
}

void ivshmd_listen_close(struct ivshmd_listener *l)
{
	if (l->fd < 0)
		return;
	close(l->fd);
	l->fd = -1;
	ivshmd_pathref_release(&l->path);
}
