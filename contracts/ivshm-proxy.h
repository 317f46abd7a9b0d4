/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ivshm-proxy protocol, version 1.0: what two proxies say to each other
 * to carry many socket connections over one libivshm channel. Both ends are
 * hostile input to each other; every rule below says what a receiver checks.
 *
 * Link. Two proxies (peers publishing roles "proxy-NAME") share one packet
 * channel on port IVSHM_PROXY_PORT, opened by whichever needs it first and
 * accepted by the other. Each ring record of that channel holds one or more
 * whole frames, back to back: a 16-byte header, then len payload bytes. A
 * frame never spans records. The first frame each side sends is HELLO; a
 * link whose first frame is anything else, or whose major version differs,
 * is closed. The link ends with the channel (a peer that closes, dies or
 * restarts): every connection on it is then reset.
 *
 * Connections. The peer that opens a connection names it: the peer with the
 * lower libivshm peer ID uses even IDs, the other odd ones, from 2 up, so
 * the two never collide: index = id / 2 - 1, below the max_conns the other
 * side announced in its HELLO. An ID is reused only after each side sent its
 * final frame for it (RESET or CLOSE; REFUSE for an OPEN) and received the
 * other's: frames of one direction arrive in order, so an old connection's
 * frames never reach a new one of the same ID.
 *
 *   opener                      acceptor
 *   OPEN(id, service, buf)  ->               the acceptor connects its target
 *                           <-  ACCEPT(id, buf) or REFUSE(id, reason) [final]
 *   DATA / CREDIT / SHUTDOWN  <->  both ways
 *   CLOSE [final]           <->  once both sent SHUTDOWN and delivered all
 *   RESET [final]           <->  abort, any time; answered by RESET
 *
 * Flow control, per connection and direction (virtio-vsock's model): each
 * side announces buf_alloc, the bytes it can hold for the connection (OPEN,
 * ACCEPT), and reports fwd_cnt, the bytes it has delivered to its socket
 * (CREDIT, and the arg of every DATA and SHUTDOWN), as a free-running 32-bit
 * count. A sender may have at most buf_alloc - (tx_cnt - fwd_cnt) bytes in
 * flight, tx_cnt being its own count of bytes sent. A receiver that would hold
 * more than buf_alloc, or a fwd_cnt that goes backwards or past what was sent,
 * breaks the connection: it is reset. On seqpacket connections each message
 * counts IVSHM_PROXY_MSG_COST bytes more than its length (the receiver keeps
 * its boundary), and one message is one DATA frame.
 *
 * Violations. A frame that lies about its length ends the parse of its record
 * (the rest is dropped); a frame for an ID that does not exist, a duplicate
 * OPEN, a frame not allowed in the connection's state, or a credit violation
 * is counted and logged (rate-limited) and resets that connection only; a
 * RESET or CLOSE for an unknown ID is ignored (it crossed our own final frame).
 * Nothing a peer sends makes a proxy connect anywhere but its configured
 * targets: an OPEN names a service, never an address.
 *
 * All integers are little-endian.
 */
#ifndef IVSHM_PROXY_H
#define IVSHM_PROXY_H

#include <stdint.h>

#define IVSHM_PROXY_MAJOR 1	/* a receiver refuses another major */
#define IVSHM_PROXY_MINOR 0	/* a newer minor only adds: longer HELLO, new flags */

#define IVSHM_PROXY_PORT        0x70727879u	/* the channel's port, "prxy" */
#define IVSHM_PROXY_ROLE_PREFIX "proxy-"	/* a proxy publishes "proxy-" NAME */

/* A service name: 1..IVSHM_PROXY_SERVICE_MAX of [A-Za-z0-9._-], no NUL on the wire. */
#define IVSHM_PROXY_SERVICE_MAX 63u

/* buf_alloc a side may announce; outside these the frame is a violation. */
#define IVSHM_PROXY_BUF_MIN 4096u
#define IVSHM_PROXY_BUF_MAX (16u << 20)
/* max_conns a HELLO may announce. */
#define IVSHM_PROXY_CONNS_MAX 65536u
/* Credit a seqpacket message costs beyond its length. */
#define IVSHM_PROXY_MSG_COST 8u

enum ivshm_proxy_type {
	IVSHM_PROXY_HELLO = 1,	  /* id 0; arg MAJOR << 16 | MINOR; payload struct ivshm_proxy_hello */
	IVSHM_PROXY_OPEN = 2,	  /* arg buf_alloc; flags SEQPACKET; payload the service name */
	IVSHM_PROXY_ACCEPT = 3,	  /* arg buf_alloc; no payload */
	IVSHM_PROXY_REFUSE = 4,	  /* arg enum ivshm_proxy_refusal; no payload; final */
	IVSHM_PROXY_DATA = 5,	  /* arg fwd_cnt; 1..max_data payload bytes */
	IVSHM_PROXY_SHUTDOWN = 6, /* arg fwd_cnt; no payload: no more DATA from the sender */
	IVSHM_PROXY_CREDIT = 7,	  /* arg fwd_cnt; no payload */
	IVSHM_PROXY_RESET = 8,	  /* no payload; final: the connection is aborted */
	IVSHM_PROXY_CLOSE = 9,	  /* no payload; final: both directions ended cleanly */
};

/* OPEN flags: the socket kind, which both ends must use. */
#define IVSHM_PROXY_F_SEQPACKET (1u << 0)	/* message boundaries kept; else a byte stream */

enum ivshm_proxy_refusal {
	IVSHM_PROXY_NO_SERVICE = 1,	/* no service of that name */
	IVSHM_PROXY_DENIED = 2,		/* the opener's role may not use it */
	IVSHM_PROXY_UNREACHABLE = 3,	/* the target refused, or did not answer in time */
	IVSHM_PROXY_BUSY = 4,		/* a limit: connections, file descriptors, memory */
	IVSHM_PROXY_WRONG_KIND = 5,	/* stream against seqpacket */
	IVSHM_PROXY_BAD_OPEN = 6,	/* a malformed OPEN (name, buf_alloc, ID) */
};

struct ivshm_proxy_hdr {
	uint8_t type;		/* enum ivshm_proxy_type */
	uint8_t flags;		/* OPEN: IVSHM_PROXY_F_*; 0 elsewhere */
	uint16_t reserved;	/* 0, ignored */
	uint32_t conn;		/* the connection's ID; 0 for HELLO */
	uint32_t len;		/* payload bytes after the header */
	uint32_t arg;		/* as the type says */
};

/* HELLO's payload; a later minor may send more, which a receiver ignores. */
struct ivshm_proxy_hello {
	uint32_t max_conns;	/* connections the sender accepts from the receiver */
	uint32_t max_data;	/* the largest DATA payload the sender will send */
	uint32_t reserved[6];	/* 0, ignored */
};

_Static_assert(sizeof(struct ivshm_proxy_hdr) == 16, "frame header");
_Static_assert(sizeof(struct ivshm_proxy_hello) == 32, "hello");

#endif /* IVSHM_PROXY_H */
