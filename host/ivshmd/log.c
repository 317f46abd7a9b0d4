// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

void ivshmd_log_setup(int verbosity)
{
	ivshm_dlog_setup("ivshmd", verbosity >= 2 ? LOG_DEBUG :
				   verbosity == 1 ? LOG_INFO : LOG_WARNING);
}

void ivshmd_log_to_syslog(void)
{
	ivshm_dlog_to_syslog();
}

void ivshmd_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ivshm_dlog_v(level, fmt, ap);
	va_end(ap);
}

void ivshmd_log_limited(struct ivshm_ratelimit *rl, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ivshm_dlog_limited_v(rl, level, fmt, ap);
	va_end(ap);
}
