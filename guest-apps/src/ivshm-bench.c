// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-bench: what channels cost between two peers, against TCP between the
 * same two and against the limits of the machine: a cache-line ping-pong
 * (the floor of a round trip) and memcpy (the ceiling of a stream). The
 * server follows, the client drives every test in one run and prints one
 * result line per test; tests/bench/report turns them into the table, the
 * CSV and the plot. In a guest or on the host (--host SOCKET).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "parse.h"

/* The server waits this long for the next test: the client's own tests (memcpy) run between. */
#define IDLE_MS    60000
/* Heartbeats from bench_alive(): well inside the second after which a peer looks dead. */
#define ALIVE_NS   (100 * 1000000)
#define MAX_SIZES  8
/* Round trips are packets: each message must fit half a ring the arena can hold. */
#define MAX_RTT_MSG (64u * 1024)
/* stream-batch runs the stream sizes up to this: several packets of a 2 MiB ring a batch. */
#define MAX_BATCH_MSG (64u * 1024)

static const struct test_name {
	const char *name;
	enum ivshm_bench_test test;
	uint32_t mode;
} test_names[] = {
	{ "rtt-cacheline", IVSHM_BENCH_RTT_LINE, 0 },
	{ "rtt-poll", IVSHM_BENCH_RTT_CHAN, IVSHM_WAIT_POLL },
	{ "rtt-hybrid", IVSHM_BENCH_RTT_CHAN, IVSHM_WAIT_HYBRID },
	{ "rtt-interrupt", IVSHM_BENCH_RTT_CHAN, IVSHM_WAIT_INTERRUPT },
	{ "rtt-tcp", IVSHM_BENCH_RTT_TCP, 0 },
	{ "rtt-unix", IVSHM_BENCH_RTT_UNIX, 0 },
	{ "stream-memcpy", IVSHM_BENCH_STREAM_MEMCPY, 0 },
	{ "stream-poll", IVSHM_BENCH_STREAM_CHAN, IVSHM_WAIT_POLL },
	{ "stream-hybrid", IVSHM_BENCH_STREAM_CHAN, IVSHM_WAIT_HYBRID },
	{ "stream-interrupt", IVSHM_BENCH_STREAM_CHAN, IVSHM_WAIT_INTERRUPT },
	{ "stream-batch", IVSHM_BENCH_STREAM_BATCH, 0 },
	{ "stream-tcp", IVSHM_BENCH_STREAM_TCP, 0 },
	{ "stream-unix", IVSHM_BENCH_STREAM_UNIX, 0 },
	{ "wake-sleep", IVSHM_BENCH_WAKE, IVSHM_BENCH_WAKE_SLEEP },
	{ "wake-spin", IVSHM_BENCH_WAKE, IVSHM_BENCH_WAKE_SPIN },
};
#define NR_NAMES (sizeof(test_names) / sizeof(test_names[0]))

static bench_client_fn *const client_fns[IVSHM_BENCH_NR_TESTS] = {
	[IVSHM_BENCH_RTT_CHAN] = bench_chan_rtt_client,
	[IVSHM_BENCH_RTT_TCP] = bench_sock_rtt_client,
	[IVSHM_BENCH_RTT_LINE] = bench_line_client,
	[IVSHM_BENCH_STREAM_CHAN] = bench_chan_stream_client,
	[IVSHM_BENCH_STREAM_TCP] = bench_sock_stream_client,
	[IVSHM_BENCH_WAKE] = bench_wake_client,
	[IVSHM_BENCH_STREAM_BATCH] = bench_chan_batch_client,
	[IVSHM_BENCH_RTT_UNIX] = bench_sock_rtt_client,
	[IVSHM_BENCH_STREAM_UNIX] = bench_sock_stream_client,
};

static bench_server_fn *const server_fns[IVSHM_BENCH_NR_TESTS] = {
	[IVSHM_BENCH_RTT_CHAN] = bench_chan_rtt_server,
	[IVSHM_BENCH_RTT_TCP] = bench_sock_rtt_server,
	[IVSHM_BENCH_RTT_LINE] = bench_line_server,
	[IVSHM_BENCH_STREAM_CHAN] = bench_chan_stream_server,
	[IVSHM_BENCH_STREAM_TCP] = bench_sock_stream_server,
	[IVSHM_BENCH_WAKE] = bench_wake_server,
	[IVSHM_BENCH_STREAM_BATCH] = bench_chan_batch_server,
	[IVSHM_BENCH_RTT_UNIX] = bench_sock_rtt_server,
	[IVSHM_BENCH_STREAM_UNIX] = bench_sock_stream_server,
};

