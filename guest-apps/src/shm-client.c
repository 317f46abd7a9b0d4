// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shm-client: the client half of the L4Re shared-memory example. It finds the
 * server in the peer directory (peer IDs come from the doorbell server and
 * change, so they are never configured), prints the message in the buffer the
 * server hands out, replaces it with its own, rings the server and detaches.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "exchange.h"

#define CLIENT_MSG "Hello from client, too!"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shm-client [-d DEVICE] [-t TIMEOUT_MS]\n"
		"  -d, --device   /dev/uioN, uioN or PCI address (default: first ivshmem device)\n"
		"  -t, --timeout  how long to look for the server, ms (default 30000)\n"
		"Exit status: 0 reply sent, 1 error (no device, no server, foreign data), 2 usage.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = NULL, *path;
	struct ivshm_exchange_msg *m;
	struct exchange_reply msg;
	struct ivshm_peer server;
	struct ivshm_dev *dev;
	uint64_t timeout = 30000;
	unsigned int id;
	size_t size;
	void *buf;
	int c, err, ret = EXIT_FAIL;

	ivshm_msg_init("shm-client");
	app_log_init();
	while ((c = getopt_long(argc, argv, "d:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 't':
			if (app_parse_opt("--timeout", optarg, INT32_MAX, &timeout))
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
	err = ivshm_find_peer(dev, IVSHM_EXCHANGE_ROLE, (int)timeout, &server);
	if (err == -ETIMEDOUT) {
		ivshm_msg_err("no server found in shared memory after %llu ms",
			      (unsigned long long)timeout);
		goto out_close;
	}
	if (err) {
		app_err(err, "looking for the server");
		goto out_close;
	}
	if (ivshm_get_uio_path(dev, &path))
		path = "?";
	printf("shm-client: device %s, peer ID %u, server peer ID %u\n", path, id, server.id);

	err = ivshm_get_user_area(dev, server.id, &buf, &size);
	if (err) {
		app_err(err, "the server's user area");
		goto out_close;
	}
	err = exchange_read_message(buf, size, &msg);
	if (err) {
		ivshm_msg_err("the server's message: %s", exchange_strerror(err));
		goto out_close;
	}
	m = buf;
	printf("Content: %s\n", msg.text);

	printf("Setting new content in shared memory\n");
	exchange_write_reply(m, id, CLIENT_MSG);

	/* ivshm_trigger() orders the reply before the doorbell. */
	err = ivshm_trigger(dev, server.id, server.vector);
	if (err) {
		app_err(err, "ringing peer %u vector %u", server.id, server.vector);
		goto out_close;
	}
	printf("shm-client: rang peer %u vector %u, detaching\n", server.id, server.vector);
	ret = 0;

out_close:
	ivshm_close(dev);
	return ret;
}
