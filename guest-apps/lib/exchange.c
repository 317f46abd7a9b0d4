// SPDX-License-Identifier: LGPL-2.1-or-later
/* The exchange message: each shared field loaded once, checked, then copied. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "exchange.h"
#include "uio_ivshmem.h"

static void copy_text(const struct ivshm_exchange_msg *m, uint32_t len, char *dst)
{
	uint32_t i;

	memcpy(dst, m->text, len);
	for (i = 0; i < len; i++)
		if (dst[i] < 0x20 || dst[i] > 0x7e)
			dst[i] = '?';
	dst[len] = '\0';
}

void exchange_write(struct ivshm_exchange_msg *m, uint32_t from, const char *text)
{
	size_t len = strnlen(text, IVSHM_EXCHANGE_CAP);

	__atomic_store_n(&m->magic, 0, __ATOMIC_RELAXED);
	memset(m->text, 0, sizeof(m->text));
	memcpy(m->text, text, len);
	__atomic_store_n(&m->len, (uint32_t)len, __ATOMIC_RELAXED);
	__atomic_store_n(&m->from, from, __ATOMIC_RELAXED);
	__atomic_store_n(&m->reserved, 0, __ATOMIC_RELAXED);
	/* A reader that sees the magic sees the text. */
	__atomic_store_n(&m->magic, IVSHM_EXCHANGE_MAGIC, __ATOMIC_RELEASE);
}

int exchange_read_message(const struct ivshm_exchange_msg *m, size_t size,
			  struct exchange_reply *out)
{
	uint32_t magic, len;

	if (size < sizeof(*m))
		return -EMSGSIZE;
	magic = __atomic_load_n(&m->magic, __ATOMIC_ACQUIRE);
	len = __atomic_load_n(&m->len, __ATOMIC_RELAXED);
	out->from = __atomic_load_n(&m->from, __ATOMIC_RELAXED);
	if (magic != IVSHM_EXCHANGE_MAGIC || len > IVSHM_EXCHANGE_CAP)
		return -EUCLEAN;
	copy_text(m, len, out->text);
	return 0;
}

void exchange_write_reply(struct ivshm_exchange_msg *m, uint32_t from, const char *text)
{
	size_t len = strnlen(text, IVSHM_EXCHANGE_CAP);

	memset(m->text, 0, sizeof(m->text));
	memcpy(m->text, text, len);
	__atomic_store_n(&m->len, (uint32_t)len, __ATOMIC_RELAXED);
	/* Text and length before the sender's ID, which tells the server a reply is there. */
	__atomic_store_n(&m->from, from, __ATOMIC_RELEASE);
}

int exchange_read_reply(const struct ivshm_exchange_msg *m, uint32_t self,
			struct exchange_reply *out)
{
	uint32_t from, len;

	from = __atomic_load_n(&m->from, __ATOMIC_ACQUIRE);
	if (from == self)
		return -EAGAIN;
	len = __atomic_load_n(&m->len, __ATOMIC_RELAXED);
	if (__atomic_load_n(&m->magic, __ATOMIC_RELAXED) != IVSHM_EXCHANGE_MAGIC ||
	    from > IVSHMEM_MAX_PEER_ID || len > IVSHM_EXCHANGE_CAP)
		return -EUCLEAN;
	out->from = from;
	copy_text(m, len, out->text);
	return 0;
}

const char *exchange_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return "valid message";
	case EAGAIN:
		return "no reply yet";
	case EMSGSIZE:
		return "the arena is too small for the message";
	case EUCLEAN:
		return "corrupted message (magic, sender or length out of range)";
	default:
		return "invalid argument";
	}
}