/* By enum ivshm_wait_mode. */
static const char *const wait_names[] = { "interrupt", "poll", "hybrid" };

struct sizes {
	uint32_t v[MAX_SIZES];
	unsigned int n;
};

struct client_opts {
	int selected[NR_NAMES];
	struct sizes rtt, stream;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ivshm-bench [DEVICE] serve [--tcp-listen [IP:]PORT] [--unix-listen PATH] [-t MS]\n"
		"       ivshm-bench [DEVICE] run [--tcp-connect IP:PORT] [--unix-connect PATH]\n"
		"                   [--tests LIST] [--sizes LIST] [--rtt-sizes LIST] [--rounds N]\n"
		"                   [--line-rounds N] [--wake-rounds N] [--max-ms MS] [--stream-ms MS]\n"
		"                   [--ring BYTES] [--spin-us US] [--batch N] [--batch-wait MODE] [-t MS]\n"
		"DEVICE: -d /dev/uioN|uioN|PCI (default: the first), or --host SOCKET [-n VECTORS]\n"
		"        [--unsealed] (VECTORS 0: the server's; --unsealed: accept ivshmd -M memory)\n"
		"The server publishes itself as " IVSHM_BENCH_SERVER_ROLE ", the client as "
		IVSHM_BENCH_CLIENT_ROLE "; the client\n"
		"opens a control channel to the server and runs the tests in this order (the\n"
		"streams size by size, every stream test at one size before the next size):\n"
		"  rtt-cacheline rtt-poll rtt-hybrid rtt-interrupt rtt-tcp rtt-unix\n"
		"  stream-memcpy stream-poll stream-hybrid stream-interrupt stream-batch\n"
		"  stream-tcp stream-unix wake-sleep wake-spin\n"
		"(the TCP ones only with --tcp-connect, the AF_UNIX ones only with --unix-connect:\n"
		"host peers; --tests picks some, comma-separated). The server listens on every\n"
		"address unless given one, on any free port for 0, and prints the port; it makes\n"
		"the --unix-listen PATH, which must not exist, and removes it at the end.\n"
		"  --rounds       round trips of rtt-poll/hybrid/interrupt/tcp/unix (default 10000)\n"
		"  --line-rounds  round trips of rtt-cacheline (default 100000)\n"
		"  --wake-rounds  doorbells of wake-* (default 500)\n"
		"                 (the first tenth of the rounds warm up and is not counted)\n"
		"  --max-ms       stop a round-trip test over a channel or TCP after this long\n"
		"                 (default 10000; count= says how many were measured)\n"
		"  --rtt-sizes    message bytes of the round trips, 8..65536 (default 64; the\n"
		"                 cache line is always 64)\n"
		"  --sizes        message bytes of the stream tests, 8..1048576\n"
		"                 (default 64,4096,65536,1048576; stream-batch takes those up to\n"
		"                 65536 that fit a packet of the ring, half of it)\n"
		"  --stream-ms    how long each stream test sends (default 1000)\n"
		"  --ring         the client's ring bytes for stream channels (default 2097152)\n"
		"  --spin-us      how long hybrid channels spin before they sleep (default: libivshm's)\n"
		"  --batch        messages per batch of stream-batch, 1..%u (default 32; fewer where\n"
		"                 they would exceed %u MiB)\n"
		"  --batch-wait   stream-batch's wait mode: interrupt, poll or hybrid (default hybrid)\n"
		"  -t, --timeout  per call, ms (default 10000)\n"
		"Result lines (client; times in us with ns digits, an empty value is not measured):\n"
		"  bench test=rtt|stream transport=ivshm|tcp|unix|cacheline|memcpy\n"
		"        mode=interrupt|poll|hybrid|batch|- msg_bytes=B count=N p50_us= p99_us= p999_us=\n"
		"        max_us= mib_per_s= ring_bytes= [batch=N wait=MODE] doorbells=N sleeps=N\n"
		"        peer_doorbells=N peer_sleeps=N result=ok|ERROR  (batch and wait: mode=batch)\n"
		"  bench test=wake transport=doorbell mode=sleep|spin msg_bytes=0 count=N p50_us= ...\n"
		"        doorbell_us=  (one way: doorbell write to the server's return from its wait,\n"
		"        across the two clocks; doorbell_us: the doorbell write alone, p50)\n"
		"Exit status: 0 success, 1 a test or the peer failed, 2 usage.\n",
		IVSHM_BENCH_MAX_BATCH, IVSHM_BENCH_MAX_BATCH_BYTES >> 20);
}

