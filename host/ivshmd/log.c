// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"
#include "number.h"

static int max_level = LOG_WARNING;
static bool use_syslog;
static bool journal_prefix;

/* JOURNAL_STREAM=dev:ino names stderr when systemd connected it to the journal. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	const char *colon = env ? strchr(env, ':') : NULL;
	char dev_text[24];
	uint64_t dev, ino;
	struct stat st;

	if (!colon || (size_t)(colon - env) >= sizeof(dev_text))
		return false;
	memcpy(dev_text, env, (size_t)(colon - env));
	dev_text[colon - env] = '\0';
	if (ivshm_num_parse(dev_text, IVSHM_NUM_DEC, 0, UINT64_MAX, &dev) ||
	    ivshm_num_parse(colon + 1, IVSHM_NUM_DEC, 0, UINT64_MAX, &ino))
		return false;
	if (fstat(2, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void ivshmd_log_setup(int verbosity)
{
	if (verbosity >= 2)
		max_level = LOG_DEBUG;
	else if (verbosity == 1)
		max_level = LOG_INFO;
	else
		max_level = LOG_WARNING;
	journal_prefix = stderr_is_journal();
}

void ivshmd_log_to_syslog(void)
{
	openlog("ivshmd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = true;
}

static bool enabled(int level)
{
	return level <= max_level;
}

static void vlog(int level, const char *fmt, va_list ap)
{
	if (!enabled(level))
		return;
	if (use_syslog) {
		vsyslog(level, fmt, ap);
		return;
	}
	if (journal_prefix)
		fprintf(stderr, "<%d>", level);
	else
		fputs("ivshmd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ivshmd_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void ivshmd_log_limited(struct ivshmd_ratelimit *rl, int level, const char *fmt, ...)
{
	int64_t now = ivshm_clock_ms();
	unsigned burst = rl->burst ? rl->burst : 1;
	va_list ap;

	if (!rl->window_ms || now - rl->window_ms >= 1000) {
		rl->window_ms = now;
		rl->sent = 0;
	}
	if (rl->sent >= burst) {
		rl->suppressed++;
		return;
	}
	rl->sent++;
	if (rl->suppressed) {
		ivshmd_log(level, "%lu similar messages suppressed", rl->suppressed);
		rl->suppressed = 0;
	}
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
