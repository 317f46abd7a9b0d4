// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * chan-cycle: channels closed and opened again at once, against a peer still
 * reading the old one, between two host peers of a doorbell server.
 *
 *   chan-cycle SOCKET reader PORT SECONDS
 *       publish as "cycle-reader"; accept channels on PORT, read each to its
 *       end, close it, accept the next; stop after SECONDS without a channel.
 *       Prints "reader cycles=N messages=M eproto=P errors=E".
 *   chan-cycle SOCKET cycler PORT CYCLES MESSAGES
 *       find "cycle-reader"; CYCLES times: open, send MESSAGES numbered
 *       messages, close, at once again. Prints "cycler cycles=N messages=M
 *       result=ok|ERRNO".
 *
 * The reader must see every message, and each channel end with -EPIPE: never
 * -EPROTO, which is what a freed entry or half reused under it looks like.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivshm.h"
#include "number.h"

static const struct ivshm_chan_opts opts = { .type = IVSHM_CHAN_PACKET, .ring_size = 4096 };

static int reader(struct ivshm_dev *dev, uint32_t port, int seconds)
{
	unsigned long cycles = 0, messages = 0, eproto = 0, errors = 0;
	uint64_t expect = 0, got;
	struct ivshm_chan *ch;
	size_t len;
	int err;

	err = ivshm_publish(dev, "cycle-reader", 0, 0);
	if (err) {
		fprintf(stderr, "chan-cycle: publish: %s\n", ivshm_strerror(err));
		return 1;
	}
	printf("reader ready\n");
	fflush(stdout);
	while (!(err = ivshm_chan_accept(dev, port, &opts, seconds * 1000, &ch))) {
		while (!(err = ivshm_chan_recv(ch, &got, sizeof(got), &len, 5000))) {
			/* The cycler numbers its messages across channels: none lost or repeated. */
			if (len != sizeof(got) || got != expect)
				errors++;
			expect = got + 1;
			messages++;
		}
		if (err == -EPROTO)
			eproto++;
		else if (err != -EPIPE)
			errors++;
		if (err != -EPIPE)
			fprintf(stderr, "chan-cycle: channel %lu ended with %s\n", cycles,
				ivshm_strerror(err));
		ivshm_chan_close(ch);
		cycles++;
	}
	if (err != -ETIMEDOUT) {
		fprintf(stderr, "chan-cycle: accept after %lu channels: %s\n", cycles,
			ivshm_strerror(err));
		errors++;
	}
	printf("reader cycles=%lu messages=%lu eproto=%lu errors=%lu\n", cycles, messages, eproto,
	       errors);
	return eproto || errors;
}

static int cycler(struct ivshm_dev *dev, uint32_t port, unsigned long cycles, unsigned int n)
{
	unsigned long done = 0;
	uint64_t seq = 0;
	struct ivshm_chan *ch;
	struct ivshm_peer p;
	unsigned int i;
	int err;

	err = ivshm_publish(dev, "cycler", 0, 0);
	if (!err)
		err = ivshm_find_peer(dev, "cycle-reader", 10000, &p);
	for (; !err && done < cycles; done++) {
		err = ivshm_chan_open(dev, p.id, port, &opts, 10000, &ch);
		for (i = 0; !err && i < n; i++, seq++)
			err = ivshm_chan_send(ch, &seq, sizeof(seq), 10000);
		if (ch)
			ivshm_chan_close(ch);
		ch = NULL;
	}
	printf("cycler cycles=%lu messages=%llu result=%s\n", done, (unsigned long long)seq,
	       err ? strerrorname_np(-err) : "ok");
	return !!err;
}

int main(int argc, char **argv)
{
	struct ivshm_dev *dev;
	uint64_t port, a, b = 0;
	int err, ret;

	if (argc < 5 || ivshm_num_parse(argv[3], 0, 0, UINT32_MAX, &port) ||
	    ivshm_num_parse(argv[4], 0, 1, UINT32_MAX, &a) ||
	    (argc > 5 && ivshm_num_parse(argv[5], 0, 0, 1000000, &b))) {
		fprintf(stderr, "usage: chan-cycle SOCKET reader PORT SECONDS\n"
				"       chan-cycle SOCKET cycler PORT CYCLES MESSAGES\n");
		return 2;
	}
	err = ivshm_open_server(argv[1], 0, 0, 10000, &dev);
	if (err) {
		fprintf(stderr, "chan-cycle: %s: %s\n", argv[1], ivshm_strerror(err));
		return 1;
	}
	if (strcmp(argv[2], "reader") == 0)
		ret = reader(dev, (uint32_t)port, (int)a);
	else
		ret = cycler(dev, (uint32_t)port, (unsigned long)a, (unsigned int)b);
	ivshm_close(dev);
	return ret;
}
