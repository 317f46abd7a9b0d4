/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the example programs put in their arenas (contracts/ivshm-shm.h): the
 * contract between shm-server and shm-client, and between the two sides of
 * ivshm-pingpong. Each side finds the other in the peer directory by role.
 * A reader loads each field once, checks it and copies before use.
 */
#ifndef IVSHM_APPS_H
#define IVSHM_APPS_H

#include <stdint.h>

/*
 * The exchange. shm-server publishes IVSHM_EXCHANGE_ROLE, to be rung on its
 * vector, with this message at the start of its arena: the buffer it hands
 * the client. shm-client copies the server's text, writes its own text, then
 * len and from (release), then rings the server; the server reads from and
 * len once, checks them against what it knows (its own text capacity, its own
 * ID), then copies the text.
 */
#define IVSHM_EXCHANGE_ROLE  "shm-server"
#define IVSHM_EXCHANGE_MAGIC 0x58455649u	/* "IVEX" */
#define IVSHM_EXCHANGE_CAP   1024u		/* bytes of text[] */

struct ivshm_exchange_msg {
	uint32_t magic;			/* IVSHM_EXCHANGE_MAGIC, written by the server */
	uint32_t from;			/* peer ID of the last writer */
	uint32_t len;			/* bytes of text, no NUL, <= IVSHM_EXCHANGE_CAP */
	uint32_t reserved;
	char text[IVSHM_EXCHANGE_CAP];
};

/*
 * ivshm-pingpong. Each side publishes its role, to be rung on its vector
 * (ping with the round count as the directory's user word), and keeps one
 * cache line at the start of its own arena: the sequence number it last
 * sent (ping) or echoed (pong). One doorbell in flight per direction.
 */
#define IVSHM_PINGPONG_PING_ROLE "pingpong-ping"
#define IVSHM_PINGPONG_PONG_ROLE "pingpong-pong"

struct ivshm_pingpong_line {
	uint32_t seq;
	uint32_t pad[15];
};

_Static_assert(sizeof(struct ivshm_pingpong_line) == 64, "one cache line");

#endif /* IVSHM_APPS_H */
