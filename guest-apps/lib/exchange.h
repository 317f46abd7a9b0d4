/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shm-server / shm-client message (contracts/ivshm-apps.h): writing it,
 * and reading it as hostile input into private copies.
 */
#ifndef IVSHM_EXCHANGE_H
#define IVSHM_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "ivshm-apps.h"

/* A checked copy: @text is NUL-terminated, unprintable bytes shown as '?'. */
struct exchange_reply {
	uint32_t from;
	char text[IVSHM_EXCHANGE_CAP + 1];
};

/* Server: the message and @from (own ID), magic last. */
void exchange_write(struct ivshm_exchange_msg *m, uint32_t from, const char *text);

/*
 * Client: copy the server's message out of an arena of @size bytes.
 * Returns: 0, -EMSGSIZE (arena too small), -EUCLEAN (foreign magic or length
 * out of range).
 */
int exchange_read_message(const struct ivshm_exchange_msg *m, size_t size,
			  struct exchange_reply *out);

/* Client: replace the text with @text, then len, then from (release), so a server that sees from sees the rest. */
void exchange_write_reply(struct ivshm_exchange_msg *m, uint32_t from, const char *text);

/*
 * Server: the reply, once a peer other than @self wrote one.
 * Returns: 0, -EAGAIN (no reply yet), -EUCLEAN (magic, sender or length out of range).
 */
int exchange_read_reply(const struct ivshm_exchange_msg *m, uint32_t self,
			struct exchange_reply *out);

/* A one-line description of an error of the functions above. */
const char *exchange_strerror(int err);

#endif /* IVSHM_EXCHANGE_H */
