// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdref.h"

struct ivshmd_fdref {
	unsigned long refs;
	int fd;
};

int ivshmd_fdref_new(int fd, struct ivshmd_fdref **out)
{
	struct ivshmd_fdref *r = malloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->refs = 1;
	r->fd = fd;
	*out = r;
	return 0;
}

struct ivshmd_fdref *ivshmd_fdref_get(struct ivshmd_fdref *r)
{
	r->refs++;
	return r;
}

void ivshmd_fdref_put(struct ivshmd_fdref *r)
{
	if (!r || --r->refs)
		return;
	close(r->fd);
	free(r);
}

int ivshmd_fdref_fd(const struct ivshmd_fdref *r)
{
	return r->fd;
}
