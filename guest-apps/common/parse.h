/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict parsing of command-line numbers for the guest programs. */
#ifndef IVSHM_PARSE_H
#define IVSHM_PARSE_H

#include <stdint.h>

/*
 * parse_uint - decimal, or hexadecimal with 0x, with no sign, blanks or
 * trailing characters, at most @max.
 * Returns: 0, -EINVAL (not a number) or -ERANGE (above @max).
 */
int parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * parse_host_port - "A.B.C.D:PORT" into a dotted IPv4 string (@host, @len
 * bytes) and a port 1..65535. Returns: 0 or -EINVAL.
 */
int parse_host_port(const char *s, char *host, unsigned long len, uint16_t *port);

#endif /* IVSHM_PARSE_H */
