/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fake libivshm of fuzz-link.c (fake-ivshm.c): its one channel and the records it will read. */
#ifndef PROXY_FAKE_IVSHM_H
#define PROXY_FAKE_IVSHM_H

#include <stddef.h>
#include <stdint.h>

#include "ivshm.h"

extern struct ivshm_chan fake_chan;
/* The input left: records, each a 2-byte little-endian length and its bytes. */
extern const uint8_t *fake_in;
extern size_t fake_in_len;
/* Serve a well-formed HELLO before the input's records (then cleared). */
extern int fake_hello;

#endif
