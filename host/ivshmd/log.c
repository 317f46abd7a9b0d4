// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"

static int max_level = LOG_WARNING;
static bool use_syslog;
static bool journal_prefix;

/* JOURNAL_STREAM=dev:ino names stderr when systemd connected it to the journal. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
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

void ivshmd_log_ratelimited(int64_t *last, int level, const char *fmt, ...)
{
	int64_t now = ivshm_clock_ms();
	va_list ap;

	if (*last && now - *last < 1000)
		return;
	*last = now;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
