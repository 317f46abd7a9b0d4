// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "daemon-log.h"
#include "number.h"

static const char *ident = "ivshm";
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
	    ivshm_num_parse(colon + 1, IVSHM_NUM_DEC, 0, UINT64_MAX, &ino) || fstat(2, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void ivshm_dlog_setup(const char *name, int level)
{
	ident = name;
	max_level = level;
	journal_prefix = stderr_is_journal();
}

void ivshm_dlog_to_syslog(void)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = true;
}

void ivshm_dlog_v(int level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level > max_level)
		return;
	if (use_syslog) {
		vsyslog(level, fmt, ap);
		return;
	}
	/* One write per line: lines of processes sharing stderr do not interleave. */
	vsnprintf(line, sizeof(line), fmt, ap);
	if (journal_prefix)
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "%s: %s\n", ident, line);
}

static void dlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dlog(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ivshm_dlog_v(level, fmt, ap);
	va_end(ap);
}

void ivshm_dlog_limited_v(struct ivshm_ratelimit *rl, int level, const char *fmt, va_list ap)
{
	int64_t now = ivshm_clock_ms();
	int64_t period = rl->period_ms > 0 ? rl->period_ms : 1000;

	if (!rl->window_ms || now - rl->window_ms >= period) {
		rl->window_ms = now;
		rl->sent = 0;
	}
	if (rl->sent >= (rl->burst ? rl->burst : 1)) {
		rl->suppressed++;
		return;
	}
	rl->sent++;
	if (rl->suppressed) {
		dlog(level, "%lu similar messages suppressed", rl->suppressed);
		rl->suppressed = 0;
	}
	ivshm_dlog_v(level, fmt, ap);
}
