// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "inherit.h"
#include "log.h"
#include "store.h"

static int fill_std_fds(void)
{
	for (;;) {
		int fd = open("/dev/null", O_RDWR);

		if (fd < 0)
			return -errno;
		if (fd > 2) {
			close(fd);
			return 0;
		}
	}
}

/* Every fd from first up; /proc/self/fd where close_range() is missing. */
static void close_from(int first)
{
	struct dirent *e;
	DIR *d;

	if (close_range((unsigned)first, ~0u, 0) == 0)
		return;
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd >= first && fd != dirfd(d))
			close(fd);
	}
	closedir(d);
}

int ivshmd_inherit_collect(struct ivshmd_inherited *in)
{
	char **names = NULL;
	int n, err;

	*in = (struct ivshmd_inherited){ 0 };
	err = fill_std_fds();
	if (err)
		return err;
	/* Checks $LISTEN_PID, marks the fds close-on-exec and unsets the variables. */
	n = sd_listen_fds_with_names(1, &names);
	if (n <= 0) {
		close_from(SD_LISTEN_FDS_START);
		return 0;
	}
	close_from(SD_LISTEN_FDS_START + n);
	in->fds = calloc((size_t)n, sizeof(*in->fds));
	if (!in->fds) {
		close_from(SD_LISTEN_FDS_START);
		for (int i = 0; names && names[i]; i++)
			free(names[i]);
		free(names);
		return 0;
	}
	for (int i = 0; i < n; i++)
		in->fds[i] = SD_LISTEN_FDS_START + i;
	in->n = (unsigned)n;
	in->names = names;
	return 0;
}

static int find(const struct ivshmd_inherited *in, const char *name)
{
	for (unsigned i = 0; i < in->n; i++)
		if (in->fds[i] >= 0 && in->names && in->names[i] && !strcmp(in->names[i], name))
			return (int)i;
	return -1;
}

int ivshmd_inherit_has(const struct ivshmd_inherited *in, const char *name)
{
	return find(in, name) >= 0;
}

int ivshmd_inherit_take(struct ivshmd_inherited *in, const char *name)
{
	int i = find(in, name), fd;

	if (i < 0)
		return -1;
	fd = in->fds[i];
	in->fds[i] = -1;
	return fd;
}

void ivshmd_inherit_release(struct ivshmd_inherited *in)
{
	for (unsigned i = 0; i < in->n; i++) {
		const char *name = in->names && in->names[i] ? in->names[i] : "unknown";

		if (in->fds[i] < 0)
			continue;
		ivshmd_log(LOG_DEBUG, "dropping kept fd %d (%s)", in->fds[i], name);
		close(in->fds[i]);
		ivshmd_store_remove("%s", name);
	}
	for (unsigned i = 0; in->names && in->names[i]; i++)
		free(in->names[i]);
	free(in->names);
	free(in->fds);
	*in = (struct ivshmd_inherited){ 0 };
}
