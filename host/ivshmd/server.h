/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ivshmd server core: owns the shared memory, the listening sockets and
 * every peer's eventfds, and speaks QEMU's ivshmem server protocol. It never
 * blocks; main.c drives it from its own loop:
 *
 *   ivshmd_server_new() -> ivshmd_server_start() ->
 *   loop { poll(ivshmd_server_fd(), ivshmd_server_timeout()); ivshmd_server_handle(); } ->
 *   ivshmd_server_free()
 */
#ifndef IVSHMD_SERVER_H
#define IVSHMD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "deployment.h"
#include "proto.h"
#include "shm.h"

/* Not QEMU's 4M: a default channel ring (256 KiB, two per arena) needs 64M (ivshmd.8). */
#define IVSHMD_DEFAULT_SIZE     (UINT64_C(64) << 20)
#define IVSHMD_DEFAULT_VECTORS  1
#define IVSHMD_DEFAULT_MAX_PEERS 256
#define IVSHMD_DEFAULT_MODE     0660
#define IVSHMD_DEFAULT_SEND_TIMEOUT_MS 10000
#define IVSHMD_MAX_PEERS        (IVSHMEM_MAX_PEER_ID + 1)
#define IVSHMD_MAX_PINS         64
#define IVSHMD_PIN_NAME_MAX     32
#define IVSHMD_MAX_ALLOW        16
/* The control socket, <socket>.ctl, so "ctl" cannot name a pinned peer. */
#define IVSHMD_CTL_SUFFIX       "ctl"

struct ivshmd_server;

/* A user or group that may take a pinned ID. */
struct ivshmd_allow {
	bool group;
	uint32_t id;		/* uid or gid */
};

/*
 * A named peer that always gets id and connects on <socket>.<name>. With an
 * allow-list, only a connection whose SO_PEERCRED uid or gid is on it (or
 * ivshmd's own user) may take the ID.
 */
struct ivshmd_pin {
	char name[IVSHMD_PIN_NAME_MAX + 1];
	unsigned id;
	unsigned nallow;
	struct ivshmd_allow allow[IVSHMD_MAX_ALLOW];
};

struct ivshmd_config {
	const char *socket_path;
	enum ivshmd_shm_kind shm_kind;
	const char *shm_where;		/* POSIX name or directory */
	uint64_t shm_size;
	unsigned vectors;		/* eventfds per peer, 0..64 (0: memory only, no doorbells) */
	unsigned max_peers;		/* connected peers, pinned ones included */
	size_t queue_limit;		/* messages queued per peer; 0: default */
	unsigned send_timeout_ms;	/* a peer whose queue stalls this long is dropped */
	mode_t sock_mode;		/* no bits for others allowed */
	gid_t sock_gid;			/* (gid_t)-1: the process's group */
	const struct ivshmd_pin *pins;	/* copied by ivshmd_server_new() */
	unsigned npins;
	unsigned uid_quota;		/* unpinned peers per user; 0: the default */
	bool shm_reuse;			/* -M: share an existing object */
	bool publish_peers;		/* keep the server page of contracts/ivshm-shm.h (default) */
};

/*
 * Smallest queue limit for a configuration: a full setup (version, ID,
 * memory and every peer's vectors) must fit. The default is that plus room
 * for two rounds of joins (or, without vectors, departures) by every other
 * peer.
 */
size_t ivshmd_queue_min(unsigned vectors, unsigned max_peers);
size_t ivshmd_queue_default(unsigned vectors, unsigned max_peers);

/*
 * Unpinned peers one user may hold at once by default: half the unpinned
 * slots (at least one), so no single user can fill the server.
 */
unsigned ivshmd_uid_quota_default(unsigned max_peers, unsigned npins);

struct ivshmd_inherited;

/*
 * Validate cfg and create the shared memory, or take back the memory kept
 * across a restart (in: the fds kept, or NULL). Logs why and returns a
 * negative errno on failure (-EINVAL for a bad configuration); on success
 * *out is a new server the caller frees with ivshmd_server_free(). The fds
 * in stay the caller's until ivshmd_server_start(), which uses what fits
 * and closes the rest.
 */
int ivshmd_server_new(const struct ivshmd_config *cfg, struct ivshmd_inherited *in,
		      struct ivshmd_server **out);

/*
 * Create the listening sockets (main, pinned, control) or take back kept
 * ones, and the peers kept across a restart. Logs and returns -errno on
 * failure.
 */
int ivshmd_server_start(struct ivshmd_server *s);

/* An fd that polls readable when ivshmd_server_handle() has work. */
int ivshmd_server_fd(const struct ivshmd_server *s);

/* Milliseconds until the next deadline (stalled peer or listing, paused accept), or -1. */
int ivshmd_server_timeout(const struct ivshmd_server *s);

/* Do all pending work without blocking. Returns 0, or a negative errno if the server is unusable. */
int ivshmd_server_handle(struct ivshmd_server *s);

/* Whether every peer's queue has drained (nothing half-sent: a re-exec loses nothing). */
bool ivshmd_server_settled(const struct ivshmd_server *s);

/*
 * Call fn with every fd a restarted server can take back and its store name
 * (store.h); stops at the first non-zero return, which it returns.
 */
int ivshmd_server_foreach_fd(const struct ivshmd_server *s,
			     int (*fn)(void *ctx, int fd, const char *name), void *ctx);

/*
 * Disconnect every peer (they see EOF), remove the sockets this server
 * created and free the memory unless another process holds it. Accepts NULL.
 */
void ivshmd_server_free(struct ivshmd_server *s);

#endif
