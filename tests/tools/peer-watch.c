// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * peer-watch: how long a host peer takes to see another peer as dead once it
 * is killed, through libivshm's directory (tests/019-ivshmd-publish.bats).
 * It joins the server, waits until a peer published under ROLE is live,
 * sends PID SIGKILL itself (so the clock starts at the kill) and reads the
 * directory every millisecond until that peer is dead:
 *
 *   dead after MS ms
 *
 * With STOP it sends SIGSTOP instead: the stopped peer keeps its connection,
 * so the server never says it left and only its heartbeat can tell.
 *
 * Exit status 0, 1 on an error or after TIMEOUT ms, 2 for usage.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ivshm.h"
#include "number.h"

/* The state of the peer published under role, or -1 if there is none. */
static int state_of(struct ivshm_dev *dev, const char *role)
{
	struct ivshm_peer peers[64];
	unsigned int n;

	if (ivshm_list_peers(dev, peers, 64, &n) && n <= 64)
		return -1;
	for (unsigned int i = 0; i < n && i < 64; i++)
		if (!strcmp(peers[i].role, role))
			return (int)peers[i].state;
	return -1;
}

int main(int argc, char **argv)
{
	struct ivshm_dev *dev;
	uint64_t vectors, pid, timeout;
	int64_t deadline, t0;
	int err;

	if (argc < 6 || argc > 7 || (argc == 7 && strcmp(argv[6], "STOP")) ||
	    ivshm_num_parse(argv[2], IVSHM_NUM_DEC, 1, 64, &vectors) ||
	    ivshm_num_parse(argv[4], IVSHM_NUM_DEC, 1, 1 << 22, &pid) ||
	    ivshm_num_parse(argv[5], IVSHM_NUM_DEC, 1, 600000, &timeout)) {
		fprintf(stderr, "usage: peer-watch SOCKET VECTORS ROLE PID TIMEOUT_MS [STOP]\n");
		return 2;
	}
	err = ivshm_open_host(argv[1], (unsigned int)vectors, 10000, &dev);
	if (err) {
		fprintf(stderr, "peer-watch: %s: %s\n", argv[1], ivshm_strerror(err));
		return 1;
	}
	deadline = ivshm_clock_ms() + (int64_t)timeout;
	while (state_of(dev, argv[3]) != IVSHM_PEER_LIVE) {
		if (ivshm_clock_ms() > deadline) {
			fprintf(stderr, "peer-watch: no live peer '%s'\n", argv[3]);
			goto fail;
		}
		poll(NULL, 0, 1);
	}
	if (kill((pid_t)pid, argc == 7 ? SIGSTOP : SIGKILL) < 0) {
		fprintf(stderr, "peer-watch: kill %llu: %s\n", (unsigned long long)pid, strerror(errno));
		goto fail;
	}
	t0 = ivshm_clock_ms();
	deadline = t0 + (int64_t)timeout;
	while (state_of(dev, argv[3]) != IVSHM_PEER_DEAD) {
		if (ivshm_clock_ms() > deadline) {
			fprintf(stderr, "peer-watch: '%s' still not dead after %llu ms\n", argv[3],
				(unsigned long long)timeout);
			goto fail;
		}
		poll(NULL, 0, 1);
	}
	printf("dead after %lld ms\n", (long long)(ivshm_clock_ms() - t0));
	ivshm_close(dev);
	return 0;
fail:
	ivshm_close(dev);
	return 1;
}
