// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-probe: a libivshm host handle driven line by line, for the Bats files
 * that test the host backend (tests/073-host-peer.bats). It opens the handle
 * and prints the outcome, then runs commands from stdin until EOF or quit,
 * one result line each, with the time each call took:
 *
 *   open id=ID vectors=N ms=MS | open error=ENAME ms=MS
 *   log MESSAGE                    what libivshm said (its log function)
 *   ring ID VEC                 -> ring result=ok|ENAME us=US
 *   rings ID VEC N              -> rings n=N errors=E max_us=US total_us=US   (N doorbells)
 *   wait MS                     -> wait result=ok|ENAME fired=MASK ms=MS
 *   ack                         -> ack result=ok|ENAME
 *   pollfd MS                   -> pollfd readable=0|1 ms=MS    (the handle's fd)
 *   quit
 *
 * Usage: host-probe [-u] [-t TIMEOUT_MS] SOCKET VECTORS
 * (-u: IVSHM_OPEN_UNSEALED). Exit status 0, 1 when the open failed, 2 usage.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ivshm.h"
#include "number.h"

static void log_line(void *data, int priority, const char *msg)
{
	(void)data;
	(void)priority;
	printf("log %s\n", msg);
	fflush(stdout);
}

static const char *result(int err)
{
	return err ? strerrorname_np(-err) : "ok";
}

static void rings(struct ivshm_dev *dev, unsigned peer, unsigned vec, unsigned long n)
{
	int64_t worst = 0, start = ivshm_clock_us();
	unsigned long errors = 0;
	int last = 0;

	for (unsigned long i = 0; i < n; i++) {
		int64_t t0 = ivshm_clock_us();
		int err = ivshm_trigger(dev, peer, vec);
		int64_t dt = ivshm_clock_us() - t0;

		if (dt > worst)
			worst = dt;
		if (err) {
			errors++;
			last = err;
		}
	}
	printf("rings n=%lu errors=%lu max_us=%lld total_us=%lld%s%s\n", n, errors, (long long)worst,
	       (long long)(ivshm_clock_us() - start), last ? " last=" : "", last ? result(last) : "");
}

static void command(struct ivshm_dev *dev, char *line)
{
	unsigned a, b;
	unsigned long n;
	int ms, err;
	int64_t t0 = ivshm_clock_us();

	if (sscanf(line, "rings %u %u %lu", &a, &b, &n) == 3) {
		rings(dev, a, b, n);
	} else if (sscanf(line, "ring %u %u", &a, &b) == 2) {
		err = ivshm_trigger(dev, a, b);
		printf("ring result=%s us=%lld\n", result(err), (long long)(ivshm_clock_us() - t0));
	} else if (sscanf(line, "wait %d", &ms) == 1) {
		uint64_t fired = 0;

		err = ivshm_wait(dev, ms, &fired, NULL);
		printf("wait result=%s fired=0x%llx ms=%lld\n", result(err),
		       (unsigned long long)fired, (long long)(ivshm_clock_us() - t0) / 1000);
	} else if (!strncmp(line, "ack", 3)) {
		printf("ack result=%s\n", result(ivshm_ack(dev, NULL, NULL)));
	} else if (sscanf(line, "pollfd %d", &ms) == 1) {
		struct pollfd p = { .events = POLLIN };
		int fd = -1;

		err = ivshm_get_fd(dev, &fd);
		p.fd = fd;
		err = err ? err : poll(&p, 1, ms);
		printf("pollfd readable=%d ms=%lld\n", err > 0 && (p.revents & POLLIN) ? 1 : 0,
		       (long long)(ivshm_clock_us() - t0) / 1000);
	} else {
		printf("error unknown command\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned flags = 0;
	uint64_t vectors, timeout = 10000;
	struct ivshm_dev *dev;
	char line[256];
	int64_t t0;
	int c, err;

	while ((c = getopt(argc, argv, "ut:")) != -1) {
		if (c == 'u')
			flags |= IVSHM_OPEN_UNSEALED;
		else if (c != 't' || ivshm_num_parse(optarg, IVSHM_NUM_DEC, 0, 600000, &timeout))
			goto usage;
	}
	if (argc - optind != 2 ||
	    ivshm_num_parse(argv[optind + 1], IVSHM_NUM_DEC, 0, 64, &vectors))
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	ivshm_set_log_fn(log_line, NULL);
	t0 = ivshm_clock_ms();
	err = ivshm_open_server(argv[optind], (unsigned)vectors, flags, (int)timeout, &dev);
	if (err) {
		printf("open error=%s ms=%lld\n", result(err), (long long)(ivshm_clock_ms() - t0));
		return 1;
	}
	{
		unsigned id = 0, nr = 0;

		ivshm_get_peer_id(dev, &id);
		ivshm_get_vectors(dev, &nr);
		printf("open id=%u vectors=%u ms=%lld\n", id, nr, (long long)(ivshm_clock_ms() - t0));
	}
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4))
		command(dev, line);
	ivshm_close(dev);
	return 0;
usage:
	fprintf(stderr, "usage: host-probe [-u] [-t TIMEOUT_MS] SOCKET VECTORS\n");
	return 2;
}
