/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshm-peer's command line and its modes. main.c parses the options and
 * runs one mode from its table; each mode is a file of its own:
 *   mode-actions.c  connect, run the actions (-w, -r, -R, -W, --truncate), exit
 *   mode-stay.c     the same, then serve events and stdin commands (--stay)
 * The clients that only load a server (a stuck one, connection churn) are
 * test tools: tests/tools/peer-load.c.
 */
#ifndef IVSHM_PEER_MODES_H
#define IVSHM_PEER_MODES_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

/* Exit statuses: 0 success, 1 error; usage as in the guest programs. */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_TIMEOUT	3	/* the setup or a --wait did not complete in time */

#define PEER_MAX_ACTIONS 64
#define PEER_MAX_IO (1u << 20)	/* bytes one read may print */

enum peer_mode { MODE_ACTIONS, MODE_STAY };

enum action_kind { ACT_WRITE, ACT_READ, ACT_RING, ACT_WAIT, ACT_TRUNCATE };

struct action {
	enum action_kind kind;
	uint64_t a;	/* offset, peer, vector or size */
	uint64_t b;	/* length or vector */
	const char *text;
};

struct peer_opts {
	enum peer_mode mode;
	const char *socket;
	unsigned vectors;
	int timeout_ms;
	bool trace, quiet;
	struct action act[PEER_MAX_ACTIONS];
	unsigned nact;
};

/* Each mode returns the process's exit status; sfd is a signalfd for SIGTERM and SIGINT. */
int mode_actions(const struct peer_opts *o, int sfd);
int mode_stay(const struct peer_opts *o, int sfd);

/*
 * mode-actions.c, for the modes that run actions: connect and complete the setup,
 * run the actions, then `then` (may be NULL), print the counts and disconnect.
 * Returns the exit status.
 */
int peer_connected(const struct peer_opts *o, int sfd, int (*then)(struct conn *c, int sfd));

/* One action each; the result or the error is printed. Return 0 or a negative errno. */
int peer_write(struct conn *c, uint64_t off, const char *text);
int peer_read(struct conn *c, uint64_t off, uint64_t len);
int peer_ring(struct conn *c, uint64_t peer, uint64_t v);

/* Exit status for a negative errno: EXIT_TIMEOUT for -ETIMEDOUT, else EXIT_FAILURE. */
int peer_status(int err);

#endif
