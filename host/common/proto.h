/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ivshmem server protocol (QEMU docs/specs/ivshmem-spec.rst), client side.
 *
 * Server to client only, over an AF_UNIX stream socket. Every message is one
 * little-endian int64, optionally carrying one fd in SCM_RIGHTS:
 *   0                     protocol version, no fd
 *   ID                    the client's own peer ID, no fd
 *   -1 + fd               the shared memory
 *   PEER + fd             one eventfd of PEER, in vector order (own ID: the
 *                         client's receive side); N of them per peer
 *   PEER, no fd           PEER has left
 */
#ifndef IVSHM_HOST_PROTO_H
#define IVSHM_HOST_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define IVSHM_PROTO_VERSION     0
#define IVSHM_PROTO_SHM         (-1)
#define IVSHM_PROTO_MAX_ID      65535	/* QEMU rejects larger IDs */
#define IVSHM_PROTO_MAX_VECTORS 64	/* QEMU keeps 8 bits; libivshm serves 64 */
#define IVSHM_PROTO_MSG_SIZE    8

void ivshm_proto_encode(int64_t value, unsigned char out[IVSHM_PROTO_MSG_SIZE]);
int64_t ivshm_proto_decode(const unsigned char in[IVSHM_PROTO_MSG_SIZE]);

/*
 * Reassembles messages from a (possibly non-blocking) stream socket, reading
 * at most one message per recvmsg() so an fd is never attributed to the wrong
 * message. Embed it and call ivshm_proto_reader_init() first.
 */
struct ivshm_proto_reader {
	unsigned char buf[IVSHM_PROTO_MSG_SIZE];
	size_t have;
	int fd;
};

void ivshm_proto_reader_init(struct ivshm_proto_reader *r);

/* Closes an fd held for a partial message. */
void ivshm_proto_reader_reset(struct ivshm_proto_reader *r);

/*
 * Read the next message from sock.
 * Returns 1 with *value and *fd set (*fd is -1 when the message carried none;
 * otherwise the caller owns it, close-on-exec), 0 on end of stream at a
 * message boundary, -EAGAIN when no complete message is available yet,
 * -EPROTO on end of stream inside a message, a truncated or foreign control
 * message or a second fd for one message, or another negative errno from
 * recvmsg().
 */
int ivshm_proto_read(struct ivshm_proto_reader *r, int sock, int64_t *value, int *fd);

#endif
