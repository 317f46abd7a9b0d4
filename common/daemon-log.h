/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemons' log (ivshmd, ivshm-proxy): one line per event on stderr,
 * prefixed with the daemon's name, or with journald's <priority> when systemd
 * connected stderr to the journal (JOURNAL_STREAM), or syslog once a daemon
 * detached from its terminal. Levels are syslog's; each daemon wraps these in
 * its own names and says which levels its verbosity shows.
 */
#ifndef IVSHM_DAEMON_LOG_H
#define IVSHM_DAEMON_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <syslog.h>

/* @ident: the prefix and syslog name, a string that lives as long as the process. */
void ivshm_dlog_setup(const char *ident, int max_level);
void ivshm_dlog_to_syslog(void);
void ivshm_dlog_v(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * A caller-owned rate limit: at most @burst lines (0 counts as 1) per
 * @period_ms (0: one second); the rest are counted, and the count goes out
 * with the next line let through, so a hostile peer repeating a refused thing
 * cannot flood the log. Zero-initialize, then set burst and period_ms.
 */
struct ivshm_ratelimit {
	unsigned int burst;
	int64_t period_ms;
	int64_t window_ms;
	unsigned int sent;
	unsigned long suppressed;
};

void ivshm_dlog_limited_v(struct ivshm_ratelimit *rl, int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
