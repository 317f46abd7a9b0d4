/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshm-proxy's run-time state: the device, the links to peer proxies (one
 * libivshm packet channel each, contracts/ivshm-proxy.h), the connections
 * multiplexed over them, the listeners of imports and the control socket,
 * all driven by one epoll loop (loop.c). Everything is single-threaded.
 *
 *   client --> listener (import) --> conn --\                /--> conn --> target (export)
 *                                            link == channel ==
 *   client <-- ...                  <-- conn --/                \--  ...
 */
#ifndef PROXY_PROXY_H
#define PROXY_PROXY_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "credit.h"
#include "frame.h"
#include "ivshm.h"
#include "list.h"
#include "log.h"
#include "rxbuf.h"

/* What an epoll event's data points at: each of these structs starts with one. */
enum watch_kind {
	W_DEVICE = 1,
	W_SIGNAL,
	W_LISTEN,
	W_CONN,
	W_CONTROL,
	W_CONTROL_CLIENT,
};

struct watch {
	enum watch_kind kind;
};

struct proxy;
struct link;

/* An import's listening socket. */
struct listener {
	struct watch w;
	int fd;
	const struct import_cfg *imp;
	char local[128];		/* the address it is bound to (a port 0's port) */
	int inherited;			/* passed by systemd (socket activation): not ours to remove */
	unsigned int conns;		/* live connections */
	uint64_t accepted, refused;	/* refused: no peer, or it said no */
	int64_t retry_ms;		/* no link attempt to its peer before this */
	unsigned int backoff_ms;
	int64_t paused_until;		/* out of file descriptors: not accepting until then */
};

/* An export's counters, beside its configuration. */
struct export_stats {
	unsigned int conns;
	uint64_t opened, refused;
};

enum conn_state {
	CONN_OPENING = 1,	/* we opened (import): OPEN owed or sent, waiting for the answer */
	CONN_CONNECTING,	/* they opened (export): connecting to the target */
	CONN_ACCEPTING,		/* connected; ACCEPT owed */
	CONN_OPEN,		/* data flows */
	CONN_DONE,		/* our side is over (no socket); waiting to send or get a final frame */
};

struct conn {
	struct watch w;
	struct link *link;
	uint32_t id;
	int fd;				/* -1 once closed */
	enum conn_state state;
	unsigned int opener : 1;	/* we opened it (an import) */
	unsigned int seqpacket : 1;
	unsigned int rd_ready : 1;	/* the socket may have data (edge-triggered) */
	unsigned int rd_hup : 1;	/* epoll said the other end shut down: the end is queued */
	unsigned int wr_ready : 1;	/* the socket may take data */
	unsigned int rd_eof : 1;	/* our socket said end of stream */
	unsigned int shut_sent : 1;	/* SHUTDOWN went to the peer */
	unsigned int peer_shut : 1;	/* the peer's SHUTDOWN came */
	unsigned int wr_shut : 1;	/* our socket was shut down for writing */
	unsigned int sent_final : 1;
	unsigned int got_final : 1;
	/* Control frames owed, in the order they go out (link_io.c). */
	unsigned int want_open : 1;
	unsigned int want_accept : 1;
	unsigned int want_credit : 1;
	unsigned int want_shutdown : 1;
	unsigned int want_reset : 1;
	unsigned int want_close : 1;
	uint8_t want_refuse;		/* enum ivshm_proxy_refusal owed, 0 none */
	struct credit cr;
	uint32_t need;			/* seqpacket: credit the next message needs */
	struct rxbuf buf;
	uint64_t tx_bytes, rx_bytes;	/* payload to and from the peer */
	struct listener *lst;		/* an import's */
	int exp;			/* an export's index, -1 for imports */
	int64_t deadline_ms;		/* CONNECTING: give up then */
	int64_t retry_ms;		/* CONNECTING without a socket: try again then */
	struct list ctl_node;		/* on link->ctl while a want_* is set */
	struct list ready_node;		/* on link->ready while it can send DATA */
	struct list timer_node;		/* on proxy->connecting while CONNECTING */
};

/* Refusals of OPENs that got no connection (an ID out of range), at most this many queued. */
#define LINK_REFUSALS 64

struct link_stats {
	uint64_t records_in, records_out, frames_in, frames_out;
	uint64_t bytes_in, bytes_out;	/* DATA payload */
	uint64_t bad_frames;		/* violations of the protocol by the peer */
	uint64_t batches;
};

struct link {
	struct list node;		/* on proxy->links */
	struct proxy *px;
	unsigned int peer_id;
	uint64_t epoch;			/* the peer's incarnation */
	char role[IVSHM_ROLE_MAX];
	struct ivshm_chan *ch;
	uint32_t max_send;		/* the largest record we send */
	uint32_t max_data;		/* the largest DATA payload we send */
	uint32_t peer_max_conns, peer_max_data;
	unsigned int parity;		/* the low bit of the IDs we open */
	int want_hello, hello_rx;
	int tx_blocked;			/* the ring had no room: wait for it */
	int64_t connect_deadline;	/* opened, the peer has not answered yet: give up then */
	int rx_more;			/* records to read (ivshm_poll() said so, or a budget ran out) */
	const char *dead;		/* why it must go, set by link_fail() */
	struct conn **mine, **theirs;	/* by index: connections we opened, they opened */
	uint32_t n_mine, n_theirs, next_mine;
	struct list ctl, ready;
	struct {
		uint32_t id;
		uint8_t reason;
	} refusals[LINK_REFUSALS];
	unsigned int n_refusals;
	struct link_stats st;
	struct ivshm_ratelimit rl;
};

