// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "activate.h"
#include "number.h"

/* sd_listen_fds(3): the first passed fd. */
#define LISTEN_FDS_START 3

int activate_fds(int **fds)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	uint64_t p, count, i;
	int flags, err = 0;

	*fds = NULL;
	if (!pid || !n)
		return 0;
	if (ivshm_num_parse(pid, IVSHM_NUM_DEC, 1, INT32_MAX, &p) ||
	    ivshm_num_parse(n, IVSHM_NUM_DEC, 0, ACTIVATE_MAX_FDS, &count)) {
		err = -EINVAL;
		goto out;
	}
	/* Meant for a process that exec'd us, or for another one: not ours. */
	if (p != (uint64_t)getpid() || !count)
		goto out;
	*fds = calloc(count, sizeof(**fds));
	if (!*fds) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++) {
		int fd = LISTEN_FDS_START + (int)i;

		flags = fcntl(fd, F_GETFD);
		if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
			err = -errno;
			free(*fds);
			*fds = NULL;
			goto out;
		}
		(*fds)[i] = fd;
	}
	err = (int)count;
out:
	/* Children (none today) must not take them for theirs. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return err;
}
