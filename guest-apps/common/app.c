// SPDX-License-Identifier: LGPL-2.1-or-later
/* Helpers shared by the guest programs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "app.h"
#include "parse.h"

const char *app_name = "ivshm";

void app_init(const char *name)
{
	app_name = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
}

void app_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: error: ", app_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int app_open(const char *device, struct ivshm_dev **dev)
{
	int err = ivshm_open(device, 0, dev);

	if (err)
		app_err("cannot open ivshmem device %s: %s", device ? device : "(first)",
			ivshm_strerror(err));
	return err;
}

int app_open_doorbell(const char *device, struct ivshm_dev **dev, unsigned int *id,
		      void **buf, size_t *size)
{
	int err;

	err = app_open(device, dev);
	if (err)
		return err;
	err = ivshm_get_peer_id(*dev, id);
	if (!err)
		err = ivshm_get_shared_buffer(*dev, buf, size);
	if (err) {
		app_err("%s", ivshm_strerror(err));
		ivshm_close(*dev);
		*dev = NULL;
	}
	return err;
}

int app_parse_opt(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	int err = parse_uint(s, max, out);

	if (err == -ERANGE)
		app_err("%s: %s is above %llu", opt, s, (unsigned long long)max);
	else if (err)
		app_err("%s: %s is not a number", opt, s);
	return err ? -1 : 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer; 0 keeps callers simple. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t app_now_ms(void)
{
	return now_ns() / 1000000;
}

int64_t app_now_us(void)
{
	return now_ns() / 1000;
}

void app_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
