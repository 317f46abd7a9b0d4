/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Framing of the doorbell-server protocol (contracts/ivshmem-server.h):
 * encoding one message and reassembling messages, with their fds, from a
 * stream socket.
 */
#ifndef IVSHM_COMMON_PROTO_H
#define IVSHM_COMMON_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ivshmem-server.h"

void ivshm_proto_encode(int64_t value, unsigned char out[IVSHMEM_SERVER_MSG_SIZE]);
int64_t ivshm_proto_decode(const unsigned char in[IVSHMEM_SERVER_MSG_SIZE]);

/*
 * Reassembles messages from a (possibly non-blocking) stream socket, reading
 * at most one message per recvmsg() so an fd is never attributed to the wrong
 * message. Embed it and call ivshm_proto_reader_init() first.
 */
struct ivshm_proto_reader {
	unsigned char buf[IVSHMEM_SERVER_MSG_SIZE];
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
