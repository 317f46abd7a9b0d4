// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"
#include "number.h"

static int max_level = LOG_WARNING;
static int journal_prefix;

/* JOURNAL_STREAM=dev:ino names stderr when systemd connected it to the journal. */
static int stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	const char *colon = env ? strchr(env, ':') : NULL;
	char dev_text[24];
	uint64_t dev, ino;
	struct stat st;

	if (!colon || (size_t)(colon - env) >= sizeof(dev_text))
		return 0;
	memcpy(dev_text, env, (size_t)(colon - env));
	dev_text[colon - env] = '\0';
	if (ivshm_num_parse(dev_text, IVSHM_NUM_DEC, 0, UINT64_MAX, &dev) ||
	    ivshm_num_parse(colon + 1, IVSHM_NUM_DEC, 0, UINT64_MAX, &ino) || fstat(2, &st) < 0)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void proxy_log_setup(int verbosity)
{
	max_level = verbosity >= 2 ? LOG_DEBUG : verbosity == 1 ? LOG_INFO :
		    verbosity == 0 ? LOG_WARNING : -1;
	journal_prefix = stderr_is_journal();
}

static void vlog(int level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level > max_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (journal_prefix)
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "ivshm-proxy: %s\n", line);
}

void proxy_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void proxy_log_limited(struct proxy_ratelimit *rl, int level, const char *fmt, ...)
{
	int64_t now = ivshm_clock_ms();
	va_list ap;

	if (now - rl->window_ms >= rl->period_ms) {
		rl->window_ms = now;
		rl->sent = 0;
	}
	if (rl->sent >= (rl->burst ? rl->burst : 1)) {
		rl->suppressed++;
		return;
	}
	rl->sent++;
	if (rl->suppressed) {
		proxy_log(level, "(%lu similar messages suppressed)", rl->suppressed);
		rl->suppressed = 0;
	}
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