static const char *err_name(int err)
{
	switch (-err) {
	case 0: return "ok";
	case EPIPE: return "EPIPE";
	case ECONNRESET: return "ECONNRESET";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EHOSTDOWN: return "EHOSTDOWN";
	case EPROTO: return "EPROTO";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOSPC: return "ENOSPC";
	case EBADMSG: return "EBADMSG";
	default: return "error";
	}
}

static int ctl_send(struct bench_conn *c, struct ivshm_bench_ctl *m)
{
	int err;

	m->magic = IVSHM_BENCH_CTL_MAGIC;
	err = ivshm_chan_send(c->ctl, m, sizeof(*m), c->o->timeout_ms);
	if (err) {
		app_err(err, "control channel");
		c->ctl_err = err;
	}
	return err;
}

/* The next control message, checked to be one of ours with @op (0: any). */
static int ctl_recv(struct bench_conn *c, uint32_t op, struct ivshm_bench_ctl *m, int timeout_ms)
{
	size_t len;
	int err;

	err = ivshm_chan_recv(c->ctl, m, sizeof(*m), &len, timeout_ms);
	if (!err && (len != sizeof(*m) || m->magic != IVSHM_BENCH_CTL_MAGIC || (op && m->op != op)))
		err = -EBADMSG;
	if (err) {
		if (err == -EBADMSG)
			ivshm_msg_err("control channel: a malformed or unexpected message");
		else if (err != -EPIPE)
			app_err(err, "control channel");
		c->ctl_err = err;
	}
	return err;
}

int bench_ctl_ready(struct bench_conn *c)
{
	struct ivshm_bench_ctl m = { .op = IVSHM_BENCH_OP_READY };

	return ctl_send(c, &m);
}

int bench_ctl_done(struct bench_conn *c, struct ivshm_bench_ctl *done)
{
	/* The server gives up on a test after its own timeout, then reports. */
	int err = ctl_recv(c, IVSHM_BENCH_OP_DONE, done, 3 * c->o->timeout_ms);

	if (!err && done->status > 0)
		err = -EBADMSG;
	return err;
}

int bench_stream_done(struct bench_conn *c, const struct bench_spec *s,
		      struct ivshm_bench_ctl *done, struct bench_result *r, uint64_t n, uint64_t t0,
		      int err)
{
	int derr = bench_ctl_done(c, done);
	uint64_t t1 = bench_ticks();

	if (err || derr)
		return err ? err : derr;
	if (!done->status && done->bytes != n * s->msg_bytes) {
		ivshm_msg_err("sent %llu bytes, the server read %llu",
			      (unsigned long long)(n * s->msg_bytes), (unsigned long long)done->bytes);
		return -EBADMSG;
	}
	r->count = n;
	r->mib_per_s = (double)done->bytes / (1024.0 * 1024.0) /
		       ((double)bench_ticks_ns((int64_t)(t1 - t0)) / 1e9);
	return 0;
}

void bench_alive(struct bench_conn *c)
{
	uint64_t now = bench_ticks();

	if (now < c->alive_at)
		return;
	ivshm_heartbeat(c->dev);
	c->alive_at = now + bench_ns_ticks(ALIVE_NS);
}

/* A batch of the START's: messages for stream-batch, none for the others. */
static int batch_ok(const struct ivshm_bench_ctl *m)
{
	if (m->test != IVSHM_BENCH_STREAM_BATCH)
		return m->batch == 0;
	return m->batch && m->batch <= IVSHM_BENCH_MAX_BATCH &&
	       (uint64_t)m->batch * m->msg_bytes <= IVSHM_BENCH_MAX_BATCH_BYTES;
}

