// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "handover.h"
#include "log.h"

char *ivshmd_self_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *p;

	if (n < 0) {
		ivshmd_log(LOG_WARNING, "readlink /proc/self/exe: %s", strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	p = strdup(buf);
	if (!p)
		ivshmd_log(LOG_WARNING, "out of memory");
	return p;
}

static char *join_names(char *const names[], size_t n)
{
	size_t len = 1;
	char *s, *o;

	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	o = s;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		if (i)
			*o++ = ':';
		memcpy(o, names[i], l);
		o += l;
	}
	*o = '\0';
	return s;
}

void ivshmd_handover_exec(const char *path, char *const argv[], const int *fds,
			  char *const names[], size_t n)
{
	char count[24], pid[24];
	char *joined = join_names(names, n);
	int base = SD_LISTEN_FDS_START + (int)n;
	int *high = calloc(n ? n : 1, sizeof(*high));

	if (!joined || !high) {
		ivshmd_log(LOG_ERR, "handing over %zu fds: out of memory", n);
		goto out_free;
	}
	/* Out of the way first: a target slot may hold another fd still to be moved. */
	for (size_t i = 0; i < n; i++) {
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, base);
		if (high[i] < 0) {
			ivshmd_log(LOG_ERR, "handing over fd %d: %s", fds[i], strerror(errno));
			goto out_free;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (dup2(high[i], SD_LISTEN_FDS_START + (int)i) < 0) {
			ivshmd_log(LOG_ERR, "handing over fd %d: %s", fds[i], strerror(errno));
			goto out_free;
		}
	}
	close_range((unsigned)base, ~0u, 0);
	snprintf(count, sizeof(count), "%zu", n);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (setenv("LISTEN_FDS", count, 1) || setenv("LISTEN_PID", pid, 1) ||
	    setenv("LISTEN_FDNAMES", joined, 1)) {
		ivshmd_log(LOG_ERR, "handing over: %s", strerror(errno));
		goto out_free;
	}
	execv(path, argv);
	ivshmd_log(LOG_ERR, "executing %s: %s", path, strerror(errno));
out_free:
	free(high);
	free(joined);
}
