// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * proxy-hostile: a host peer that links to an ivshm-proxy and breaks the
 * proxy protocol (contracts/ivshm-proxy.h) on purpose, for tests/076. It joins
 * the doorbell server, publishes as ROLE, opens the proxy channel to the peer
 * publishing TARGET, and plays one scenario; it prints what came back.
 *
 *   proxy-hostile -S SOCKET -n VECTORS -r ROLE -t TARGET SCENARIO [SERVICE [SINK]]
 *     garbage    records of random bytes, no HELLO
 *     no-hello   a well-formed DATA before any HELLO
 *     lies       HELLO, then frames whose lengths run past their records, a
 *                truncated header, a HELLO too short; then OPEN SERVICE
 *     unknown    HELLO, then every frame type for IDs never opened, both
 *                parities, out of range; then OPEN SERVICE
 *     credit     HELLO, two OPENs of SERVICE (an echo) and one of SINK (a
 *                service that reads nothing); once accepted: a fwd_cnt beyond
 *                what was sent, one that goes backwards after a real one, DATA
 *                beyond the credit given to the one that cannot deliver it
 *     flood      HELLO, an OPEN of every ID in range and 1000 beyond, twice
 *                (the second round duplicates), of SERVICE
 *     names      HELLO, OPENs naming addresses and paths instead of services
 * Output: "got TYPE id=N arg=A" per frame for the scenario's own IDs (not for
 * floods), then "summary hello=H accept=A refuse=R reset=X other=O closed=0|1";
 * "closed=1": the proxy closed the link.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "frame.h"
#include "ivshm.h"

#define SEND_MS 3000
/* The proxy has answered everything once it is quiet this long. */
#define QUIET_MS 500

struct hostile {
	struct ivshm_dev *dev;
	struct ivshm_chan *ch;
	uint32_t max;			/* the largest record we send */
	unsigned int parity;
	unsigned int counts[16];
	int closed, verbose;
	uint32_t accepted[8];		/* IDs the proxy accepted, in order */
	unsigned int n_accepted;
};

static uint32_t id_of(const struct hostile *h, uint32_t idx)
{
	return (idx + 1) * 2 + h->parity;
}

static int send_rec(struct hostile *h, const void *rec, size_t len)
{
	int err = ivshm_chan_send(h->ch, rec, len, SEND_MS);

	if (err) {
		h->closed |= err == -EPIPE || err == -ECONNRESET;
		fprintf(stderr, "proxy-hostile: send: %s\n", ivshm_strerror(err));
	}
	return err;
}

static int send_frame(struct hostile *h, uint8_t type, uint8_t flags, uint32_t conn, uint32_t len,
		      uint32_t arg, const void *payload)
{
	char rec[FRAME_HDR + 256];

	frame_put(rec, type, flags, conn, len, arg);
	if (len)
		memcpy(rec + FRAME_HDR, payload, len);
	return send_rec(h, rec, FRAME_HDR + len);
}

static int hello(struct hostile *h)
{
	struct ivshm_proxy_hello hl = { .max_conns = 64, .max_data = 1024 };

	return send_frame(h, IVSHM_PROXY_HELLO, 0, 0, sizeof(hl),
			  IVSHM_PROXY_MAJOR << 16 | IVSHM_PROXY_MINOR, &hl);
}

static int open_conn(struct hostile *h, uint32_t id, const char *service)
{
	return send_frame(h, IVSHM_PROXY_OPEN, 0, id, (uint32_t)strlen(service), 65536, service);
}

/* Read what the proxy sends until it is quiet for QUIET_MS (or closes). */
static void drain(struct hostile *h, int print)
{
	int64_t quiet_until = ivshm_clock_ms() + QUIET_MS;
	static char rec[1 << 20];
	struct frame f;
	size_t len, pos;
	int err;

	while (!h->closed && ivshm_clock_ms() < quiet_until) {
		err = ivshm_chan_recv(h->ch, rec, sizeof(rec), &len, 50);
		if (err == -ETIMEDOUT)
			continue;
		if (err) {
			h->closed = 1;
			break;
		}
		quiet_until = ivshm_clock_ms() + QUIET_MS;
		pos = 0;
		while (frame_next(rec, len, &pos, &f) == 1) {
			h->counts[f.h.type < 16 ? f.h.type : 0]++;
			if (f.h.type == IVSHM_PROXY_ACCEPT && h->n_accepted < 8)
				h->accepted[h->n_accepted++] = f.h.conn;
			if (print && f.h.type != IVSHM_PROXY_HELLO)
				printf("got %s id=%u arg=%u\n", frame_type_name(f.h.type), f.h.conn, f.h.arg);
		}
	}
}

