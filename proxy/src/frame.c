// SPDX-License-Identifier: GPL-2.0-or-later
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"

int frame_next(const char *rec, size_t len, size_t *pos, struct frame *f)
{
	size_t at = *pos;

	if (at >= len)
		return 0;
	if (len - at < FRAME_HDR)
		return -EPROTO;
	/* One copy of the header; only the copy is looked at from here on. */
	memcpy(&f->h, rec + at, FRAME_HDR);
	f->h.reserved = le16toh(f->h.reserved);
	f->h.conn = le32toh(f->h.conn);
	f->h.len = le32toh(f->h.len);
	f->h.arg = le32toh(f->h.arg);
	if (f->h.len > len - at - FRAME_HDR)
		return -EPROTO;
	f->payload = rec + at + FRAME_HDR;
	*pos = at + FRAME_HDR + f->h.len;
	return 1;
}

int frame_service_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > IVSHM_PROXY_SERVICE_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int buf_ok(uint32_t buf)
{
	return buf >= IVSHM_PROXY_BUF_MIN && buf <= IVSHM_PROXY_BUF_MAX;
}

const char *frame_check(const struct frame *f)
{
	const struct ivshm_proxy_hdr *h = &f->h;

	if (h->type == IVSHM_PROXY_HELLO)
		return h->conn ? "HELLO with a connection ID" :
		       h->len < sizeof(struct ivshm_proxy_hello) ? "HELLO too short" : NULL;
	if (!h->conn)
		return "connection ID 0";
	switch (h->type) {
	case IVSHM_PROXY_OPEN:
		/* The name is copied before it is checked: the peer may rewrite its ring. */
		if (h->len == 0 || h->len > IVSHM_PROXY_SERVICE_MAX)
			return "OPEN: service name length";
		return buf_ok(h->arg) ? NULL : "OPEN: buf_alloc out of range";
	case IVSHM_PROXY_ACCEPT:
		if (h->len)
			return "ACCEPT with a payload";
		return buf_ok(h->arg) ? NULL : "ACCEPT: buf_alloc out of range";
	case IVSHM_PROXY_DATA:
		return h->len ? NULL : "empty DATA";
	case IVSHM_PROXY_REFUSE:
	case IVSHM_PROXY_SHUTDOWN:
	case IVSHM_PROXY_CREDIT:
	case IVSHM_PROXY_RESET:
	case IVSHM_PROXY_CLOSE:
		return h->len ? "payload on a frame that has none" : NULL;
	default:
		return "unknown frame type";
	}
}

void frame_put(void *at, uint8_t type, uint8_t flags, uint32_t conn, uint32_t len, uint32_t arg)
{
	struct ivshm_proxy_hdr h = {
		.type = type,
		.flags = flags,
		.conn = htole32(conn),
		.len = htole32(len),
		.arg = htole32(arg),
	};

	memcpy(at, &h, sizeof(h));
}

const char *frame_type_name(uint8_t type)
{
	static const char *const names[] = {
		[IVSHM_PROXY_HELLO] = "HELLO", [IVSHM_PROXY_OPEN] = "OPEN",
		[IVSHM_PROXY_ACCEPT] = "ACCEPT", [IVSHM_PROXY_REFUSE] = "REFUSE",
		[IVSHM_PROXY_DATA] = "DATA", [IVSHM_PROXY_SHUTDOWN] = "SHUTDOWN",
		[IVSHM_PROXY_CREDIT] = "CREDIT", [IVSHM_PROXY_RESET] = "RESET",
		[IVSHM_PROXY_CLOSE] = "CLOSE",
	};
	static char other[16];

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	snprintf(other, sizeof(other), "type %u", type);
	return other;
}
