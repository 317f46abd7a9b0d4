// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Why libivshm refused something. The library never prints by itself: it
 * hands one line per refusal to the application's log function, or, without
 * one, to stderr when IVSHM_DEBUG is set in the environment.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "internal.h"

static ivshm_log_fn log_fn;
static void *log_data;

void ivshm_set_log_fn(ivshm_log_fn fn, void *data)
{
	log_fn = fn;
	log_data = data;
}

void ivshm__log(int priority, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!log_fn && !getenv("IVSHM_DEBUG"))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(log_data, priority, line);
	else
		fprintf(stderr, "libivshm: %s\n", line);
}

int ivshm__bad_arg(const char *func, const char *what)
{
	ivshm__log(LOG_DEBUG, "%s: %s", func, what);
	return -EINVAL;
}
