// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd-bench: load generator for tests/bench/ivshmd-join. Connects N peers
 * one after the other, all kept open and drained, and for each join measures
 *   setup:    connect until the new peer has its whole setup (QEMU realizes then)
 *   announce: connect until every earlier peer also has the new peer's vectors
 *   msgs:     protocol messages the join cost, over all peers
 * printing a row at each checkpoint with ivshmd's fd count and RSS.
 * Received fds are closed at once, so this process needs one fd per peer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "msg.h"
#include "number.h"
#include "procfs.h"
#include "pump.h"

#define TIMEOUT_MS 30000

struct peer {
	struct ivshm_pump p;	/* eventfds closed on arrival */
	unsigned long msgs;	/* messages received in the current join */
};

/* Drain one peer's socket. Returns 0, or a negative errno (-EPIPE at EOF). */
static int drain(struct peer *p)
{
	struct ivshm_event ev;
	int ret;

	while ((ret = ivshm_pump_next(&p->p, &ev)) > 0)
		p->msgs++;
	return ret;
}

#define EXIT_USAGE 2

static int usage(void)
{
	fprintf(stderr, "Usage: ivshmd-bench -S SOCKET -p IVSHMD_PID [-n VECTORS] [-N PEERS]\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	unsigned long npeers = 1000, vectors = 4;
	uint64_t v;
	int pid = 0, c, ep;
	struct peer *peers;
	double window_sum = 0, last_avg = 0;
	unsigned long window_n = 0, window_last = 0;
	long peak_fds = 0;

	ivshm_msg_init("ivshmd-bench");
	while ((c = getopt(argc, argv, "S:p:n:N:")) != -1) {
		switch (c) {
		case 'S':
			sock = optarg;
			break;
		case 'p':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, 1 << 22, &v))
				return usage();
			pid = (int)v;
			break;
		case 'n':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, UIO_IVSHMEM_MAX_VECTORS, &v))
				return usage();
			vectors = v;
			break;
		case 'N':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, IVSHMEM_MAX_PEER_ID + 1, &v))
				return usage();
			npeers = v;
			break;
		default:
			return usage();
		}
	}
	if (!sock || !pid)
		return usage();
	peers = calloc(npeers, sizeof(*peers));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!peers || ep < 0) {
		ivshm_msg_err("setup: %s", strerror(errno));
		return 1;
	}

	printf("%6s %10s %12s %14s %8s %10s %12s\n", "peers", "setup_us", "announce_us",
	       "avg_setup_us", "msgs", "ivshmd_fds", "ivshmd_rss_kib");
	for (unsigned long k = 0; k < npeers; k++) {
		struct peer *np = &peers[k];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = np };
		int64_t t0 = ivshm_clock_us(), t_setup = 0, t_all;
		int64_t deadline = t0 + TIMEOUT_MS * 1000;
		unsigned long total;
		bool done = false;
		int ret;

		for (unsigned long i = 0; i < k; i++)
			peers[i].msgs = 0;
		ret = ivshm_pump_open(&np->p, sock, (unsigned)vectors, false);
		if (ret) {
			ivshm_msg_err("connect #%lu: %s", k + 1, strerror(-ret));
			return 1;
		}
		if (epoll_ctl(ep, EPOLL_CTL_ADD, np->p.sock, &ev) < 0) {
			ivshm_msg_err("epoll_ctl: %s", strerror(errno));
			return 1;
		}
		while (!done) {
			struct epoll_event evs[64];
			int n, left = (int)((deadline - ivshm_clock_us()) / 1000);

			if (left <= 0) {
				ivshm_msg_err("join #%lu timed out", k + 1);
				return 1;
			}
			n = epoll_wait(ep, evs, 64, left);
			if (n < 0 && errno != EINTR) {
				ivshm_msg_err("epoll_wait: %s", strerror(errno));
				return 1;
			}
			for (int i = 0; i < n; i++) {
				struct peer *p = evs[i].data.ptr;
				int ret = drain(p);

				if (ret) {
					ivshm_msg_err("peer %d: %s", ivshm_session_id(p->p.sess),
						      ivshm_pump_error(&p->p));
					return 1;
				}
			}
			if (!t_setup && ivshm_session_ready(np->p.sess))
				t_setup = ivshm_clock_us();
			done = t_setup != 0;
			for (unsigned long i = 0; done && i < k; i++)
				done = peers[i].msgs >= vectors;
		}
		t_all = ivshm_clock_us();
		total = 0;
		for (unsigned long i = 0; i <= k; i++)
			total += peers[i].msgs;
		/* O(N): the newcomer gets 3 + vectors * (k + 1), each of the k others gets vectors. */
		if (total != 3 + vectors * (k + 1) + vectors * k) {
			ivshm_msg_err("join #%lu cost %lu messages, expected %lu", k + 1, total,
				      3 + vectors * (2 * k + 1));
			return 1;
		}
		window_sum += (double)(t_setup - t0);
		window_n++;
		window_last = window_n;
		if (k + 1 == 1 || k + 1 == 10 || (k + 1) % 100 == 0 || k + 1 == npeers) {
			long fds = proc_fds(pid);

			if (fds > peak_fds)
				peak_fds = fds;
			printf("%6lu %10lld %12lld %14.0f %8lu %10ld %12ld\n", k + 1,
			       (long long)(t_setup - t0), (long long)(t_all - t0),
			       window_sum / window_n, total, fds, proc_status_kib(pid, "VmRSS"));
			fflush(stdout);
			last_avg = window_sum / window_n;
			window_sum = 0;
			window_n = 0;
		}
	}
	printf("peak: ivshmd fds %ld, ivshmd VmHWM %ld KiB\n", peak_fds,
	       proc_status_kib(pid, "VmHWM"));
	printf("join cost: 3 + %lu * (2N - 1) messages for the Nth peer (checked for every join); "
	       "setup of the last %lu joins: %.1f us per peer present\n", vectors, window_last,
	       last_avg / (double)npeers);
	for (unsigned long i = 0; i < npeers; i++)
		ivshm_pump_close(&peers[i].p);
	close(ep);
	free(peers);
	return 0;
}
