// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

void proxy_log_setup(int verbosity)
{
	ivshm_dlog_setup("ivshm-proxy", verbosity >= 2 ? LOG_DEBUG : verbosity == 1 ? LOG_INFO :
					verbosity == 0 ? LOG_NOTICE : -1);
}

void proxy_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ivshm_dlog_v(level, fmt, ap);
	va_end(ap);
}

void proxy_log_limited(struct ivshm_ratelimit *rl, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ivshm_dlog_limited_v(rl, level, fmt, ap);
	va_end(ap);
}
