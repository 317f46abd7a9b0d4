/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshmd's logging (common/daemon-log.h): stderr, or syslog once daemonized.
 * LOG_ERR and LOG_WARNING always, LOG_INFO with -v (joins and leaves),
 * LOG_DEBUG with -vv.
 */
#ifndef IVSHMD_LOG_H
#define IVSHMD_LOG_H

#include "daemon-log.h"

void ivshmd_log_setup(int verbosity);

/* Switch to syslog (after daemonizing, when stderr is gone). */
void ivshmd_log_to_syslog(void);

void ivshmd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* At most rl->burst lines a second (struct ivshm_ratelimit, period_ms 0). */
void ivshmd_log_limited(struct ivshm_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
