/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frames of contracts/ivshm-proxy.h: reading them out of a ring record and
 * writing their headers. Pure functions on bytes: the fuzz target drives them.
 */
#ifndef PROXY_FRAME_H
#define PROXY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "ivshm-proxy.h"

#define FRAME_HDR ((uint32_t)sizeof(struct ivshm_proxy_hdr))

struct frame {
	struct ivshm_proxy_hdr h;	/* a private copy, in host order */
	const char *payload;		/* h.len bytes in the peer's ring: it may still change them */
};

/*
 * The frame at *@pos of the record @rec of @len bytes; *@pos moves past it.
 * Returns 1 (a frame in @f), 0 (the record ends at *@pos), or -EPROTO: a
 * header or payload runs past the record's end (*@pos is left; the rest of
 * the record cannot be trusted).
 */
int frame_next(const char *rec, size_t len, size_t *pos, struct frame *f);

/*
 * The rules of @f's type that need no connection: payload length, ID 0 only
 * for HELLO, an OPEN's service name and buf_alloc, an ACCEPT's buf_alloc.
 * Returns NULL when @f keeps them, else a phrase saying which it breaks.
 */
const char *frame_check(const struct frame *f);

/* Whether the @len bytes at @name are a service name (contracts/ivshm-proxy.h). */
int frame_service_ok(const char *name, size_t len);

/* Write a header at @at, which may be unaligned (ring space). */
void frame_put(void *at, uint8_t type, uint8_t flags, uint32_t conn, uint32_t len, uint32_t arg);

/* The frame type's name for logs ("DATA"), "type N" for unknown ones (static buffer). */
const char *frame_type_name(uint8_t type);

#endif
