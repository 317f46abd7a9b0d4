/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ivshm-pingpong: options shared by its transports. */
#ifndef IVSHM_PINGPONG_H
#define IVSHM_PINGPONG_H

#include <stdint.h>

#define PP_MAX_ROUNDS 10000000u

struct pp_opts {
	const char *device;
	uint32_t rounds;	/* ping only */
	int timeout_ms;		/* per wait: a lost doorbell ends the run */
	unsigned int vector;	/* vector this side is rung on */
	int check;		/* fail unless every doorbell arrived exactly once */
	const char *tcp;	/* "PORT" (pong) or "IP:PORT" (ping), or NULL */
};

/* Each returns the process exit status. */
int pp_doorbell_ping(const struct pp_opts *o);
int pp_doorbell_pong(const struct pp_opts *o);
int pp_tcp_ping(const struct pp_opts *o);
int pp_tcp_pong(const struct pp_opts *o);

/* Print the stable result line for @n round trips of @rtt_us (sorted in place). */
int pp_print_latency(const char *transport, int64_t *rtt_us, uint32_t n);

#endif /* IVSHM_PINGPONG_H */
