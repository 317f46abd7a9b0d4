/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshm-proxy's log (common/daemon-log.h): LOG_ERR, LOG_WARNING and
 * LOG_NOTICE (the one line saying it is ready) always, LOG_INFO with -v
 * (links, refusals), LOG_DEBUG with -vv (every connection, libivshm's
 * explanations); nothing with a negative verbosity (the fuzz target, where
 * the peer breaks every rule).
 */
#ifndef PROXY_LOG_H
#define PROXY_LOG_H

#include "daemon-log.h"

void proxy_log_setup(int verbosity);

void proxy_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rate-limited: a hostile peer that repeats a refused thing cannot flood the log. */
void proxy_log_limited(struct ivshm_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
