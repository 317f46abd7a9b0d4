// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spray: the hostile peer of the channel tests (tests/070, tests/071). It joins
 * the doorbell server as a host peer, publishes itself under ROLE (so it holds
 * a slot and an arena like any peer) and writes random bytes at random places
 * of the shared memory until SECONDS are up, keeping its heartbeat going:
 *
 *   spray writes=N
 *
 * Exit status 0, 1 on an error, 2 for usage. Test-only: never installed.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "clock.h"
#include "ivshm.h"
#include "number.h"

static int spray(struct ivshm_dev *dev, uint64_t seconds, uint64_t *writes)
{
	int64_t end = ivshm_clock_ms() + (int64_t)seconds * 1000;
	uint64_t r[2];
	size_t size, off, len;
	char *buf;
	int err;

	err = ivshm_get_shared_buffer(dev, (void **)&buf, &size);
	if (err)
		return err;
	while (ivshm_clock_ms() < end) {
		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			return -EIO;
		/* Mostly small words, where indices and headers live; now and then a run. */
		len = r[1] % 8 ? 4 : 1 + (size_t)(r[1] >> 8) % 256;
		off = (size_t)(r[0] % (size - len));
		if (getrandom(buf + off, len, 0) != (ssize_t)len)
			return -EIO;
		if (++*writes % 64 == 0)
			ivshm_heartbeat(dev);
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t vectors, seconds, writes = 0;
	struct ivshm_dev *dev;
	int err;

	if (argc != 5 || ivshm_num_parse(argv[2], IVSHM_NUM_DEC, 1, 64, &vectors) ||
	    ivshm_num_parse(argv[4], IVSHM_NUM_DEC, 1, 86400, &seconds)) {
		fprintf(stderr, "usage: spray SOCKET VECTORS ROLE SECONDS\n");
		return 2;
	}
	err = ivshm_open_host(argv[1], (unsigned int)vectors, 10000, &dev);
	if (err) {
		fprintf(stderr, "spray: %s: %s\n", argv[1], ivshm_strerror(err));
		return 1;
	}
	err = ivshm_publish(dev, argv[3], 0, 0);
	if (!err)
		err = spray(dev, seconds, &writes);
	if (err)
		fprintf(stderr, "spray: %s\n", ivshm_strerror(err));
	else
		printf("spray writes=%llu\n", (unsigned long long)writes);
	ivshm_close(dev);
	return err ? 1 : 0;
}