/* A START from the client, as hostile as any input from another VM. */
static int spec_of(const struct ivshm_bench_ctl *m, struct bench_spec *s)
{
	if (m->test >= IVSHM_BENCH_NR_TESTS || !server_fns[m->test] || !batch_ok(m) ||
	    m->mode > (m->test == IVSHM_BENCH_WAKE ? IVSHM_BENCH_WAKE_SPIN : IVSHM_WAIT_HYBRID) ||
	    m->msg_bytes < 8 || m->msg_bytes > IVSHM_BENCH_MAX_MSG || m->port <= IVSHM_BENCH_CTL_PORT ||
	    !m->count || m->count > IVSHM_BENCH_MAX_COUNT || m->ring < 4096 || m->ring > (1u << 30) ||
	    (m->ring & (m->ring - 1)) || m->spin_us > IVSHM_BENCH_MAX_SPIN_US)
		return -EBADMSG;
	*s = (struct bench_spec){
		.test = (enum ivshm_bench_test)m->test,
		.mode = m->mode,
		.msg_bytes = m->msg_bytes,
		.port = m->port,
		.ring = m->ring,
		.spin_us = m->spin_us,
		.batch = m->batch,
		.count = m->count,
	};
	return 0;
}

static int serve(struct bench_conn *c)
{
	struct ivshm_chan_opts copts = { .type = IVSHM_CHAN_PACKET, .vector = IVSHM_BENCH_VECTOR };
	struct ivshm_chan_info info;
	struct ivshm_bench_ctl m, done;
	struct bench_spec s;
	unsigned int served = 0, failed = 0, tcp_port = 0;
	int err;

	if (app_publish(c->dev, IVSHM_BENCH_SERVER_ROLE, IVSHM_BENCH_VECTOR, 0))
		return EXIT_FAIL;
	if (c->o->tcp && bench_tcp_listen(c->o->tcp, &c->lfd, &tcp_port))
		return EXIT_FAIL;
	if (c->o->unix_path && bench_unix_listen(c->o->unix_path, &c->ulfd))
		return EXIT_FAIL;
	/* The port, for a client that must learn it (--tcp-listen 0). */
	printf("bench serving");
	if (c->o->tcp)
		printf(" tcp=%u", tcp_port);
	if (c->o->unix_path)
		printf(" unix=%s", c->o->unix_path);
	printf("\n");
	fflush(stdout);
	err = ivshm_chan_accept(c->dev, IVSHM_BENCH_CTL_PORT, &copts, IDLE_MS, &c->ctl);
	if (err) {
		app_err(err, "no client opened the control channel");
		return EXIT_FAIL;
	}
	ivshm_chan_get_info(c->ctl, &info);
	c->peer = info.peer;
	for (;;) {
		err = ctl_recv(c, 0, &m, IDLE_MS);
		if (err || m.op == IVSHM_BENCH_OP_QUIT)
			break;
		if (m.op != IVSHM_BENCH_OP_START || spec_of(&m, &s)) {
			ivshm_msg_err("control channel: a malformed START");
			err = -EBADMSG;
			break;
		}
		memset(&done, 0, sizeof(done));
		done.op = IVSHM_BENCH_OP_DONE;
		done.status = server_fns[s.test](c, &s, &done);
		if (c->ctl_err)
			break;
		err = ctl_send(c, &done);
		if (err)
			break;
		served++;
		failed += done.status != 0;
	}
	printf("bench served=%u failed=%u result=%s\n", served, failed, err_name(err));
	return err || failed ? EXIT_FAIL : 0;
}

static void print_us(const char *key, int have, int64_t ns)
{
	/* A one-way time may come out a few ns below zero: the clocks align within that. */
	if (have)
		printf(" %s=%s%lld.%03lld", key, ns < 0 ? "-" : "", llabs(ns) / 1000, llabs(ns) % 1000);
	else
		printf(" %s=", key);
}

