// SPDX-License-Identifier: LGPL-2.1-or-later
/* Command-line numbers and addresses for the guest programs. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "number.h"
#include "parse.h"

int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	return ivshm_num_parse(s, IVSHM_NUM_HEX, 0, max, out);
}

int parse_host_port(const char *s, char *host, unsigned long len, uint16_t *port)
{
	struct in_addr addr;
	const char *colon;
	uint64_t p;
	size_t n;

	if (!s || !host || !port)
		return -EINVAL;
	colon = strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &addr) != 1)
		return -EINVAL;
	if (parse_uint(colon + 1, 65535, &p) || p == 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}
