// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shm-server: the server half of the L4Re shared-memory example between two
 * guests. It publishes its peer ID and "Hello from server!" in the shared
 * buffer, waits for the client's doorbell and prints the client's reply.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "shm-proto.h"

#define MSG_OFF     ((uint32_t)sizeof(struct ivshm_app_hdr))
#define MSG_CAP     1024u
#define SERVER_MSG  "Hello from server!"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shm-server [-d DEVICE] [-t TIMEOUT_MS] [-V VECTOR]\n"
		"  -d, --device   /dev/uioN, uioN or PCI address (default: first ivshmem device)\n"
		"  -t, --timeout  how long to wait for the client, ms (default 60000)\n"
		"  -V, --vector   vector to be rung on (default 0)\n"
		"Exit status: 0 exchange done, 1 error or timeout, 2 usage.\n");
}

static int publish(void *buf, size_t size, unsigned int id, unsigned int vector)
{
	struct ivshm_app_hdr h = {
		.magic = IVSHM_APP_MAGIC,
		.version = IVSHM_APP_VERSION,
		.hdr_size = sizeof(h),
		.kind = IVSHM_APP_EXCHANGE,
		.state = IVSHM_APP_OWNER_READY,
		.owner_id = id,
		.owner_vector = vector,
		.guest_id = IVSHM_APP_ID_NONE,
		.guest_vector = IVSHM_APP_ID_NONE,
		.msg_off = MSG_OFF,
		.msg_cap = MSG_CAP,
		.msg_len = sizeof(SERVER_MSG) - 1,
	};

	if (size < MSG_OFF + MSG_CAP) {
		app_err("shared memory of %zu bytes is too small", size);
		return -1;
	}
	app_hdr_clear(buf);
	memset((char *)buf + MSG_OFF, 0, MSG_CAP);
	memcpy((char *)buf + MSG_OFF, SERVER_MSG, sizeof(SERVER_MSG) - 1);
	app_hdr_publish(buf, &h);
	return 0;
}

/* Wait for the doorbell on @vector that comes with a GUEST_DONE header. */
static int wait_client(struct ivshm_dev *dev, const void *buf, size_t size,
		       unsigned int vector, int timeout_ms, struct ivshm_app_hdr *h)
{
	int64_t deadline = app_now_ms() + timeout_ms, left;
	uint64_t fired;
	int err;

	for (;;) {
		left = deadline - app_now_ms();
		if (left < 0)
			left = 0;
		err = ivshm_wait(dev, (int)left, &fired, NULL);
		if (err == -ETIMEDOUT) {
			app_err("timed out after %d ms waiting for the client", timeout_ms);
			return -1;
		}
		if (err) {
			app_err("waiting for the client: %s", ivshm_strerror(err));
			return -1;
		}
		if (!(fired & (UINT64_C(1) << vector)))
			continue;
		err = app_hdr_read(buf, size, IVSHM_APP_EXCHANGE, h);
		if (err) {
			app_err("after the doorbell: %s", app_hdr_strerror(err));
			return -1;
		}
		if (h->state == IVSHM_APP_GUEST_DONE)
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
	struct ivshm_app_hdr h;
	struct ivshm_dev *dev;
	char msg[MSG_CAP + 1];
	size_t size;
	void *buf;
	int c, ret = EXIT_FAIL;

	app_init("shm-server");
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
		app_err("vector %llu: the device has %u vectors", (unsigned long long)vector,
			nr_vectors);
		goto out_close;
	}
	if (ivshm_get_uio_path(dev, &path))
		path = "?";
	printf("shm-server: device %s, peer ID %u, %zu bytes of shared memory\n", path, id, size);

	if (publish(buf, size, id, (unsigned int)vector))
		goto out_close;
	printf("shm-server: wrote \"%s\", waiting for a client (timeout %llu ms)\n", SERVER_MSG,
	       (unsigned long long)timeout);

	if (wait_client(dev, buf, size, (unsigned int)vector, (int)timeout, &h))
		goto out_clear;
	printf("shm-server: IRQ on vector %llu from peer %u\n", (unsigned long long)vector,
	       h.guest_id);
	app_msg_copy(buf, &h, msg, sizeof(msg));
	printf("New content: %s\n", msg);
	ret = 0;

out_clear:
	app_hdr_clear(buf);
out_close:
	ivshm_close(dev);
	return ret;
}
