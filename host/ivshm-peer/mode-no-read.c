// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --no-read: connect and never read the socket, which is what a wedged
 * client looks like to the server, until stdin EOF, a signal or the server
 * hanging up.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "modes.h"
#include "output.h"

int mode_no_read(const struct peer_opts *o, int sfd)
{
	struct conn c = { .quiet = true };
	int ret;

	ret = conn_open(&c, o->socket, o->vectors, false);
	if (ret)
		return EXIT_FAILURE;
	say("connected");
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = 0, .events = POLLIN },
			{ .fd = c.p.sock, .events = 0 },	/* POLLHUP only: nothing is read */
		};

		ret = poll(p, 3, -1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 || p[0].revents || p[1].revents)
			break;
		if (p[2].revents & (POLLHUP | POLLERR)) {
			say("hangup");
			break;
		}
	}
	conn_close(&c);
	return EXIT_SUCCESS;
}
