/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals shared by the server core files (server.c, peer.c, ctl.c).
 */
#ifndef IVSHMD_SERVER_PRIV_H
#define IVSHMD_SERVER_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fdref.h"
#include "inherit.h"
#include "listen.h"
#include "log.h"
#include "proto.h"
#include "publish.h"
#include "record.h"
#include "sendq.h"
#include "server.h"
#include "shm.h"

/* What an epoll event's data.ptr points to; the first member of each watched object. */
enum ivshmd_watch {
	WATCH_PEER_LISTENER,
	WATCH_CTL_LISTENER,
	WATCH_PEER,
	WATCH_CTL_CLIENT,
	WATCH_TICK,
};

/*
 * Why a peer is being disconnected; each reason has its log text and level
 * (peer.c). Only a peer hanging up is routine.
 */
enum ivshmd_leave {
	IVSHMD_LEAVE_NONE,		/* still connected */
	IVSHMD_LEAVE_CLOSED,		/* hung up */
	IVSHMD_LEAVE_LOST,		/* error or hang-up reported by epoll */
	IVSHMD_LEAVE_SENT_DATA,		/* spoke on a server-to-client protocol */
	IVSHMD_LEAVE_RECV_FAILED,
	IVSHMD_LEAVE_SEND_FAILED,
	IVSHMD_LEAVE_OVERFLOW,		/* queue limit reached: not reading */
	IVSHMD_LEAVE_QUEUE_FAILED,	/* queueing a message failed (memory) */
	IVSHMD_LEAVE_STALLED,		/* no progress for --send-timeout */
	IVSHMD_LEAVE_EPOLL_FAILED,
	IVSHMD_LEAVE_RESTART,		/* not kept across a restart */
};

struct ivshmd_peer_listener {
	enum ivshmd_watch watch;
	struct ivshmd_listener l;
	int pin;	/* index into pins, -1 for the main socket */
};

/* A connected peer: a QEMU ivshmem-doorbell device or any other client of the protocol. */
struct ivshmd_peer {
	enum ivshmd_watch watch;
	int fd;
	unsigned id;
	int pin;
	struct ucred cred;
	struct ivshmd_fdref *vec[UIO_IVSHMEM_MAX_VECTORS];
	struct ivshmd_sendq q;
	int64_t progress_ms;		/* last byte sent, or queue became non-empty */
	bool want_out;			/* EPOLLOUT armed: the queue is stuck on a full socket */
	bool stall_warned;		/* its stall was logged at half the send timeout */
	bool dirty;			/* recorded DIRTY: messages on their way (record.h) */
	struct ivshmd_peer *next_dirty;
	enum ivshmd_leave why;		/* set once the peer must go */
	int err;			/* errno detail for why, or 0 */
	struct ivshmd_peer *next_dying;
	bool gone;			/* removed, freed at the end of the event batch */
	struct ivshmd_peer *next_gone;
};

struct ivshmd_ctl_client {
	enum ivshmd_watch watch;
	int fd;
	char *buf;
	size_t len;
	size_t off;
	int64_t progress_ms;
	bool done;
	struct ivshmd_ctl_client *next;
};

struct ivshmd_server {
	unsigned vectors;
	unsigned max_peers;
	size_t queue_limit;
	unsigned send_timeout_ms;
	mode_t sock_mode;
	gid_t sock_gid;
	char *socket_path;
	struct ivshmd_pin *pins;
	unsigned npins;
	uint8_t *pinned_ids;		/* bitmap over all IDs */

	struct ivshmd_shm shm;
	struct ivshmd_fdref *shm_ref;
	struct ivshmd_record rec;
	struct ivshmd_publish pub;
	bool publish_peers;
	struct {
		enum ivshmd_watch watch;
		int fd;			/* timerfd of the server page's tick; -1 none */
	} tick;
	struct ivshmd_inherited *inherited;	/* fds kept from before a restart, until started */

