// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "store.h"

static struct ivshm_ratelimit store_log = { .burst = 5 };

bool ivshmd_store_enabled(void)
{
	static int enabled = -1;

	if (enabled < 0) {
		const char *e = getenv("NOTIFY_SOCKET");

		enabled = e && e[0];
	}
	return enabled;
}

static void send_msg(const char *what, const char *name, int *fd)
{
	char msg[IVSHMD_STORE_NAME_MAX + 48];
	int ret;

	snprintf(msg, sizeof(msg), "%s=1\nFDNAME=%s", what, name);
	ret = sd_pid_notify_with_fds(0, 0, msg, fd, fd ? 1 : 0);
	if (ret < 0)
		ivshmd_log_limited(&store_log, LOG_WARNING, "%s %s: %s (it will not survive a restart)",
				   what, name, strerror(-ret));
}

void ivshmd_store_add(int fd, const char *fmt, ...)
{
	char name[IVSHMD_STORE_NAME_MAX];
	va_list ap;

	if (!ivshmd_store_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	send_msg("FDSTORE", name, &fd);
}

void ivshmd_store_remove(const char *fmt, ...)
{
	char name[IVSHMD_STORE_NAME_MAX];
	va_list ap;

	if (!ivshmd_store_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	send_msg("FDSTOREREMOVE", name, NULL);
}
