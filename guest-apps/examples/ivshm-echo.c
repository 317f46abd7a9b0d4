// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-echo: the smallest complete channel program, to copy from.
 *
 * In one guest:   ivshm-echo server
 * In another:     echo hello | ivshm-echo client      ->  "echo: hello"
 * On the host:    ivshm-echo client --host /run/ivshm/ivshmd.sock
 *
 * The server publishes itself as "echo-server" in the peer directory and
 * answers every message of every client, one client after the other. The
 * client finds the server by that role, opens a packet channel on port 7,
 * sends each line of its input and prints each answer. Only libivshm (and
 * libc) is used: cc -o ivshm-echo ivshm-echo.c $(pkg-config --cflags --libs libivshm)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ivshm.h>

#define ROLE    "echo-server"
#define PORT    7
#define WAIT_MS 30000

/*
 * libivshm returns an errno code and says which check refused, with the values
 * it saw, through its log function: keep the last line for the error message.
 */
static char why[256];

static void keep_why(void *data, int priority, const char *msg)
{
	(void)data;
	(void)priority;
	snprintf(why, sizeof(why), "%s", msg);
}

/* "ivshm-echo: WHAT: <libc text> (<libivshm's detail>)" */
static void say_error(const char *what, int err)
{
	if (why[0])
		fprintf(stderr, "ivshm-echo: %s: %s (%s)\n", what, ivshm_strerror(err), why);
	else
		fprintf(stderr, "ivshm-echo: %s: %s\n", what, ivshm_strerror(err));
	why[0] = '\0';
}

static int serve(struct ivshm_dev *dev)
{
	char msg[1024], reply[1100];
	struct ivshm_chan *ch;
	size_t len;
	int err;

	err = ivshm_publish(dev, ROLE, 0, 0);
	if (err)
		return err;
	printf("echo server ready\n");
	fflush(stdout);
	for (;;) {
		/* One client at a time; -ETIMEDOUT after 30 s without one ends the server. */
		err = ivshm_chan_accept(dev, PORT, NULL, WAIT_MS, &ch);
		if (err)
			return err;
		/* Until the client closes (-EPIPE) or disappears. */
		while (!(err = ivshm_chan_recv(ch, msg, sizeof(msg) - 1, &len, WAIT_MS))) {
			msg[len] = '\0';
			snprintf(reply, sizeof(reply), "echo: %s", msg);
			err = ivshm_chan_send(ch, reply, strlen(reply), WAIT_MS);
			if (err)
				break;
		}
		ivshm_chan_close(ch);
		if (err != -EPIPE)
			say_error("client gone", err);
	}
}

static int client(struct ivshm_dev *dev)
{
	char line[1000], reply[1100];
	struct ivshm_peer server;
	struct ivshm_chan *ch;
	size_t len;
	int err;

	/* A client publishes too: channels are between published peers. */
	err = ivshm_publish(dev, "echo-client", 0, 0);
	if (!err)
		err = ivshm_find_peer(dev, ROLE, WAIT_MS, &server);
	if (!err)
		err = ivshm_chan_open(dev, server.id, PORT, NULL, WAIT_MS, &ch);
	if (err)
		return err;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		err = ivshm_chan_send(ch, line, strlen(line), WAIT_MS);
		if (!err)
			err = ivshm_chan_recv(ch, reply, sizeof(reply) - 1, &len, WAIT_MS);
		if (err)
			break;
		reply[len] = '\0';
		printf("%s\n", reply);
	}
	ivshm_chan_close(ch);
	return err;
}

int main(int argc, char **argv)
{
	struct ivshm_dev *dev;
	int err;

	if ((argc != 2 && !(argc == 4 && strcmp(argv[2], "--host") == 0)) ||
	    (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0)) {
		fprintf(stderr, "usage: ivshm-echo server|client [--host SOCKET]\n");
		return 2;
	}
	ivshm_set_log_fn(keep_why, NULL);
	/* A guest opens its ivshmem device; a host process joins the doorbell server. */
	if (argc == 4)
		err = ivshm_open_host(argv[3], 4, WAIT_MS, &dev);
	else
		err = ivshm_open(NULL, 0, &dev);
	if (err) {
		say_error(argc == 4 ? "cannot join the doorbell server" : "cannot open the ivshmem device",
			  err);
		return 1;
	}
	err = strcmp(argv[1], "server") == 0 ? serve(dev) : client(dev);
	if (err)
		say_error(argv[1], err);
	ivshm_close(dev);
	return err ? 1 : 0;
}
