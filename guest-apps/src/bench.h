/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshm-bench: what its files share. The control messages between the
 * client and the server (START, READY, DONE, QUIT) are a wire format:
 * contracts/ivshm-bench.h.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "ivshm-bench.h"
#include "stats.h"

/* What one test measured, for its result line. */
struct bench_result {
	uint64_t count;		/* rounds or messages */
	int have_lat;
	struct latency_stats lat;	/* ns */
	double mib_per_s;	/* < 0: not measured */
	uint64_t doorbells, sleeps, peer_doorbells, peer_sleeps;
	int64_t extra_ns;	/* wake: the doorbell write's own cost (p50) */
};

struct bench_opts {
	const char *device, *host;
	unsigned int vectors;
	unsigned int open_flags;	/* ivshm_open_server() flags: --unsealed */
	int timeout_ms;
	const char *tcp;	/* client: "A.B.C.D:PORT"; server: "[A.B.C.D:]PORT" */
	const char *unix_path;	/* the AF_UNIX socket: the client's to connect, the server's to make */
	uint64_t rounds, line_rounds, wake_rounds;
	uint32_t ring;		/* the client's stream ring */
	unsigned int stream_ms;	/* per stream test */
	unsigned int max_ms;	/* per round-trip test over a channel or TCP */
	uint32_t spin_us;	/* hybrid channels' spin, 0: the library's default */
	uint32_t batch;		/* messages per batch of stream-batch */
	uint32_t batch_wait;	/* stream-batch's wait mode (enum ivshm_wait_mode) */
};

/* A test both sides run, with its parameters (the START the client sends). */
struct bench_spec {
	enum ivshm_bench_test test;
	uint32_t mode, msg_bytes, port, ring, spin_us, batch;
	uint64_t count;
};

/* Both sides' connection: the device, the control channel, the peer. */
struct bench_conn {
	struct ivshm_dev *dev;
	struct ivshm_chan *ctl;
	unsigned int peer;
	int lfd;		/* server: the TCP listener, or -1 */
	int ulfd;		/* server: the AF_UNIX listener, or -1 */
	int ctl_err;		/* the control channel failed: no further test */
	uint64_t alive_at;	/* ticks of the next heartbeat (bench_alive()) */
	const struct bench_opts *o;
};

/* Clock: rdtsc where there is one (a guest's clock_gettime may be a slow HPET read). */
int bench_clock_init(void);
uint64_t bench_ticks(void);
int64_t bench_ticks_ns(int64_t ticks);
uint64_t bench_ns_ticks(int64_t ns);

/* Latency samples in ticks, summarized in ns. Returns 0 or -EINVAL. */
int bench_summarize(int64_t *ticks, size_t n, struct latency_stats *out);

/*
 * The @n round trips a test ran, in ticks, into @r: the first tenth warmed up
 * caches and branch predictors and is left out. Returns 0 or -EINVAL.
 */
int bench_rtt_result(int64_t *ticks, uint64_t n, struct bench_result *r);

/*
 * The tests. A client half runs the client's side and ends by taking the
 * server's DONE (bench_ctl_done()) into @done; a server half sends READY
 * (bench_ctl_ready()) once the peer may start, and fills @done. Both return
 * 0 or -errno.
 */
typedef int bench_client_fn(struct bench_conn *c, const struct bench_spec *s,
			    struct bench_result *r, struct ivshm_bench_ctl *done);
typedef int bench_server_fn(struct bench_conn *c, const struct bench_spec *s,
			    struct ivshm_bench_ctl *done);

/* bench-chan.c: channels; bench-mem.c: cache lines, doorbells; bench-sock.c: TCP, AF_UNIX. */
bench_client_fn bench_chan_rtt_client, bench_chan_stream_client, bench_chan_batch_client,
	bench_line_client, bench_wake_client, bench_sock_rtt_client, bench_sock_stream_client;
bench_server_fn bench_chan_rtt_server, bench_chan_stream_server, bench_chan_batch_server,
	bench_line_server, bench_wake_server, bench_sock_rtt_server, bench_sock_stream_server;

/* memcpy of @s->msg_bytes blocks through a buffer of @s->ring bytes, for the stream time. */
int bench_memcpy(struct bench_conn *c, const struct bench_spec *s, struct bench_result *r);

/*
 * The server's TCP and AF_UNIX listeners, made before it serves anything:
 * TCP on "[IPv4:]PORT" (PORT 0: any free one, *@port says which).
 * Return 0 or -errno.
 */
int bench_tcp_listen(const char *where, int *lfd, unsigned int *port);
int bench_unix_listen(const char *path, int *lfd);

/*
 * Control messages (ivshm-bench.c): READY and DONE from the server, DONE
 * taken by the client (it waits long enough for the server to give up on a
 * test first). Return 0, -EBADMSG for a malformed or unexpected message, or
 * the channel's error.
 */
int bench_ctl_ready(struct bench_conn *c);
/*
 * Keep our heartbeat going in loops that call nothing of libivshm (spins on
 * cache lines, TCP, memcpy): the peer would take us for dead after a second.
 * Cheap enough for every turn.
 */
void bench_alive(struct bench_conn *c);
int bench_ctl_done(struct bench_conn *c, struct ivshm_bench_ctl *done);

/*
 * The end of a stream test's client: after the sending ended with @err, take
 * the server's DONE (it has read everything then), check it read the @n
 * messages of @s sent since @t0, and fill the throughput of @r.
 * Returns 0, @err, the control error, or -EBADMSG when bytes went missing.
 */
int bench_stream_done(struct bench_conn *c, const struct bench_spec *s,
		      struct ivshm_bench_ctl *done, struct bench_result *r, uint64_t n, uint64_t t0,
		      int err);

/* The 8-byte sequence number at the start of every benchmark message. */
static inline uint64_t bench_seq_get(const void *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline void bench_seq_put(void *p, uint64_t v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}

#endif /* BENCH_H */
