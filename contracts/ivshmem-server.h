/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ivshmem doorbell-server protocol (QEMU docs/specs/ivshmem-spec.rst):
 * what ivshmd sends and what QEMU's ivshmem-doorbell device, ivshm-peer and
 * libivshm's host peers expect. Spoken by common/proto.c (framing) and
 * common/session.c (the client's view of the sequence).
 *
 * Server to client only, over an AF_UNIX stream socket. Every message is one
 * little-endian int64, optionally carrying one fd in SCM_RIGHTS:
 *   0                     protocol version, no fd
 *   ID                    the client's own peer ID, no fd
 *   -1 + fd               the shared memory
 *   PEER + fd             one eventfd of PEER, in vector order (own ID: the
 *                         client's receive side); N of them per peer
 *   PEER, no fd           PEER has left
 * On connect a client gets: version; own ID; the shared memory; every existing
 * peer's N eventfds; its own N eventfds (the last one ends the setup). Every
 * existing peer then gets the newcomer's N eventfds. Ringing a peer's vector
 * is writing the uint64 1 to that peer's eventfd.
 */
#ifndef IVSHMEM_SERVER_H
#define IVSHMEM_SERVER_H

#include "uio_ivshmem.h"

#define IVSHMEM_SERVER_PROTO_VERSION 0
#define IVSHMEM_SERVER_MSG_SHM       (-1)	/* value of the shared-memory message */
#define IVSHMEM_SERVER_MSG_SIZE      8		/* bytes per message */

#endif /* IVSHMEM_SERVER_H */
