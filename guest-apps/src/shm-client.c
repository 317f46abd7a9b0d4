// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shm-client: the client half of the L4Re shared-memory example. It finds the
 * server's header in the shared buffer (peer IDs come from the doorbell
 * server and change, so they are never configured), prints the server's
 * message, replaces it with its own, rings the server and detaches.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "shm-proto.h"

#define CLIENT_MSG "Hello from client, too!"
#define POLL_MS    10

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shm-client [-d DEVICE] [-t TIMEOUT_MS]\n"
		"  -d, --device   /dev/uioN, uioN or PCI address (default: first ivshmem device)\n"
		"  -t, --timeout  how long to look for the server's header, ms (default 30000)\n"
		"Exit status: 0 reply sent, 1 error (no device, no server, foreign header), 2 usage.\n");
}

/* Poll the buffer until a server is ready; fatal header errors end it early. */
static int find_server(const void *buf, size_t size, int timeout_ms, struct ivshm_app_hdr *h)
{
	int64_t deadline = app_now_ms() + timeout_ms;
	int err;

	for (;;) {
		err = app_hdr_read(buf, size, IVSHM_APP_EXCHANGE, h);
		if (!err && h->state == IVSHM_APP_OWNER_READY)
			return 0;
		if (err == -EBADMSG) {
			app_err("foreign header in shared memory (magic 0x%08x)", h->magic);
			return -1;
		}
		if (err && err != -ENOENT) {
			app_err("%s", app_hdr_strerror(err));
			return -1;
		}
		if (app_now_ms() >= deadline) {
			app_err("no server found in shared memory after %d ms", timeout_ms);
			return -1;
		}
		app_sleep_ms(POLL_MS);
	}
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
	struct ivshm_app_hdr h;
	struct ivshm_dev *dev;
	uint64_t timeout = 30000;
	char msg[1024];
	unsigned int id;
	size_t size;
	char *buf;
	int c, err, ret = EXIT_FAIL;

	app_init("shm-client");
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

	if (app_open_doorbell(device, &dev, &id, (void **)&buf, &size))
		return EXIT_FAIL;
	if (find_server(buf, size, (int)timeout, &h))
		goto out_close;
	if (h.owner_id == id) {
		app_err("the header names this guest (peer %u) as the server", id);
		goto out_close;
	}
	if (ivshm_get_uio_path(dev, &path))
		path = "?";
	printf("shm-client: device %s, peer ID %u, server peer ID %u\n", path, id, h.owner_id);

	app_msg_copy(buf, &h, msg, sizeof(msg));
	printf("Content: %s\n", msg);

	if (h.msg_cap < sizeof(CLIENT_MSG) - 1) {
		app_err("the server's message area (%u bytes) is too small", h.msg_cap);
		goto out_close;
	}
	printf("Setting new content in shared memory\n");
	memset(buf + h.msg_off, 0, h.msg_cap);
	memcpy(buf + h.msg_off, CLIENT_MSG, sizeof(CLIENT_MSG) - 1);
	app_hdr_set_guest(buf, id, IVSHM_APP_ID_NONE, sizeof(CLIENT_MSG) - 1);
	app_hdr_set_state(buf, IVSHM_APP_GUEST_DONE);

	err = ivshm_trigger(dev, h.owner_id, h.owner_vector);
	if (err) {
		app_err("ringing peer %u vector %u: %s", h.owner_id, h.owner_vector,
			ivshm_strerror(err));
		goto out_close;
	}
	printf("shm-client: rang peer %u vector %u, detaching\n", h.owner_id, h.owner_vector);
	ret = 0;

out_close:
	ivshm_close(dev);
	return ret;
}
