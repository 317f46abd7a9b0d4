/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef IVSHMD_CLOCK_H
#define IVSHMD_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC: deadlines must not move with the wall clock. */
unsigned long long ivshmd_now_ms(void);

#endif
