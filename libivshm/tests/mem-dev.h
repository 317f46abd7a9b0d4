/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices over plain memory for the unit tests and the fuzzer: every handle
 * made here in one process shares the same doorbell fabric, so a doorbell to
 * peer N bumps the counter of the handle with ID N, and the test can count
 * what was rung. Waiting sleeps a millisecond (peers are threads).
 */
#ifndef MEM_DEV_H
#define MEM_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* A doorbell handle for peer @id over @mem (@size bytes), @vectors vectors. */
struct ivshm_dev *mem_dev_open(void *mem, size_t size, int id, unsigned int vectors);

/* Doorbells rung towards peer @id since the start, on any vector. */
uint64_t mem_dev_rung(int id);

#endif /* MEM_DEV_H */
