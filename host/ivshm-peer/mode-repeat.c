// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --repeat N: connect, complete the setup and disconnect N times, the
 * connection churn a server must survive without growing.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "modes.h"
#include "output.h"

/* SIGTERM and SIGINT are blocked for the signalfd: look at it between cycles. */
static bool signalled(int sfd)
{
	struct pollfd p = { .fd = sfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

int mode_repeat(const struct peer_opts *o, int sfd)
{
	for (uint64_t i = 0; i < o->repeat; i++) {
		struct conn c = { .quiet = true };
		int ret;

		if (signalled(sfd)) {
			say("error interrupted after %llu cycles", (unsigned long long)i);
			return EXIT_FAILURE;
		}
		ret = conn_open(&c, o->socket, o->vectors, false);
		if (ret)
			return EXIT_FAILURE;
		ret = conn_wait_ready(&c, ivshm_clock_ms() + o->timeout_ms);
		conn_close(&c);
		if (ret) {
			say("error cycle %llu: %s", (unsigned long long)i + 1,
			    ret > 0 ? "server closed the connection" : strerror(-ret));
			return ret > 0 ? EXIT_FAILURE : peer_status(ret);
		}
	}
	say("cycles %llu", (unsigned long long)o->repeat);
	return EXIT_SUCCESS;
}
