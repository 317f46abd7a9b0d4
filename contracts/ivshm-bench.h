/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ivshm-bench's control messages: the wire format between `ivshm-bench serve`
 * and `ivshm-bench run`, which may be two builds in two guests. The client
 * drives, the server follows: for each test the client sends a START on the
 * control channel (a packet channel on IVSHM_BENCH_CTL_PORT, rung on
 * IVSHM_BENCH_VECTOR), the server answers READY once its end is set up, both
 * run the test, and the server closes it with a DONE that carries what only
 * it measured. A QUIT ends the server. The data of a test goes on its own
 * port (a channel) or its own connection (TCP, AF_UNIX).
 *
 * Every field is host-endian (both sides run on the same host). A received
 * message is checked before use: its size, the magic, the op; a START's every
 * field against the limits below.
 */
#ifndef IVSHM_BENCH_H
#define IVSHM_BENCH_H

#include <stdint.h>

#define IVSHM_BENCH_SERVER_ROLE "bench-server"
#define IVSHM_BENCH_CLIENT_ROLE "bench-client"
#define IVSHM_BENCH_CTL_PORT    1u
#define IVSHM_BENCH_VECTOR      0u
#define IVSHM_BENCH_CTL_MAGIC   0x4e425649u	/* "IVBN" */

/* What a START may ask for. */
#define IVSHM_BENCH_MAX_MSG     (1u << 20)	/* bytes of one message */
#define IVSHM_BENCH_MAX_COUNT   10000000u	/* rounds */
#define IVSHM_BENCH_MAX_BATCH   1024u		/* messages of one batch */
#define IVSHM_BENCH_MAX_BATCH_BYTES (16u << 20)	/* bytes of one batch */
#define IVSHM_BENCH_MAX_SPIN_US 1000000u

/* The tests, by their number on the wire. */
enum ivshm_bench_test {
	IVSHM_BENCH_RTT_CHAN = 0,	/* ping-pong over a packet channel */
	IVSHM_BENCH_RTT_TCP = 1,	/* the same over TCP_NODELAY */
	IVSHM_BENCH_RTT_LINE = 2,	/* each side spins on the other's cache line: the floor */
	IVSHM_BENCH_STREAM_CHAN = 3,	/* a stream channel, one way, for a time */
	IVSHM_BENCH_STREAM_TCP = 4,	/* the same over TCP */
	IVSHM_BENCH_STREAM_MEMCPY = 5,	/* memcpy inside the client: the ceiling (never sent) */
	IVSHM_BENCH_WAKE = 6,		/* one doorbell, rung to time a wake-up */
	IVSHM_BENCH_STREAM_BATCH = 7,	/* packets one way, sent and received in batches */
	IVSHM_BENCH_RTT_UNIX = 8,	/* the ping-pong over AF_UNIX (host peers) */
	IVSHM_BENCH_STREAM_UNIX = 9,	/* the stream over AF_UNIX */
	IVSHM_BENCH_NR_TESTS
};

enum ivshm_bench_op {
	IVSHM_BENCH_OP_START = 1,
	IVSHM_BENCH_OP_READY = 2,
	IVSHM_BENCH_OP_DONE = 3,
	IVSHM_BENCH_OP_QUIT = 4,
};

/* The wake test's receiver (START's mode): asleep in poll(), or spinning on the counters. */
enum ivshm_bench_wake {
	IVSHM_BENCH_WAKE_SLEEP = 0,
	IVSHM_BENCH_WAKE_SPIN = 1,
};

/* One control message, both ways. */
struct ivshm_bench_ctl {
	uint32_t magic;		/* IVSHM_BENCH_CTL_MAGIC */
	uint32_t op;		/* enum ivshm_bench_op */
	uint32_t test;		/* START: enum ivshm_bench_test */
	uint32_t mode;		/* START: libivshm's ivshm_wait_mode, or ivshm_bench_wake */
	uint32_t msg_bytes;	/* START: 8..IVSHM_BENCH_MAX_MSG */
	uint32_t port;		/* START: the data channel's, above IVSHM_BENCH_CTL_PORT */
	uint32_t ring;		/* START: the client's ring bytes for the data channel */
	uint32_t spin_us;	/* START: hybrid spin, 0 for the library's default */
	int32_t status;		/* DONE: 0 or -errno of the server's side */
	uint32_t batch;		/* START: messages per batch (STREAM_BATCH), else 0 */
	uint64_t count;		/* START: rounds, including the warm-up */
	uint64_t bytes;		/* DONE: bytes the server received */
	uint64_t doorbells;	/* DONE: the server's channel statistics */
	uint64_t sleeps;
};
/* tests/080-bench-host.bats forges one of this size. */
_Static_assert(sizeof(struct ivshm_bench_ctl) == 72, "the control message's size");

#endif /* IVSHM_BENCH_H */
