/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses on the guest programs' command lines. */
#ifndef IVSHM_PARSE_H
#define IVSHM_PARSE_H

#include <stdint.h>

/*
 * parse_host_port - "A.B.C.D:PORT" into a dotted IPv4 string (@host, @len
 * bytes) and a port 1..65535. Returns: 0 or -EINVAL.
 */
int parse_host_port(const char *s, char *host, unsigned long len, uint16_t *port);

#endif /* IVSHM_PARSE_H */