static void print_result(const struct bench_spec *s, const struct bench_result *r, int err)
{
	static const char *const tests[] = {
		[IVSHM_BENCH_RTT_CHAN] = "rtt ivshm", [IVSHM_BENCH_RTT_TCP] = "rtt tcp",
		[IVSHM_BENCH_RTT_LINE] = "rtt cacheline", [IVSHM_BENCH_STREAM_CHAN] = "stream ivshm",
		[IVSHM_BENCH_STREAM_TCP] = "stream tcp", [IVSHM_BENCH_STREAM_MEMCPY] = "stream memcpy",
		[IVSHM_BENCH_WAKE] = "wake doorbell", [IVSHM_BENCH_STREAM_BATCH] = "stream ivshm",
		[IVSHM_BENCH_RTT_UNIX] = "rtt unix", [IVSHM_BENCH_STREAM_UNIX] = "stream unix",
	};
	static const char *const wakes[] = { "sleep", "spin" };
	const char *t = tests[s->test], *mode = "-";
	int len = (int)strcspn(t, " ");

	if (s->test == IVSHM_BENCH_RTT_CHAN || s->test == IVSHM_BENCH_STREAM_CHAN)
		mode = wait_names[s->mode];
	else if (s->test == IVSHM_BENCH_STREAM_BATCH)
		mode = "batch";
	else if (s->test == IVSHM_BENCH_WAKE)
		mode = wakes[s->mode];
	printf("bench test=%.*s transport=%s mode=%s msg_bytes=%u count=%llu", len, t, t + len + 1,
	       mode, s->test == IVSHM_BENCH_WAKE ? 0 : s->msg_bytes, (unsigned long long)r->count);
	print_us("p50_us", r->have_lat, r->lat.p50);
	print_us("p99_us", r->have_lat, r->lat.p99);
	print_us("p999_us", r->have_lat, r->lat.p999);
	print_us("max_us", r->have_lat, r->lat.max);
	if (r->mib_per_s >= 0)
		printf(" mib_per_s=%.1f", r->mib_per_s);
	else
		printf(" mib_per_s=");
	if (s->test == IVSHM_BENCH_RTT_CHAN || s->test == IVSHM_BENCH_STREAM_CHAN ||
	    s->test == IVSHM_BENCH_STREAM_BATCH)
		printf(" ring_bytes=%u", s->ring);
	else
		printf(" ring_bytes=");
	if (s->test == IVSHM_BENCH_STREAM_BATCH)
		printf(" batch=%u wait=%s", s->batch, wait_names[s->mode]);
	if (s->test == IVSHM_BENCH_WAKE)
		print_us("doorbell_us", r->have_lat, r->extra_ns);
	printf(" doorbells=%llu sleeps=%llu peer_doorbells=%llu peer_sleeps=%llu result=%s\n",
	       (unsigned long long)r->doorbells, (unsigned long long)r->sleeps,
	       (unsigned long long)r->peer_doorbells, (unsigned long long)r->peer_sleeps,
	       err_name(err));
}

/* One test with the server. Returns the test's error; c->ctl_err says whether to go on. */
static int run_one(struct bench_conn *c, const struct bench_spec *s, struct bench_result *r)
{
	struct ivshm_bench_ctl m = {
		.op = IVSHM_BENCH_OP_START, .test = s->test, .mode = s->mode, .msg_bytes = s->msg_bytes,
		.port = s->port, .ring = s->ring, .spin_us = s->spin_us, .batch = s->batch,
		.count = s->count,
	}, done;
	int err;

	if (ctl_send(c, &m) || ctl_recv(c, IVSHM_BENCH_OP_READY, &m, c->o->timeout_ms))
		return c->ctl_err;
	memset(&done, 0, sizeof(done));
	err = client_fns[s->test](c, s, r, &done);
	r->peer_doorbells = done.doorbells;
	r->peer_sleeps = done.sleeps;
	return err ? err : done.status;
}

/* A packet ring for round trips of @msg bytes: the library's default, or twice the record. */
static uint32_t rtt_ring(uint32_t msg)
{
	uint32_t ring = 16384;

	while (ring / 2 - 8 < msg)
		ring *= 2;
	return ring;
}

/* The message sizes of @test. */
static const struct sizes *sizes_of(enum ivshm_bench_test test, const struct client_opts *co)
{
	static const struct sizes one = { .v = { 64 }, .n = 1 };

	switch (test) {
	case IVSHM_BENCH_RTT_LINE:
	case IVSHM_BENCH_WAKE:
		return &one;
	case IVSHM_BENCH_RTT_CHAN:
	case IVSHM_BENCH_RTT_TCP:
	case IVSHM_BENCH_RTT_UNIX:
		return &co->rtt;
	default:
		return &co->stream;
	}
}

static int is_stream(enum ivshm_bench_test test)
{
	return test == IVSHM_BENCH_STREAM_MEMCPY || test == IVSHM_BENCH_STREAM_CHAN ||
	       test == IVSHM_BENCH_STREAM_BATCH || test == IVSHM_BENCH_STREAM_TCP ||
	       test == IVSHM_BENCH_STREAM_UNIX;
}

