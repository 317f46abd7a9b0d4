/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and writing the application header of shm-layout.h. Readers get a
 * private, validated copy; nothing is read twice from shared memory.
 */
#ifndef IVSHM_SHM_PROTO_H
#define IVSHM_SHM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "shm-layout.h"

/*
 * app_hdr_read - copy the header at the start of @buf (@size bytes) into @out
 * and validate the copy for @kind.
 * Returns: 0;
 *   -ENOENT           nothing published (magic 0)
 *   -EBADMSG          foreign magic (@out->magic tells which)
 *   -EPROTONOSUPPORT  another header version (@out->version tells which)
 *   -EMEDIUMTYPE      a header of another program (@out->kind)
 *   -EUCLEAN          corrupted: size, state, IDs or message bounds out of range
 *   -EMSGSIZE         @size cannot even hold the header
 *   -EINVAL           bad arguments
 */
int app_hdr_read(const void *buf, size_t size, uint32_t kind, struct ivshm_app_hdr *out);

/* A one-line description of an app_hdr_read() error. */
const char *app_hdr_strerror(int err);

/*
 * app_msg_copy - copy the message of a validated header @h out of @buf into
 * @dst as a NUL-terminated string, truncated to @len - 1 bytes, with bytes
 * that are not printable ASCII replaced by '?'.
 */
void app_msg_copy(const void *buf, const struct ivshm_app_hdr *h, char *dst, size_t len);

/*
 * app_hdr_publish - write @h (state excluded) and then its state, ordered so
 * a reader that sees the state sees the rest.
 */
void app_hdr_publish(void *buf, const struct ivshm_app_hdr *h);

/* app_hdr_set_state - store @state with release semantics. */
void app_hdr_set_state(void *buf, uint32_t state);

/* app_hdr_clear - owner leaving: zero state and magic. */
void app_hdr_clear(void *buf);

/* app_hdr_set_guest - record the guest's peer ID, vector and message length. */
void app_hdr_set_guest(void *buf, uint32_t id, uint32_t vector, uint32_t msg_len);

/* Load / store a 32-bit word of shared memory once (acquire / release). */
uint32_t shm_load32(const void *p);
void shm_store32(void *p, uint32_t v);

#endif /* IVSHM_SHM_PROTO_H */
