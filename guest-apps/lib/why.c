// SPDX-License-Identifier: LGPL-2.1-or-later
/* The last explanation libivshm gave, printed with the error it explains. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivshm.h"
#include "msg.h"
#include "why.h"

/* Per thread: a line logged by one thread explains only that thread's call. */
static _Thread_local char last[512];

static void keep_line(void *data, int priority, const char *msg)
{
	(void)priority;
	if (data)
		ivshm_msg_info("libivshm: %s", msg);
	snprintf(last, sizeof(last), "%s", msg);
}

void app_log_init(void)
{
	/* Any non-NULL marker: IVSHM_DEBUG asks for every line, as without a log function. */
	ivshm_set_log_fn(keep_line, getenv("IVSHM_DEBUG") ? (void *)last : NULL);
}

void app_err(int err, const char *fmt, ...)
{
	char ctx[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	if (last[0])
		ivshm_msg_err("%s: %s (%s)", ctx, ivshm_strerror(err), last);
	else
		ivshm_msg_err("%s: %s", ctx, ivshm_strerror(err));
	last[0] = '\0';
}
