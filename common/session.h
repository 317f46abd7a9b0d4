/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client-side state of one connection to an ivshmem server: validates the
 * message sequence the way QEMU's ivshmem device does and turns it into
 * events. It does no I/O; feed it what ivshm_proto_read() returns.
 */
#ifndef IVSHM_COMMON_SESSION_H
#define IVSHM_COMMON_SESSION_H

#include <stdbool.h>
#include <stdint.h>

struct ivshm_session;

enum ivshm_event_type {
	IVSHM_EV_VERSION,	/* value: protocol version */
	IVSHM_EV_ID,		/* peer: own ID */
	IVSHM_EV_SHM,		/* the shared memory fd arrived */
	IVSHM_EV_VECTOR,	/* peer's eventfd number `vector` arrived */
	IVSHM_EV_LEAVE,		/* peer left */
};

struct ivshm_event {
	enum ivshm_event_type type;
	int64_t value;
	unsigned peer;
	unsigned vector;
	/*
	 * IVSHM_EV_VECTOR only: the peer now has all its vectors. For the own ID
	 * this ends the setup (ivshm_session_ready() turns true); for another
	 * peer after the setup it is that peer joining.
	 */
	bool complete;
};

/* ivshm_session_new()'s vectors for a client that learns the count from the server. */
#define IVSHM_SESSION_ANY_VECTORS (~0u)

/*
 * vectors: eventfds the server sends per peer (QEMU's vectors=N, 0 to 64);
 * the setup is complete once N own eventfds arrived, or with 0 vectors once
 * the memory did (the server then announces departures of peers whose
 * joins it never told). IVSHM_SESSION_ANY_VECTORS: not known yet; the
 * session learns it from the first complete group of another peer in the
 * setup (the next peer's first eventfd ends it), or the client tells it
 * (ivshm_session_set_vectors()); until then no setup is complete.
 * keep_fds: store eventfds for ivshm_session_peer_fd(); otherwise they are
 * closed on arrival.
 * Returns 0 and a new session in *out, -EINVAL or -ENOMEM.
 */
int ivshm_session_new(unsigned vectors, bool keep_fds, struct ivshm_session **out);

/*
 * Fix the vector count of a session made with IVSHM_SESSION_ANY_VECTORS, from
 * what the client knows (the server told it elsewhere, or no more own
 * eventfds came). The setup completes at once if our own group is whole.
 * Returns 0, -EALREADY (the count is known: ivshm_session_vectors() says
 * which) or -EPROTO (a peer already holds more eventfds; the session must be
 * freed).
 */
int ivshm_session_set_vectors(struct ivshm_session *s, unsigned vectors);

/* Whether the vector count is known (always, unless made with IVSHM_SESSION_ANY_VECTORS). */
bool ivshm_session_vectors_known(const struct ivshm_session *s);

/* Closes every fd the session holds. Accepts NULL. */
void ivshm_session_free(struct ivshm_session *s);

/*
 * Account one message. The session takes ownership of fd (-1 for none) in
 * every case, also on error. Returns 0 with *ev filled, or -EPROTO when the
 * message breaks the protocol (ivshm_session_error() says how); after an
 * error the session must be freed.
 */
int ivshm_session_feed(struct ivshm_session *s, int64_t value, int fd, struct ivshm_event *ev);

/* Why the last ivshm_session_feed() failed; a static string. */
const char *ivshm_session_error(const struct ivshm_session *s);

bool ivshm_session_ready(const struct ivshm_session *s);

/* Own ID, or -1 before it arrived. */
int ivshm_session_id(const struct ivshm_session *s);

/* The shared memory fd (still owned by the session), or -1. */
int ivshm_session_shm_fd(const struct ivshm_session *s);

/* The vector count; 0 while not known. */
unsigned ivshm_session_vectors(const struct ivshm_session *s);

/* Whether peer has all its eventfds (a peer in the server's world, seen joined, not left). */
bool ivshm_session_peer_present(const struct ivshm_session *s, unsigned peer);

/* Number of eventfds received so far for peer (0 for unknown peers). */
unsigned ivshm_session_peer_vectors(const struct ivshm_session *s, unsigned peer);

/* One past the highest peer ID ever seen; bound for iterating peers. */
unsigned ivshm_session_peer_limit(const struct ivshm_session *s);

/*
 * The eventfd of peer's vector, still owned by the session (keep_fds only).
 * Returns the fd, or -ENOENT when the session holds none.
 */
int ivshm_session_peer_fd(const struct ivshm_session *s, unsigned peer, unsigned vector);

#endif