static int garbage(struct hostile *h)
{
	char rec[4096];
	int i, j;

	srand(1);
	for (i = 0; i < 50 && !h->closed; i++) {
		size_t len = 1 + (size_t)rand() % (sizeof(rec) < h->max ? sizeof(rec) : h->max);

		for (j = 0; j < (int)len; j++)
			rec[j] = (char)rand();
		send_rec(h, rec, len);
	}
	return 0;
}

static int lies(struct hostile *h, const char *service)
{
	char rec[256];

	hello(h);
	/* A DATA whose length runs 1 byte past its record. */
	frame_put(rec, IVSHM_PROXY_DATA, 0, id_of(h, 0), 11, 0);
	memcpy(rec + FRAME_HDR, "0123456789", 10);
	send_rec(h, rec, FRAME_HDR + 10);
	/* The largest length there is. */
	frame_put(rec, IVSHM_PROXY_OPEN, 0, id_of(h, 0), UINT32_MAX, 65536);
	send_rec(h, rec, FRAME_HDR + 3);
	/* A whole CREDIT, then 9 bytes of a header. */
	frame_put(rec, IVSHM_PROXY_CREDIT, 0, id_of(h, 1), 0, 0);
	frame_put(rec + FRAME_HDR, IVSHM_PROXY_CREDIT, 0, id_of(h, 1), 0, 0);
	send_rec(h, rec, FRAME_HDR + 9);
	/* A HELLO too short, and one more HELLO. */
	send_frame(h, IVSHM_PROXY_HELLO, 0, 0, 4, 1 << 16, "abcd");
	hello(h);
	/* The link still serves. */
	open_conn(h, id_of(h, 2), service);
	return 0;
}

static int unknown(struct hostile *h, const char *service)
{
	static const uint8_t types[] = {
		IVSHM_PROXY_ACCEPT, IVSHM_PROXY_REFUSE, IVSHM_PROXY_DATA, IVSHM_PROXY_SHUTDOWN,
		IVSHM_PROXY_CREDIT, IVSHM_PROXY_RESET, IVSHM_PROXY_CLOSE, 0, 77, 255,
	};
	uint32_t ids[] = { id_of(h, 5), id_of(h, 5) ^ 1, 1, 0x7ffffffe, 0xffffffff };
	unsigned int i, j;

	hello(h);
	for (i = 0; i < sizeof(types); i++)
		for (j = 0; j < sizeof(ids) / sizeof(ids[0]); j++)
			send_frame(h, types[i], 0, ids[j], types[i] == IVSHM_PROXY_DATA ? 4 : 0,
				   types[i] == IVSHM_PROXY_ACCEPT ? 65536 : 0, "data");
	open_conn(h, id_of(h, 6), service);
	return 0;
}

static int credit(struct hostile *h, const char *service, const char *sink)
{
	char big[FRAME_HDR + 16384];
	unsigned int i;

	hello(h);
	for (i = 0; i < 3; i++)
		open_conn(h, id_of(h, (uint32_t)i), i < 2 ? service : sink);
	drain(h, 1);
	if (h->n_accepted != 3) {
		printf("credit: %u of 3 accepted\n", h->n_accepted);
		return 1;
	}
	/* Nothing was sent to us yet: any fwd_cnt is beyond it. */
	send_frame(h, IVSHM_PROXY_CREDIT, 0, h->accepted[0], 0, 5, NULL);
	/* A real one, then backwards: send 1 byte, let it echo, ack it, then ack 0. */
	send_frame(h, IVSHM_PROXY_DATA, 0, h->accepted[1], 1, 0, "x");
	drain(h, 1);
	send_frame(h, IVSHM_PROXY_CREDIT, 0, h->accepted[1], 0, 1, NULL);
	send_frame(h, IVSHM_PROXY_CREDIT, 0, h->accepted[1], 0, 0, NULL);
	/*
	 * The sink reads nothing: once its socket is full, the proxy holds what
	 * comes, up to the credit it gave. Send far more, never waiting for credit.
	 */
	memset(big, 'z', sizeof(big));
	for (i = 0; i < 64 && !h->closed; i++) {
		frame_put(big, IVSHM_PROXY_DATA, 0, h->accepted[2], 16384, 0);
		send_rec(h, big, sizeof(big));
	}
	return 0;
}

