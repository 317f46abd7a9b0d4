/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshmd's logging: stderr (with journald priority prefixes when stderr is the
 * journal) or syslog once daemonized. Levels are syslog's: LOG_ERR and
 * LOG_WARNING always, LOG_INFO with -v (joins and leaves), LOG_DEBUG with -vv.
 */
#ifndef IVSHMD_LOG_H
#define IVSHMD_LOG_H

#include <stdint.h>
#include <syslog.h>

void ivshmd_log_setup(int verbosity);

/* Switch to syslog (after daemonizing, when stderr is gone). */
void ivshmd_log_to_syslog(void);

void ivshmd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A caller-owned rate limit: at most burst messages per second; the others
 * are counted and the count is logged with the next message let through.
 * Zero-initialize, then set burst (0 counts as 1).
 */
struct ivshmd_ratelimit {
	unsigned burst;
	int64_t window_ms;	/* start of the current one-second window */
	unsigned sent;		/* messages logged in it */
	unsigned long suppressed;
};

/*
 * Like ivshmd_log(), under rl, so a condition that repeats on every event
 * (EMFILE, a flood of refused connections) cannot flood the log.
 */
void ivshmd_log_limited(struct ivshmd_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
