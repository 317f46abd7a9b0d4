/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client side of the doorbell-server protocol in one place: a connection
 * (non-blocking, never a blocking read), the framing (proto.c) and the
 * session (session.c), handing out one event at a time. ivshm-peer, libivshm's
 * host backend and the load generators all talk to the server through it.
 */
#ifndef IVSHM_COMMON_PUMP_H
#define IVSHM_COMMON_PUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "session.h"

struct ivshm_pump {
	int sock;			/* non-blocking; -1 once closed */
	struct ivshm_proto_reader rd;
	struct ivshm_session *sess;
	int64_t value;			/* the last message, for tracing and errors */
	bool with_fd;
	bool refused;			/* it was whole, and the session refused it */
	const char *error;		/* why the last ivshm_pump_next() failed */
};

/*
 * Connect to the server at path and start a session (see ivshm_session_new()
 * for vectors and keep_fds). Returns 0, or a negative errno (-ENAMETOOLONG,
 * connect()'s, -ENOMEM); p then holds nothing.
 */
int ivshm_pump_open(struct ivshm_pump *p, const char *path, unsigned vectors, bool keep_fds);

/* Close the connection and free the session (and every fd it holds). Idempotent. */
void ivshm_pump_close(struct ivshm_pump *p);

/*
 * The next event, from what the socket already holds; never blocks.
 * Returns 1 with *ev filled, 0 when no whole message is waiting,
 * -EPIPE when the server closed the connection (at a message boundary),
 * -EPROTO when the stream or the message sequence breaks the protocol,
 * or recvmsg()'s negative errno; ivshm_pump_error() says why. After an
 * error the pump only closes.
 */
int ivshm_pump_next(struct ivshm_pump *p, struct ivshm_event *ev);

/* Why the last ivshm_pump_next() failed; a static string. */
const char *ivshm_pump_error(const struct ivshm_pump *p);

/*
 * Wait until the socket has something (a message, or the server's hang-up)
 * or deadline_ms (ivshm_clock_ms()) passes. Returns 1, 0 at the deadline,
 * or a negative errno from poll().
 */
int ivshm_pump_poll(const struct ivshm_pump *p, int64_t deadline_ms);

/*
 * Read events until the setup is complete, handing each to fn (NULL: none)
 * first; fn returns 0 to go on or a negative errno to stop with it.
 * Returns 0, -ETIMEDOUT at deadline_ms, -ECONNRESET when the server hung up
 * during the setup, fn's error, or ivshm_pump_next()'s.
 */
int ivshm_pump_setup(struct ivshm_pump *p, int64_t deadline_ms,
		     int (*fn)(void *arg, const struct ivshm_event *ev), void *arg);

#endif