static int flood(struct hostile *h, const char *service)
{
	uint32_t i;
	int round;

	hello(h);
	for (round = 0; round < 2; round++)
		for (i = 0; i < 1064 && !h->closed; i++)
			open_conn(h, id_of(h, i), service);
	return 0;
}

static int names(struct hostile *h)
{
	static const char *const bad[] = {
		"tcp:127.0.0.1:22", "unix:/etc/passwd", "../../etc", "/run/ivshm/ivshmd.sock",
		"a b", "x\ny", "0123456789012345678901234567890123456789012345678901234567890123",
	};
	unsigned int i;

	hello(h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		open_conn(h, id_of(h, i), bad[i]);
	return 0;
}

static int connect_proxy(struct hostile *h, const char *sock, unsigned int vectors,
			 const char *role, const char *target)
{
	struct ivshm_chan_opts o = { .type = IVSHM_CHAN_PACKET, .ring_size = 65536 };
	struct ivshm_chan_info info;
	struct ivshm_peer p;
	unsigned int self;
	int err;

	err = ivshm_open_server(sock, vectors, 0, 5000, &h->dev);
	if (!err)
		err = ivshm_publish(h->dev, role, 0, 0);
	if (!err)
		err = ivshm_get_peer_id(h->dev, &self);
	if (!err)
		err = ivshm_find_peer(h->dev, target, 5000, &p);
	if (!err)
		err = ivshm_chan_open(h->dev, p.id, IVSHM_PROXY_PORT, &o, 5000, &h->ch);
	if (!err)
		err = ivshm_chan_get_info(h->ch, &info);
	if (err) {
		fprintf(stderr, "proxy-hostile: linking to %s: %s\n", target, ivshm_strerror(err));
		return err;
	}
	h->max = info.max_send;
	h->parity = self > p.id;
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *role = "proxy-evil", *target = NULL, *scenario, *service, *sink;
	struct hostile h = { 0 };
	unsigned int vectors = 1;
	int c, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "S:n:r:t:")) != -1) {
		switch (c) {
		case 'S': sock = optarg; break;
		case 'n': vectors = (unsigned int)atoi(optarg); break;
		case 'r': role = optarg; break;
		case 't': target = optarg; break;
		default: return 2;
		}
	}
	if (!sock || !target || optind >= argc) {
		fprintf(stderr, "usage: proxy-hostile -S SOCKET [-n VECTORS] [-r ROLE] -t TARGET_ROLE "
			"SCENARIO [SERVICE]\n");
		return 2;
	}
	scenario = argv[optind];
	service = optind + 1 < argc ? argv[optind + 1] : "echo";
	sink = optind + 2 < argc ? argv[optind + 2] : "sink";
	if (connect_proxy(&h, sock, vectors, role, target))
		return 1;
	if (!strcmp(scenario, "garbage"))
		rc = garbage(&h);
	else if (!strcmp(scenario, "no-hello"))
		rc = send_frame(&h, IVSHM_PROXY_DATA, 0, id_of(&h, 0), 4, 0, "data");
	else if (!strcmp(scenario, "lies"))
		rc = lies(&h, service);
	else if (!strcmp(scenario, "unknown"))
		rc = unknown(&h, service);
	else if (!strcmp(scenario, "credit"))
		rc = credit(&h, service, sink);
	else if (!strcmp(scenario, "flood"))
		rc = flood(&h, service);
	else if (!strcmp(scenario, "names"))
		rc = names(&h);
	else
		return 2;
	drain(&h, strcmp(scenario, "flood") != 0);
	printf("summary hello=%u accept=%u refuse=%u reset=%u other=%u closed=%d\n",
	       h.counts[IVSHM_PROXY_HELLO], h.counts[IVSHM_PROXY_ACCEPT],
	       h.counts[IVSHM_PROXY_REFUSE], h.counts[IVSHM_PROXY_RESET],
	       h.counts[IVSHM_PROXY_DATA] + h.counts[IVSHM_PROXY_CREDIT] +
	       h.counts[IVSHM_PROXY_SHUTDOWN] + h.counts[IVSHM_PROXY_CLOSE], h.closed);
	ivshm_chan_close(h.ch);
	ivshm_close(h.dev);
	return rc ? 1 : 0;
}