/* Test @t with messages of @msg_bytes on port *@port (then the next). Returns 1 if it failed. */
static unsigned int run_test(struct bench_conn *c, const struct test_name *t, uint32_t msg_bytes,
			     uint32_t *port)
{
	const struct bench_opts *o = c->o;
	struct bench_result r = { .mib_per_s = -1 };
	struct bench_spec s = {
		.test = t->test, .mode = t->mode, .port = (*port)++, .msg_bytes = msg_bytes,
		.ring = o->ring, .spin_us = o->spin_us,
		.count = t->test == IVSHM_BENCH_RTT_LINE ? o->line_rounds :
			 t->test == IVSHM_BENCH_WAKE ? o->wake_rounds : o->rounds,
	};
	int err;

	if (t->test == IVSHM_BENCH_RTT_CHAN)
		s.ring = rtt_ring(s.msg_bytes);
	if (t->test == IVSHM_BENCH_STREAM_BATCH) {
		/* A packet of at most half the ring (the channel's default max_msg). */
		if (s.msg_bytes > MAX_BATCH_MSG || s.msg_bytes > s.ring / 2 - 8)
			return 0;
		s.mode = o->batch_wait;
		s.batch = o->batch;
		if ((uint64_t)s.batch * s.msg_bytes > IVSHM_BENCH_MAX_BATCH_BYTES)
			s.batch = IVSHM_BENCH_MAX_BATCH_BYTES / s.msg_bytes;
	}
	if (t->test == IVSHM_BENCH_STREAM_MEMCPY)
		err = bench_memcpy(c, &s, &r);
	else
		err = run_one(c, &s, &r);
	print_result(&s, &r, err);
	return err != 0;
}

static int run(struct bench_conn *c, const struct client_opts *co)
{
	struct ivshm_chan_opts copts = { .type = IVSHM_CHAN_PACKET, .vector = IVSHM_BENCH_VECTOR };
	const struct bench_opts *o = c->o;
	struct ivshm_chan_info info;
	struct ivshm_bench_ctl quit = { .op = IVSHM_BENCH_OP_QUIT };
	struct ivshm_peer p;
	unsigned int i, j, k, failed = 0;
	uint32_t port = IVSHM_BENCH_CTL_PORT + 1;
	int err, streams_done = 0;

	if (app_publish(c->dev, IVSHM_BENCH_CLIENT_ROLE, IVSHM_BENCH_VECTOR, 0))
		return EXIT_FAIL;
	err = ivshm_find_peer(c->dev, IVSHM_BENCH_SERVER_ROLE, o->timeout_ms, &p);
	if (!err)
		err = ivshm_chan_open(c->dev, p.id, IVSHM_BENCH_CTL_PORT, &copts, o->timeout_ms,
				      &c->ctl);
	if (err) {
		app_err(err, "no control channel to %s", IVSHM_BENCH_SERVER_ROLE);
		return EXIT_FAIL;
	}
	ivshm_chan_get_info(c->ctl, &info);
	c->peer = info.peer;
	for (i = 0; i < NR_NAMES && !c->ctl_err; i++) {
		const struct sizes *sz = sizes_of(test_names[i].test, co);

		if (!co->selected[i] || (is_stream(test_names[i].test) && streams_done))
			continue;
		if (!is_stream(test_names[i].test)) {
			for (k = 0; k < sz->n && !c->ctl_err; k++)
				failed += run_test(c, &test_names[i], sz->v[k], &port);
			continue;
		}
		/*
		 * The streams size by size: the rows a ratio compares (a mode and
		 * another, batches and the best mode) run back to back, closer in time
		 * than the machine's other load changes.
		 */
		for (k = 0; k < sz->n && !c->ctl_err; k++)
			for (j = i; j < NR_NAMES && !c->ctl_err; j++)
				if (co->selected[j] && is_stream(test_names[j].test))
					failed += run_test(c, &test_names[j], sz->v[k], &port);
		streams_done = 1;
	}
	if (!c->ctl_err)
		ctl_send(c, &quit);
	return failed || c->ctl_err ? EXIT_FAIL : 0;
}

/* The option a socket test needs and the client lacks, or NULL. */
static const char *needed_option(enum ivshm_bench_test test, const struct bench_opts *o)
{
	if ((test == IVSHM_BENCH_RTT_TCP || test == IVSHM_BENCH_STREAM_TCP) && !o->tcp)
		return "--tcp-connect";
	if ((test == IVSHM_BENCH_RTT_UNIX || test == IVSHM_BENCH_STREAM_UNIX) && !o->unix_path)
		return "--unix-connect";
	return NULL;
}

