// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * efd-attack: a hostile host peer against the eventfds every peer shares
 * (the server passes them by SCM_RIGHTS: one open file description, one
 * O_NONBLOCK flag, for all). It joins the server and, for SECONDS:
 *
 *   clear-recv ID  clears O_NONBLOCK on peer ID's eventfds, which are that
 *                  peer's receive side: a read() there blocks while nothing
 *                  is pending
 *   fill-own       fills its own eventfds to 2^64 - 2 and clears O_NONBLOCK:
 *                  a write() of a doorbell to it blocks
 *   race           a loop over its own eventfds: flag set, counter drained
 *                  (what a victim's check sees), then the counter filled and
 *                  the flag cleared (what the victim's write meets), and
 *                  every HOLD_EVERY rounds that trap is held HOLD_MS before
 *                  the next round frees a write it caught; after
 *                  SECONDS it leaves them so, trapped, for SECONDS more: a
 *                  victim the race blocked stays blocked
 *
 * It prints "ready id=ID" once it holds the eventfds and "done rounds=N" when
 * it stops acting (race: when the trap is set). Test-only (tests/073-host-peer.bats): never installed.
 * Usage: efd-attack SOCKET VECTORS SECONDS MODE [ID]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "number.h"
#include "pump.h"

#define FULL UINT64_C(0xfffffffffffffffe)
#define HOLD_EVERY 20000
#define HOLD_MS 150

static void set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
}

/* With O_NONBLOCK set: drain, then fill to the brim (never blocks us). */
static void fill(int fd)
{
	uint64_t n = FULL;

	set_blocking(fd, false);
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	n = FULL;
	if (write(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
}

int main(int argc, char **argv)
{
	struct ivshm_pump p;
	struct ivshm_event ev;
	uint64_t vectors, seconds, target = 0, rounds = 0;
	const char *mode;
	int64_t end;
	int own, ret;

	if (argc < 5 || ivshm_num_parse(argv[2], IVSHM_NUM_DEC, 1, 64, &vectors) ||
	    ivshm_num_parse(argv[3], IVSHM_NUM_DEC, 1, 3600, &seconds) ||
	    (!strcmp(argv[4], "clear-recv") &&
	     (argc != 6 || ivshm_num_parse(argv[5], IVSHM_NUM_DEC, 0, 65535, &target)))) {
		fprintf(stderr, "usage: efd-attack SOCKET VECTORS SECONDS clear-recv ID|fill-own|race\n");
		return 2;
	}
	mode = argv[4];
	ret = ivshm_pump_open(&p, argv[1], (unsigned)vectors, true);
	if (!ret)
		ret = ivshm_pump_setup(&p, ivshm_clock_ms() + 10000, NULL, NULL);
	if (ret) {
		fprintf(stderr, "efd-attack: %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	own = ivshm_session_id(p.sess);
	if (!strcmp(mode, "clear-recv")) {
		end = ivshm_clock_ms() + 10000;
		/* The victim may have joined before us (its fds came in the setup) or may join now. */
		while (ivshm_session_peer_vectors(p.sess, (unsigned)target) < vectors) {
			if (ivshm_clock_ms() > end || ivshm_pump_next(&p, &ev) < 0) {
				fprintf(stderr, "efd-attack: no peer %llu\n", (unsigned long long)target);
				return 1;
			}
			poll(NULL, 0, 1);
		}
		for (unsigned v = 0; v < vectors; v++)
			set_blocking(ivshm_session_peer_fd(p.sess, (unsigned)target, v), true);
	} else if (!strcmp(mode, "fill-own")) {
		for (unsigned v = 0; v < vectors; v++) {
			int fd = ivshm_session_peer_fd(p.sess, (unsigned)own, v);

			fill(fd);
			set_blocking(fd, true);
		}
	} else if (strcmp(mode, "race")) {
		fprintf(stderr, "efd-attack: unknown mode %s\n", mode);
		return 2;
	}
	printf("ready id=%d\n", own);
	fflush(stdout);
	end = ivshm_clock_ms() + (int64_t)seconds * 1000;
	while (ivshm_clock_ms() < end) {
		if (strcmp(mode, "race")) {
			poll(NULL, 0, 10);
			continue;
		}
		for (unsigned v = 0; v < vectors; v++) {
			int fd = ivshm_session_peer_fd(p.sess, (unsigned)own, v);

			fill(fd);
			set_blocking(fd, true);
		}
		if (++rounds % HOLD_EVERY == 0)
			poll(NULL, 0, HOLD_MS);
	}
	printf("done rounds=%llu\n", (unsigned long long)rounds);
	fflush(stdout);
	end = ivshm_clock_ms() + (int64_t)seconds * 1000;
	while (!strcmp(mode, "race") && ivshm_clock_ms() < end)
		poll(NULL, 0, 10);
	ivshm_pump_close(&p);
	return 0;
}
