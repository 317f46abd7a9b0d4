// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * peer-load: the clients a doorbell server must survive, for the ivshmd Bats
 * files (test-only: never installed, no place in the product's ivshm-peer).
 *
 *   peer-load --no-read -S SOCKET -n VECTORS
 *       connect and never read the socket, which is what a wedged client looks
 *       like to the server, until stdin EOF, SIGTERM/SIGINT or the server
 *       hanging up; prints "connected", then "hangup" if the server hung up
 *   peer-load --repeat N -S SOCKET -n VECTORS [-t SECONDS]
 *       connect, complete the setup and disconnect N times (connection
 *       churn); prints "cycles N", or "error cycle I: REASON"
 *
 * Exit status 0, 1 on an error, 2 for usage, 3 when a setup timed out.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "number.h"
#include "pump.h"

#define EXIT_USAGE   2
#define EXIT_TIMEOUT 3

static int no_read(const char *sock, unsigned vectors, int sfd)
{
	struct ivshm_pump p;
	int ret;

	ret = ivshm_pump_open(&p, sock, vectors, false);
	if (ret) {
		printf("error connect %s: %s\n", sock, strerror(-ret));
		return EXIT_FAILURE;
	}
	printf("connected\n");
	fflush(stdout);
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = 0, .events = POLLIN },
			{ .fd = p.sock, .events = 0 },	/* POLLHUP only: nothing is read */
		};

		ret = poll(fds, 3, -1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 || fds[0].revents || fds[1].revents)
			break;
		if (fds[2].revents & (POLLHUP | POLLERR)) {
			printf("hangup\n");
			break;
		}
	}
	ivshm_pump_close(&p);
	return EXIT_SUCCESS;
}

static int repeat(const char *sock, unsigned vectors, uint64_t n, int timeout_ms, int sfd)
{
	for (uint64_t i = 0; i < n; i++) {
		struct pollfd sig = { .fd = sfd, .events = POLLIN };
		struct ivshm_pump p;
		int ret;

		if (poll(&sig, 1, 0) > 0) {
			printf("error interrupted after %llu cycles\n", (unsigned long long)i);
			return EXIT_FAILURE;
		}
		ret = ivshm_pump_open(&p, sock, vectors, false);
		if (ret) {
			printf("error connect %s: %s\n", sock, strerror(-ret));
			return EXIT_FAILURE;
		}
		ret = ivshm_pump_setup(&p, ivshm_clock_ms() + timeout_ms, NULL, NULL);
		ivshm_pump_close(&p);
		if (ret) {
			printf("error cycle %llu: %s\n", (unsigned long long)i + 1,
			       ret == -ECONNRESET ? "server closed the connection" : strerror(-ret));
			return ret == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE;
		}
	}
	printf("cycles %llu\n", (unsigned long long)n);
	return EXIT_SUCCESS;
}

static int usage(void)
{
	fprintf(stderr, "usage: peer-load --no-read -S SOCKET -n VECTORS\n"
			"       peer-load --repeat N -S SOCKET -n VECTORS [-t SECONDS]\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	enum { OPT_NO_READ = 256, OPT_REPEAT };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-read", no_argument, NULL, OPT_NO_READ },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	uint64_t vectors = 1, seconds = 10, n = 0, v;
	bool stall = false;
	sigset_t mask;
	int c, sfd, status;

	while ((c = getopt_long(argc, argv, "S:n:t:", lo, NULL)) != -1) {
		switch (c) {
		case 'S':
			sock = optarg;
			break;
		case 'n':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC | IVSHM_NUM_HEX | IVSHM_NUM_OCT, 0,
					    64, &vectors))
				return usage();
			break;
		case 't':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, 3600, &seconds))
				return usage();
			break;
		case OPT_NO_READ:
			stall = true;
			break;
		case OPT_REPEAT:
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, 10000000, &v))
				return usage();
			n = v;
			break;
		default:
			return usage();
		}
	}
	if (!sock || optind < argc || stall == (n != 0))
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		perror("peer-load: signalfd");
		return EXIT_FAILURE;
	}
	status = stall ? no_read(sock, (unsigned)vectors, sfd) :
			 repeat(sock, (unsigned)vectors, n, (int)seconds * 1000, sfd);
	close(sfd);
	return status;
}
