/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshmd's command line: QEMU ivshmem-server's short options plus long ones.
 */
#ifndef IVSHMD_OPTS_H
#define IVSHMD_OPTS_H

#include <stdbool.h>

#include "server.h"

/* --peer-allow NAME=WHO,... as given; resolved once every --peer is known. */
struct ivshmd_allow_arg {
	const char *arg;
};

struct ivshmd_opts {
	struct ivshmd_config cfg;	/* cfg.pins points into pins */
	struct ivshmd_pin pins[IVSHMD_MAX_PINS];
	struct ivshmd_allow_arg allow[IVSHMD_MAX_PINS];
	unsigned nallow;
	bool foreground;
	bool list;
	const char *pidfile;
	int verbose;
};

/*
 * Fill o from argv (strings are not copied: argv must outlive o).
 * Returns 0 to run, 1 when --help was printed, or -EINVAL after printing the
 * reason to stderr.
 */
int ivshmd_opts_parse(struct ivshmd_opts *o, int argc, char **argv);

#endif
