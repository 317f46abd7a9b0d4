// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shm-server: the server half of the L4Re shared-memory example between two
 * guests. It writes "Hello from server!" into the buffer it hands out (the
 * start of its arena), publishes itself in the peer directory, waits for the
 * client's doorbell and prints the client's reply.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "exchange.h"

#define SERVER_MSG "Hello from server!"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shm-server [-d DEVICE] [-t TIMEOUT_MS] [-V VECTOR]\n"
		"  -d, --device   /dev/uioN, uioN or PCI address (default: first ivshmem device)\n"
		"  -t, --timeout  how long to wait for the client, ms (default 60000)\n"
		"  -V, --vector   vector to be rung on (default 0)\n"
		"Exit status: 0 exchange done, 1 error or timeout, 2 usage.\n");
}

/* Wait for a doorbell on @vector that comes with a reply from another peer. */
static int wait_client(struct ivshm_dev *dev, struct ivshm_exchange_msg *m, unsigned int self,
		       unsigned int vector, int timeout_ms, struct exchange_reply *r)
{
	int64_t deadline = ivshm_clock_ms() + timeout_ms, left;
	uint64_t fired;
	int err;

	for (;;) {
		left = deadline - ivshm_clock_ms();
		if (left < 0)
			left = 0;
		err = ivshm_wait(dev, (int)left, &fired, NULL);
		if (err == -ETIMEDOUT) {
			ivshm_msg_err("timed out after %d ms waiting for the client", timeout_ms);
			return -1;
		}
		if (err) {
			app_err(err, "waiting for the client");
			return -1;
		}
		if (!(fired & (UINT64_C(1) << vector)))
			continue;
		err = exchange_read_reply(m, self, r);
		if (err == -EAGAIN)
			continue;
		if (err) {
			ivshm_msg_err("after the doorbell: %s", exchange_strerror(err));
			return -1;
		}
		return 0;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "vector", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = NULL, *path;
	uint64_t timeout = 60000, vector = 0;
	unsigned int id, nr_vectors;
	struct ivshm_exchange_msg *m;
	struct exchange_reply reply;
	struct ivshm_dev *dev;
	size_t size;
	void *buf;
	int c, err, ret = EXIT_FAIL;

	ivshm_msg_init("shm-server");
	app_log_init();
	while ((c = getopt_long(argc, argv, "d:t:V:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 't':
			if (app_parse_opt("--timeout", optarg, INT32_MAX, &timeout))
				return EXIT_USAGE;
			break;
		case 'V':
			if (app_parse_opt("--vector", optarg, IVSHM_MAX_VECTORS - 1, &vector))
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	if (app_open_doorbell(device, &dev, &id, &buf, &size))
		return EXIT_FAIL;
	if (ivshm_get_vectors(dev, &nr_vectors) || vector >= nr_vectors) {
		ivshm_msg_err("vector %llu: the device has %u vectors", (unsigned long long)vector,
			nr_vectors);
		goto out_close;
	}
	if (ivshm_get_uio_path(dev, &path))
		path = "?";
	printf("shm-server: device %s, peer ID %u, %zu bytes of shared memory\n", path, id, size);

	/* The message first, then the publication that tells clients where to look. */
	err = ivshm_get_user_area(dev, id, &buf, &size);
	if (!err && size < sizeof(*m))
		err = -EMSGSIZE;
	if (err) {
		app_err(err, "no arena in the shared memory");
		goto out_close;
	}
	m = buf;
	exchange_write(m, id, SERVER_MSG);
	if (app_publish(dev, IVSHM_EXCHANGE_ROLE, (unsigned int)vector, 0))
		goto out_close;
	printf("shm-server: wrote \"%s\", waiting for a client (timeout %llu ms)\n", SERVER_MSG,
	       (unsigned long long)timeout);

	if (wait_client(dev, m, id, (unsigned int)vector, (int)timeout, &reply))
		goto out_close;
	printf("shm-server: IRQ on vector %llu from peer %u\n", (unsigned long long)vector,
	       reply.from);
	printf("New content: %s\n", reply.text);
	ret = 0;

out_close:
	/* Closing withdraws the publication: no client trusts a server that left. */
	ivshm_close(dev);
	return ret;
}
