// SPDX-License-Identifier: LGPL-2.1-or-later
/* Addresses on the guest programs' command lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "number.h"
#include "parse.h"

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
	if (ivshm_num_parse(colon + 1, IVSHM_NUM_DEC, 1, 65535, &p))
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}
