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
 * Like ivshmd_log(), but at most once per second per *last (a caller-owned
 * timestamp in ms, 0 initially), so a condition that repeats on every event
 * (EMFILE) cannot flood the log.
 */
void ivshmd_log_ratelimited(int64_t *last, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
