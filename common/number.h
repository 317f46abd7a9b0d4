/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict number parsing for command lines and sysfs values, shared by the
 * host tools, libivshm and the guest programs. strtoull() would accept
 * blanks, signs and trailing junk.
 */
#ifndef IVSHM_COMMON_NUMBER_H
#define IVSHM_COMMON_NUMBER_H

#include <stdint.h>

/* Which spellings ivshm_num_parse() accepts besides plain decimal. */
enum {
	IVSHM_NUM_DEC = 0,		/* decimal digits only */
	IVSHM_NUM_HEX = 1 << 0,		/* "0x1f" / "0X1F" is hexadecimal */
	IVSHM_NUM_OCT = 1 << 1,		/* a leading 0 means octal, as C and strtol(,,0) read it */
};

/*
 * ivshm_num_parse - an unsigned integer in [@min, @max], spelled as @flags allow:
 * no sign, no blank, nothing after the digits.
 * Returns: 0 with *@out set, -EINVAL on malformed text, -ERANGE outside the bounds.
 */
int ivshm_num_parse(const char *s, unsigned int flags, uint64_t min, uint64_t max,
		    uint64_t *out);

/*
 * ivshm_num_parse_size - a byte count: decimal digits with an optional K, M, G or
 * T suffix (binary multiples, as QEMU's ivshmem-server reads -l).
 * Returns: 0, -EINVAL on malformed text, -ERANGE when it does not fit in 64 bits.
 */
int ivshm_num_parse_size(const char *s, uint64_t *out);

#endif /* IVSHM_COMMON_NUMBER_H */
