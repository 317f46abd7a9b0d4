/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by the guest programs: messages, clocks, device open. */
#ifndef IVSHM_APP_H
#define IVSHM_APP_H

#include <stdint.h>

#include "ivshm.h"

/* Exit statuses of every guest program. */
#define EXIT_FAIL  1	/* runtime error: device, peer, header, timeout */
#define EXIT_USAGE 2	/* bad command line */

/* Name used as the prefix of every message. */
extern const char *app_name;

/* Line-buffer stdout so interleaved stdout/stderr lines keep their order. */
void app_init(const char *name);

/* "NAME: error: ..." on stderr. */
void app_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open @device (NULL: the first one) and say what failed. Returns 0 or -errno. */
int app_open(const char *device, struct ivshm_dev **dev);

/* Open a doorbell device, with its peer ID and buffer. Returns 0 or -errno. */
int app_open_doorbell(const char *device, struct ivshm_dev **dev, unsigned int *id,
		      void **buf, size_t *size);

/* Parse an option value with parse_uint(), or print why it is bad. Returns 0 or -1. */
int app_parse_opt(const char *opt, const char *s, uint64_t max, uint64_t *out);

/* Monotonic milliseconds and microseconds. */
int64_t app_now_ms(void);
int64_t app_now_us(void);

/* Sleep @ms milliseconds (used only between polls of shared memory). */
void app_sleep_ms(unsigned int ms);

#endif /* IVSHM_APP_H */
