/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the unit tests of common/ and ivshmd (cmocka): fd accounting, so a test
 * can show that a code path closes every fd it was handed.
 */
#ifndef IVSHM_HOST_UNIT_H
#define IVSHM_HOST_UNIT_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>

/* Open fds of this process (the directory stream's own fd not counted), or -1. */
static inline int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static inline bool fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/*
 * A connected stream pair as a doorbell server and its peer see it: *@tx the
 * server's end (non-blocking with @tx_nonblock, as ivshmd's), *@rx the
 * reader's, always non-blocking. Returns 0 or -1.
 */
static inline int unit_stream_pair(int *tx, int *rx, bool tx_nonblock)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	*tx = sv[0];
	*rx = sv[1];
	if (fcntl(*rx, F_SETFL, O_NONBLOCK) < 0 ||
	    (tx_nonblock && fcntl(*tx, F_SETFL, O_NONBLOCK) < 0))
		return -1;
	return 0;
}

/* A fresh memfd: every one has its own inode, so a received fd can be matched to it. */
static inline int new_memfd(void)
{
	return memfd_create("ivshm-unit", MFD_CLOEXEC);
}

#endif