static int parse_tests(const char *list, struct client_opts *co)
{
	char buf[512], *save = NULL, *name;
	unsigned int i;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	memset(co->selected, 0, sizeof(co->selected));
	for (name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_NAMES && strcmp(name, test_names[i].name); i++)
			;
		if (i == NR_NAMES) {
			ivshm_msg_err("--tests: no test named %s", name);
			return -1;
		}
		co->selected[i] = 1;
	}
	return 0;
}

static int parse_sizes(const char *opt, const char *list, uint32_t max, struct sizes *sz)
{
	char buf[256], *save = NULL, *tok;
	uint64_t v;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	sz->n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (sz->n == MAX_SIZES) {
			ivshm_msg_err("%s: at most %d sizes", opt, MAX_SIZES);
			return -1;
		}
		if (app_parse_opt(opt, tok, max, &v))
			return -1;
		if (v < 8) {
			ivshm_msg_err("%s: %s is below 8", opt, tok);
			return -1;
		}
		sz->v[sz->n++] = (uint32_t)v;
	}
	return sz->n ? 0 : -1;
}

int main(int argc, char **argv)
{
	enum { OPT_LISTEN = 256, OPT_CONNECT, OPT_UNIX_LISTEN, OPT_UNIX_CONNECT, OPT_TESTS,
	       OPT_SIZES, OPT_ROUNDS, OPT_LINE, OPT_WAKE, OPT_RTT_SIZES, OPT_STREAM_MS, OPT_MAX_MS,
	       OPT_RING, OPT_SPIN, OPT_BATCH, OPT_BATCH_WAIT };
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "host", required_argument, NULL, 'H' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "unsealed", no_argument, NULL, 'U' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tcp-listen", required_argument, NULL, OPT_LISTEN },
		{ "tcp-connect", required_argument, NULL, OPT_CONNECT },
		{ "unix-listen", required_argument, NULL, OPT_UNIX_LISTEN },
		{ "unix-connect", required_argument, NULL, OPT_UNIX_CONNECT },
		{ "tests", required_argument, NULL, OPT_TESTS },
		{ "sizes", required_argument, NULL, OPT_SIZES },
		{ "rounds", required_argument, NULL, OPT_ROUNDS },
		{ "line-rounds", required_argument, NULL, OPT_LINE },
		{ "wake-rounds", required_argument, NULL, OPT_WAKE },
		{ "rtt-sizes", required_argument, NULL, OPT_RTT_SIZES },
		{ "stream-ms", required_argument, NULL, OPT_STREAM_MS },
		{ "max-ms", required_argument, NULL, OPT_MAX_MS },
		{ "ring", required_argument, NULL, OPT_RING },
		{ "spin-us", required_argument, NULL, OPT_SPIN },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "batch-wait", required_argument, NULL, OPT_BATCH_WAIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = {
		.vectors = 4, .timeout_ms = 10000, .rounds = 10000, .line_rounds = 100000,
		.wake_rounds = 500, .ring = 2u << 20, .stream_ms = 1000, .max_ms = 10000,
		.batch = 32, .batch_wait = IVSHM_WAIT_HYBRID,
	};
	struct client_opts co = {
		.rtt = { .v = { 64 }, .n = 1 },
		.stream = { .v = { 64, 4096, 65536, IVSHM_BENCH_MAX_MSG }, .n = 4 },
	};
	struct bench_conn c = { .lfd = -1, .ulfd = -1, .o = &o };
	const char *cmd, *tests = NULL;
	int ch, ret, listen = 0, unix_listen = 0;
	unsigned int i;
	uint64_t v;

	ivshm_msg_init("ivshm-bench");
	app_log_init();
	while ((ch = getopt_long(argc, argv, "d:H:n:t:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o.device = optarg; break;
		case 'H': o.host = optarg; break;
		case OPT_LISTEN: o.tcp = optarg; listen = 1; break;
		case OPT_CONNECT: o.tcp = optarg; listen = 0; break;
		case OPT_UNIX_LISTEN: o.unix_path = optarg; unix_listen = 1; break;
		case OPT_UNIX_CONNECT: o.unix_path = optarg; unix_listen = 0; break;
		case OPT_TESTS: tests = optarg; break;
		case 'n':
			if (app_parse_opt("--vectors", optarg, IVSHM_MAX_VECTORS, &v))
				return EXIT_USAGE;
			o.vectors = (unsigned int)v;
			break;
		case 'U':
			o.open_flags = IVSHM_OPEN_UNSEALED;
			break;
		case 't':
			if (app_parse_opt("--timeout", optarg, INT32_MAX / 3, &v) || !v)
				return EXIT_USAGE;
			o.timeout_ms = (int)v;
			break;
		case OPT_SIZES:
			if (parse_sizes("--sizes", optarg, IVSHM_BENCH_MAX_MSG, &co.stream))
				return EXIT_USAGE;
			break;
		case OPT_RTT_SIZES:
			if (parse_sizes("--rtt-sizes", optarg, MAX_RTT_MSG, &co.rtt))
				return EXIT_USAGE;
			break;
		case OPT_ROUNDS:
		case OPT_LINE:
		case OPT_WAKE:
			if (app_parse_opt("--rounds", optarg, IVSHM_BENCH_MAX_COUNT, &v) || v < 10) {
				ivshm_msg_err("rounds: 10..%u", IVSHM_BENCH_MAX_COUNT);
				return EXIT_USAGE;
			}
			*(ch == OPT_ROUNDS ? &o.rounds : ch == OPT_LINE ? &o.line_rounds :
					     &o.wake_rounds) = v;
			break;
		case OPT_STREAM_MS:
		case OPT_MAX_MS:
			if (app_parse_opt(ch == OPT_MAX_MS ? "--max-ms" : "--stream-ms", optarg, 600000,
					  &v) || !v)
				return EXIT_USAGE;
			*(ch == OPT_MAX_MS ? &o.max_ms : &o.stream_ms) = (unsigned int)v;
			break;
		case OPT_RING:
			if (app_parse_opt("--ring", optarg, 1u << 30, &v) || v < 4096 || (v & (v - 1))) {
				ivshm_msg_err("--ring: a power of two, 4096 or more");
				return EXIT_USAGE;
			}
			o.ring = (uint32_t)v;
			break;
		case OPT_SPIN:
			if (app_parse_opt("--spin-us", optarg, IVSHM_BENCH_MAX_SPIN_US, &v))
				return EXIT_USAGE;
			o.spin_us = (uint32_t)v;
			break;
		case OPT_BATCH:
			if (app_parse_opt("--batch", optarg, IVSHM_BENCH_MAX_BATCH, &v) || !v)
				return EXIT_USAGE;
			o.batch = (uint32_t)v;
			break;
		case OPT_BATCH_WAIT:
			for (v = 0; v < 3 && strcmp(optarg, wait_names[v]); v++)
				;
			if (v == 3) {
				ivshm_msg_err("--batch-wait: interrupt, poll or hybrid");
				return EXIT_USAGE;
			}
			o.batch_wait = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "serve") == 0) {
		if ((o.tcp && !listen) || (o.unix_path && !unix_listen)) {
			ivshm_msg_err("serve takes --tcp-listen [IP:]PORT and --unix-listen PATH");
			return EXIT_USAGE;
		}
	} else if (strcmp(cmd, "run") == 0) {
		char host[64];
		uint16_t port;

		if ((o.tcp && (listen || parse_host_port(o.tcp, host, sizeof(host), &port))) ||
		    (o.unix_path && unix_listen)) {
			ivshm_msg_err("run takes --tcp-connect IPv4:PORT and --unix-connect PATH");
			return EXIT_USAGE;
		}
		for (i = 0; i < NR_NAMES; i++)
			co.selected[i] = 1;
		if (tests && parse_tests(tests, &co))
			return EXIT_USAGE;
		for (i = 0; i < NR_NAMES; i++) {
			const char *needs = needed_option(test_names[i].test, &o);

			if (co.selected[i] && needs) {
				if (tests) {
					ivshm_msg_err("%s needs %s", test_names[i].name, needs);
					return EXIT_USAGE;
				}
				co.selected[i] = 0;
			}
		}
	} else {
		ivshm_msg_err("unknown command '%s'", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (bench_clock_init()) {
		ivshm_msg_err("the clock does not advance");
		return EXIT_FAIL;
	}
	if (app_open_any(o.device, o.host, o.vectors, o.open_flags, &c.dev))
		return EXIT_FAIL;
	ret = strcmp(cmd, "serve") == 0 ? serve(&c) : run(&c, &co);
	ivshm_chan_close(c.ctl);
	if (c.lfd >= 0)
		close(c.lfd);
	if (c.ulfd >= 0) {
		close(c.ulfd);
		unlink(o.unix_path);
	}
	ivshm_close(c.dev);
	return ret;
}
