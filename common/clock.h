/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CLOCK_MONOTONIC for deadlines and latencies: they must not move with the
 * wall clock. Shared by the host tools, libivshm and the guest programs.
 */
#ifndef IVSHM_COMMON_CLOCK_H
#define IVSHM_COMMON_CLOCK_H

#include <stdint.h>

int64_t ivshm_clock_ns(void);
int64_t ivshm_clock_us(void);
int64_t ivshm_clock_ms(void);

/* Sleep @ms milliseconds, resuming after signals. */
void ivshm_clock_sleep_ms(unsigned int ms);

#endif /* IVSHM_COMMON_CLOCK_H */
