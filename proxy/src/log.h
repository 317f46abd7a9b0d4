/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshm-proxy's log: one line per event on stderr, with journald priority
 * prefixes when stderr is the journal. Levels are syslog's: LOG_ERR and
 * LOG_WARNING always, LOG_INFO with -v (links, refusals), LOG_DEBUG with -vv
 * (every connection, libivshm's explanations); nothing with a negative
 * verbosity (the fuzz target, where the peer breaks every rule).
 */
#ifndef PROXY_LOG_H
#define PROXY_LOG_H

#include <stdint.h>
#include <syslog.h>

void proxy_log_setup(int verbosity);

void proxy_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A caller-owned rate limit: at most @burst lines per @period_ms; the rest
 * are counted, and the count goes out with the next line let through. A
 * hostile peer that repeats a refused thing on every frame cannot flood the
 * log. Zero-initialize, then set burst and period_ms.
 */
struct proxy_ratelimit {
	unsigned int burst;
	int64_t period_ms;
	int64_t window_ms;
	unsigned int sent;
	unsigned long suppressed;
};

void proxy_log_limited(struct proxy_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