struct proxy {
	struct proxy_config *cfg;
	struct ivshm_dev *dev;
	struct watch dev_w, sig_w;
	int dev_fd, sig_fd, ep;
	unsigned int self_id;
	int published;
	struct list links;
	unsigned int n_links;
	struct listener *listeners;	/* one per import */
	struct export_stats *exports;	/* one per export */
	struct list connecting;		/* conns waiting for a connect or an answer */
	struct list graveyard;		/* conns freed during this turn of the loop */
	struct control *control;
	int stop;
	int busy;			/* the last turn of the loop did something */
	int64_t last_busy_us;
	int64_t next_accept_ms, accept_until_ms, next_check_ms, next_import_ms;
	int accept_now;			/* ivshm_poll() reported a link request */
	unsigned int unlinked;		/* imports whose peer had no link at the last look */
	int64_t retry_ms;		/* device.c: open or publish again then */
	int open_err;			/* device.c: why the last open failed, 0 if it did not */
	int ready;			/* published once: READY=1 went to systemd */
	int dev_err;			/* a link saw the device's error: device_error() it */
	uint64_t conns_total;
	uint64_t bad_frames;		/* protocol violations, every link's, gone ones too */
	struct ivshm_ratelimit rl_denied, rl_refused, rl_bad;
};

/* conn.c: connections and their sockets. */

/*
 * A connection a client opened on import listener @lst, to go over @l.
 * Takes @fd (closes it on failure). Returns 0, -EBUSY (no ID left), -ENOMEM.
 */
int conn_import(struct link *l, struct listener *lst, int fd);
/* The peer's OPEN @f for ID @id (index @idx of l->theirs, free): the export, or a refusal. */
void conn_export(struct link *l, uint32_t id, uint32_t idx, const struct frame *f);
/* Events of the connection's socket. */
void conn_event(struct conn *c, uint32_t events);
/* Frames for @c (link_io.c dispatches them). */
void conn_frame(struct conn *c, const struct frame *f);
/* The peer broke the protocol on @c: logged, counted and reset. */
void conn_violation(struct conn *c, const char *why);
/* Our side of @c is over for @why (NULL: quietly): socket reset, a final frame owed. */
void conn_fail(struct conn *c, const char *why);
/* A control frame of @c went out: what follows from it. Returns 1 if that freed @c. */
int conn_sent(struct conn *c, uint8_t type);
/* What a read of @asked bytes from @c's socket returned (bytes, 0 at the end, -errno). */
void conn_read_result(struct conn *c, ssize_t r, uint32_t asked);
/* A waiting connection's deadline passed, or its Unix connect is due again. */
void conn_timer(struct conn *c, int64_t now_ms);
/* Put @c on or off its link's lists to match its state. */
void conn_update(struct conn *c);
/* Detach @c at once (the link goes, or the exchange is over); its memory goes to the graveyard. */
void conn_free(struct conn *c);
/* The name of @c's state for the status. */
const char *conn_state_name(const struct conn *c);
/* The service @c carries. */
const char *conn_service(const struct conn *c);
/* Read up to @n bytes (one message for seqpacket, sized by conn_next_size()) into @buf. */
ssize_t conn_read(struct conn *c, void *buf, uint32_t n);
/*
 * Seqpacket: the size of the next message, 0 at the end, or -errno
 * (-EAGAIN: none yet).
 */
ssize_t conn_next_size(struct conn *c);

/* link.c: links to peer proxies. */

/*
 * A link over the channel @ch (taken) to the peer published as @p; @connecting:
 * opened with IVSHM_CHAN_NONBLOCK and not answered yet (link_up() once it is,
 * links_check() gives up on it after a while). NULL on -ENOMEM (@ch closed).
 */
struct link *link_new(struct proxy *px, struct ivshm_chan *ch, const struct ivshm_peer *p,
		      int connecting);
/* The peer answered a connecting link. */
void link_up(struct link *l);
/* Give up on connecting links whose peer did not answer in time. */
void links_check(struct proxy *px, int64_t now);
/* The live link to a peer publishing @role, opening one if need be; NULL if none can be had. */
struct link *link_for_role(struct proxy *px, struct listener *lst);
/*
 * Open the link of every import whose peer is there and has none. Looking
 * often also lets libivshm see a peer alive before its first client comes.
 */
void links_import(struct proxy *px);
/* Accept every link a peer has opened towards us. */
void links_accept(struct proxy *px);
/* Mark @l to go, for @why; links_reap() frees it. */
void link_fail(struct link *l, const char *why);
/* The channel of @l returned @err: the link goes, and the device too if the error is its. */
void link_error(struct link *l, int err);
/* Free the links marked to go, resetting their connections. */
void links_reap(struct proxy *px);
/* Free every link (exit, or the device went away). */
void links_free_all(struct proxy *px, const char *why);
/* The connection with ID @id on @l, NULL if none (*@theirs, *@idx: where it would be). */
struct conn *link_conn(struct link *l, uint32_t id, int *theirs, uint32_t *idx, int *valid);

/* link_io.c: frames in and out of a link's channel. */

/* Read and dispatch up to a budget of records. Returns whether it did anything. */
int link_input(struct link *l);
/* Send owed control frames and DATA from ready connections. Returns whether it did anything. */
int link_output(struct link *l);
/* Whether @l has frames to send that wait for nothing but ring room. */
int link_has_output(const struct link *l);
/* Queue a REFUSE for an OPEN that got no connection. */
void link_refuse(struct link *l, uint32_t id, uint8_t reason);

#endif
