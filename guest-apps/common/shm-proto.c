// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The application header as hostile input: copy once, then validate the
 * private copy; publish with the state word last.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "shm-proto.h"

#define HDR_WORDS (sizeof(struct ivshm_app_hdr) / sizeof(uint32_t))
#define STATE_WORD (offsetof(struct ivshm_app_hdr, state) / sizeof(uint32_t))

uint32_t shm_load32(const void *p)
{
	return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}

void shm_store32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE);
}

static int validate(const struct ivshm_app_hdr *h, size_t size, uint32_t kind)
{
	if (h->magic == 0)
		return -ENOENT;
	if (h->magic != IVSHM_APP_MAGIC)
		return -EBADMSG;
	/* An owner resets state before rewriting the rest: nothing else is settled yet. */
	if (h->state == IVSHM_APP_EMPTY)
		return -ENOENT;
	if (h->version != IVSHM_APP_VERSION)
		return -EPROTONOSUPPORT;
	if (h->kind != kind)
		return -EMEDIUMTYPE;
	if (h->hdr_size != sizeof(*h) || h->state > IVSHM_APP_GUEST_DONE)
		return -EUCLEAN;
	if (h->owner_id > 65535 || h->owner_vector >= 64)
		return -EUCLEAN;
	if (h->guest_id != IVSHM_APP_ID_NONE && h->guest_id > 65535)
		return -EUCLEAN;
	if (h->guest_vector != IVSHM_APP_ID_NONE && h->guest_vector >= 64)
		return -EUCLEAN;
	if (h->msg_off < sizeof(*h) || h->msg_off > size || h->msg_cap > size - h->msg_off ||
	    h->msg_len > h->msg_cap)
		return -EUCLEAN;
	return 0;
}

int app_hdr_read(const void *buf, size_t size, uint32_t kind, struct ivshm_app_hdr *out)
{
	const uint32_t *shared = buf;
	uint32_t words[HDR_WORDS], state;
	size_t i;

	if (!buf || !out)
		return -EINVAL;
	if (size < sizeof(*out))
		return -EMSGSIZE;
	state = __atomic_load_n(&shared[STATE_WORD], __ATOMIC_ACQUIRE);
	for (i = 0; i < HDR_WORDS; i++)
		words[i] = __atomic_load_n(&shared[i], __ATOMIC_RELAXED);
	atomic_thread_fence(memory_order_acquire);
	/* The owner changed the header under us: report "not settled", the caller retries. */
	if (__atomic_load_n(&shared[STATE_WORD], __ATOMIC_RELAXED) != state)
		state = IVSHM_APP_EMPTY;
	words[STATE_WORD] = state;
	memcpy(out, words, sizeof(*out));
	return validate(out, size, kind);
}

const char *app_hdr_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return "valid header";
	case ENOENT:
		return "no header published";
	case EBADMSG:
		return "foreign header (unknown magic)";
	case EPROTONOSUPPORT:
		return "unsupported header version";
	case EMEDIUMTYPE:
		return "header belongs to another program";
	case EUCLEAN:
		return "corrupted header (field out of range)";
	case EMSGSIZE:
		return "shared memory too small for the header";
	default:
		return "invalid argument";
	}
}

void app_msg_copy(const void *buf, const struct ivshm_app_hdr *h, char *dst, size_t len)
{
	size_t n, i;

	if (!len)
		return;
	n = h->msg_len < len - 1 ? h->msg_len : len - 1;
	memcpy(dst, (const char *)buf + h->msg_off, n);
	for (i = 0; i < n; i++)
		if (dst[i] < 0x20 || dst[i] > 0x7e)
			dst[i] = '?';
	dst[n] = '\0';
}

void app_hdr_publish(void *buf, const struct ivshm_app_hdr *h)
{
	uint32_t *shared = buf, words[HDR_WORDS];
	size_t i;

	memcpy(words, h, sizeof(words));
	__atomic_store_n(&shared[STATE_WORD], IVSHM_APP_EMPTY, __ATOMIC_RELAXED);
	/* Readers must see EMPTY before any field changes under them. */
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < HDR_WORDS; i++)
		if (i != STATE_WORD)
			__atomic_store_n(&shared[i], words[i], __ATOMIC_RELAXED);
	/* Fields and message before the state: a reader seeing READY sees them. */
	__atomic_store_n(&shared[STATE_WORD], h->state, __ATOMIC_RELEASE);
}

void app_hdr_set_state(void *buf, uint32_t state)
{
	struct ivshm_app_hdr *h = buf;

	shm_store32(&h->state, state);
}

void app_hdr_clear(void *buf)
{
	struct ivshm_app_hdr *h = buf;

	__atomic_store_n(&h->state, IVSHM_APP_EMPTY, __ATOMIC_RELEASE);
	__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
}

void app_hdr_set_guest(void *buf, uint32_t id, uint32_t vector, uint32_t msg_len)
{
	struct ivshm_app_hdr *h = buf;

	__atomic_store_n(&h->guest_id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&h->guest_vector, vector, __ATOMIC_RELAXED);
	__atomic_store_n(&h->msg_len, msg_len, __ATOMIC_RELAXED);
}
