/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict unsigned number parsing, shared by libivshm (sysfs values) and the
 * guest programs (command lines). Inline so the static library exports no
 * helper symbol that could clash with an application's.
 * strtoull() would accept blanks, signs and trailing junk.
 */
#ifndef IVSHM_NUMBER_H
#define IVSHM_NUMBER_H

#include <errno.h>
#include <stdint.h>

static inline int ivshm__digit(char c, unsigned int base)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v >= 0 && (unsigned int)v < base ? v : -1;
}

/* Decimal, or hexadecimal with 0x, at most @max. Returns 0, -EINVAL or -ERANGE. */
static inline int ivshm__parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	int d;

	if (!s || !out)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		d = ivshm__digit(*s, base);
		if (d < 0)
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

#endif /* IVSHM_NUMBER_H */
