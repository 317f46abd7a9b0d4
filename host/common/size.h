/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Command-line number parsing shared by the host tools.
 */
#ifndef IVSHM_HOST_SIZE_H
#define IVSHM_HOST_SIZE_H

#include <stdint.h>

/*
 * Parse a byte count: decimal digits with an optional K, M, G or T suffix
 * (binary multiples, like QEMU's ivshmem-server). No sign, no spaces.
 * Returns 0 and stores the value in *out, -EINVAL on malformed text,
 * -ERANGE when the value does not fit in 64 bits.
 */
int ivshm_parse_size(const char *s, uint64_t *out);

/*
 * Parse a decimal integer within [min, max].
 * Returns 0, -EINVAL on malformed text or -ERANGE outside the bounds.
 */
int ivshm_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
