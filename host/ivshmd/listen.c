// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The socket is bound under a temporary name (<path>~), given its group and
 * put in listening state, then renamed into place without replacing anything:
 * whoever sees <path> can connect at once, and only with the final
 * permissions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

#define TMP_SUFFIX "~"

struct name {
	const char *path;	/* for messages and connect() */
	const char *base;	/* relative to the directory fd */
};

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int ivshmd_listen_probe(const char *path)
{
	struct sockaddr_un sa;
	int fd, ret;

	ret = fill_addr(&sa, path);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		ret = -EADDRINUSE;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		ret = 0;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		ret = -EADDRINUSE;	/* a full backlog is a live server */
	else
		ret = -errno;
	close(fd);
	return ret;
}

/* Remove a socket at n only if it is one (lstat) and nobody listens on it. */
static int clear_stale(int dirfd, const struct name *n)
{
	struct stat st, again;
	int ret;

	if (fstatat(dirfd, n->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		ivshmd_log(LOG_ERR, "%s: %s", n->path, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		ivshmd_log(LOG_ERR, "%s exists and is not a socket; refusing to touch it", n->path);
		return -EEXIST;
	}
	ret = ivshmd_listen_probe(n->path);
	if (ret == -EADDRINUSE) {
		ivshmd_log(LOG_ERR, "%s: another server is listening there", n->path);
		return ret;
	}
	if (ret) {
		ivshmd_log(LOG_ERR, "%s: cannot tell whether it is stale: %s", n->path, strerror(-ret));
		return ret;
	}
	/* Only the socket just probed, not something swapped in meanwhile. */
	if (fstatat(dirfd, n->base, &again, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISSOCK(again.st_mode) || again.st_ino != st.st_ino || again.st_dev != st.st_dev) {
		ivshmd_log(LOG_ERR, "%s changed while checking it; refusing to touch it", n->path);
		return -EEXIST;
	}
	if (unlinkat(dirfd, n->base, 0) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "removing stale socket %s: %s", n->path, strerror(errno));
		return ret;
	}
	ivshmd_log(LOG_INFO, "removed stale socket %s", n->path);
	return 0;
}

/* Bind and prepare the listening socket at the temporary name. */
static int bind_tmp(struct ivshmd_listener *l, const struct name *tmp, mode_t mode, gid_t gid)
{
	struct sockaddr_un sa;
	mode_t old_umask;
	int ret;

	ret = fill_addr(&sa, tmp->path);
	if (ret)
		return ret;
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "socket: %s", strerror(errno));
		return ret;
	}
	/* Created with its final mode: no window with wider permissions. */
	old_umask = umask(~mode & 0777);
	ret = bind(l->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (ret < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "bind %s: %s", tmp->path, strerror(errno));
		goto out_close;
	}
	if (gid != (gid_t)-1 &&
	    fchownat(l->path.dirfd, tmp->base, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "setting group %u on %s: %s", (unsigned)gid, tmp->path,
			   strerror(errno));
		goto out_unlink;
	}
	if (listen(l->fd, SOMAXCONN) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "listen %s: %s", tmp->path, strerror(errno));
		goto out_unlink;
	}
	return 0;

out_unlink:
	unlinkat(l->path.dirfd, tmp->base, 0);
out_close:
	close(l->fd);
	l->fd = -1;
	return ret;
}

int ivshmd_listen_open(struct ivshmd_listener *l, const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un sa;
	struct name final, tmp;
	char *tmp_path = NULL, *tmp_base = NULL;
	int ret;

	l->fd = -1;
	if (strlen(path) + strlen(TMP_SUFFIX) >= sizeof(sa.sun_path)) {
		ivshmd_log(LOG_ERR, "socket path too long (max %zu bytes): %s",
			   sizeof(sa.sun_path) - 1 - strlen(TMP_SUFFIX), path);
		return -ENAMETOOLONG;
	}
	ret = ivshmd_pathref_init(&l->path, path);
	if (ret) {
		ivshmd_log(LOG_ERR, "directory of %s: %s", path, strerror(-ret));
		return ret;
	}
	if (asprintf(&tmp_path, "%s" TMP_SUFFIX, path) < 0 ||
	    asprintf(&tmp_base, "%s" TMP_SUFFIX, l->path.base) < 0) {
		ret = -ENOMEM;
		goto out_path;
	}
	final = (struct name){ .path = path, .base = l->path.base };
	tmp = (struct name){ .path = tmp_path, .base = tmp_base };

	ret = clear_stale(l->path.dirfd, &final);
	if (!ret)
		ret = clear_stale(l->path.dirfd, &tmp);
	if (!ret)
		ret = bind_tmp(l, &tmp, mode, gid);
	if (ret)
		goto out_path;
	if (renameat2(l->path.dirfd, tmp_base, l->path.dirfd, l->path.base, RENAME_NOREPLACE) < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "moving the socket to %s: %s", path,
			   errno == EEXIST ? "another server just took the path" : strerror(errno));
		unlinkat(l->path.dirfd, tmp_base, 0);
		goto out_close;
	}
	ret = ivshmd_pathref_claim(&l->path);
	if (ret) {
		ivshmd_log(LOG_ERR, "%s vanished after creating it: %s", path, strerror(-ret));
		goto out_close;
	}
	free(tmp_path);
	free(tmp_base);
	return 0;

out_close:
	close(l->fd);
	l->fd = -1;
out_path:
	ivshmd_pathref_release(&l->path);
	free(tmp_path);
	free(tmp_base);
	return ret;
}

int ivshmd_listen_adopt(struct ivshmd_listener *l, const char *path, int fd)
{
	struct sockaddr_un sa, want;
	socklen_t len = sizeof(sa);
	struct stat st;
	int on = 0, ret;
	socklen_t olen = sizeof(on);
	char *tmp;

	l->fd = -1;
	if (asprintf(&tmp, "%s" TMP_SUFFIX, path) < 0)
		return -ENOMEM;
	ret = fill_addr(&want, tmp);
	free(tmp);
	if (ret)
		return ret;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) < 0 || !on ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX ||
	    strcmp(sa.sun_path, want.sun_path))
		return -EINVAL;
	if (fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK) < 0)
		return -errno;
	ret = ivshmd_pathref_init(&l->path, path);
	if (ret)
		return ret;
	if (fstatat(l->path.dirfd, l->path.base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISSOCK(st.st_mode)) {
		ivshmd_pathref_release(&l->path);
		return -ENOENT;
	}
	l->path.dev = st.st_dev;
	l->path.ino = st.st_ino;
	l->fd = fd;
	return 0;
}

void ivshmd_listen_close(struct ivshmd_listener *l)
{
	if (l->fd < 0)
		return;
	close(l->fd);
	l->fd = -1;
	ivshmd_pathref_release(&l->path);
}