	int epfd;
	int reserve_fd;			/* spent to shed a connection on EMFILE */
	struct ivshmd_peer_listener *listeners;	/* main socket, then one per pin */
	unsigned nlisteners;
	struct {
		enum ivshmd_watch watch;
		struct ivshmd_listener l;
	} ctl;
	int64_t accept_resume_ms;	/* listeners paused until then; 0: not paused */
	struct ivshm_ratelimit accept_log;
	struct ivshm_ratelimit refuse_log;	/* refused peers: a flood must not flood the log */

	struct ivshmd_peer **by_id;	/* IVSHMD_MAX_PEERS entries */
	unsigned id_hi;			/* one past the highest ID in use */
	unsigned next_id;		/* where the search for an unpinned ID starts */
	unsigned uid_quota;
	unsigned npeers;
	unsigned nunpinned;
	struct ivshmd_peer *dying;	/* peers with why set, not yet removed */
	struct ivshmd_peer *dirty;	/* peers recorded DIRTY */
	unsigned nstuck;		/* peers with want_out */
	struct ivshmd_peer *graveyard;

	struct ivshmd_ctl_client *ctls;
	unsigned nctls;
};

/* peer.c */
void ivshmd_peer_accept(struct ivshmd_server *s, struct ivshmd_peer_listener *pl);
void ivshmd_peer_event(struct ivshmd_server *s, struct ivshmd_peer *p, uint32_t events);
/* Marks p to be disconnected for why (err: errno detail or 0); the first reason sticks. */
void ivshmd_peer_fail(struct ivshmd_server *s, struct ivshmd_peer *p, enum ivshmd_leave why,
		      int err);
/* Whether p is connected and not marked to leave. Accepts NULL. */
bool ivshmd_peer_alive(const struct ivshmd_peer *p);
/* Removes failed peers and announces their departure; safe between events. */
void ivshmd_peer_reap(struct ivshmd_server *s);
/* Frees peers removed during the current event batch. */
void ivshmd_peer_bury(struct ivshmd_server *s);
void ivshmd_peer_check_deadlines(struct ivshmd_server *s, int64_t now);
/* Earliest send deadline, or 0 when no peer is stuck. */
int64_t ivshmd_peer_next_deadline(const struct ivshmd_server *s);
void ivshmd_peer_disconnect_all(struct ivshmd_server *s);
/* Records every peer whose queue has drained as CLEAN; between events. */
void ivshmd_peer_settle(struct ivshmd_server *s);
/* Whether every peer is recorded CLEAN. */
bool ivshmd_peer_all_clean(const struct ivshmd_server *s);
/*
 * Take back the peers a restarted server kept (names in store.h): those
 * recorded CLEAN with their connection and every eventfd; any other recorded
 * peer is dropped and announced as gone to the ones kept.
 */
void ivshmd_peer_restore(struct ivshmd_server *s, struct ivshmd_inherited *in);
/* Hand every kept fd to fn with its store name (for a re-exec). */
int ivshmd_peer_foreach_fd(const struct ivshmd_server *s,
			   int (*fn)(void *ctx, int fd, const char *name), void *ctx);

/* ctl.c */
void ivshmd_ctl_accept(struct ivshmd_server *s);
void ivshmd_ctl_event(struct ivshmd_server *s, struct ivshmd_ctl_client *c, uint32_t events);
void ivshmd_ctl_check_deadlines(struct ivshmd_server *s, int64_t now);
int64_t ivshmd_ctl_next_deadline(const struct ivshmd_server *s);
void ivshmd_ctl_reap(struct ivshmd_server *s);
void ivshmd_ctl_close_all(struct ivshmd_server *s);

/* server.c */
/* Stop accepting peers for a moment (EMFILE with no reserve fd left, ENOBUFS). */
void ivshmd_server_pause_accept(struct ivshmd_server *s);

#endif
