/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libivshm private declarations: the handle and the internal entry points the
 * unit tests call directly (with a fake sysfs tree instead of /sys and /dev).
 * Not installed; nothing here is exported from the shared library.
 */
#ifndef IVSHM_INTERNAL_H
#define IVSHM_INTERNAL_H

#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <syslog.h>

#include "ivshm.h"
#include "ivshm-shm.h"
#include "uio_ivshmem.h"

#define IVSHM_NR_MAPS 3

/* What discovery learnt from sysfs, all validated. */
struct ivshm_devinfo {
	unsigned int uio_index;		/* N of uioN */
	char pci_addr[32];		/* "" when the device link is missing */
	enum ivshm_mode mode;
	unsigned int nr_vectors;
	int peer_id;			/* -1 for plain */
	uint64_t map_size[IVSHM_NR_MAPS];	/* page-rounded, as mmap needs */
	uint64_t map_offset[IVSHM_NR_MAPS];	/* start of the region within its first page */
};

/* What we last saw of another peer's heartbeat, on our own clock. */
struct ivshm_watch {
	uint64_t owner, epoch;		/* whose heartbeat this is */
	uint64_t heartbeat;
	int64_t since_ms;		/* when it last moved (or we first saw it) */
	uint32_t bad_seq;		/* seq of a corrupt publication already logged */
	unsigned char seen, moved, bad_logged;
};

/* What we last saw of the server's tick, on our own clock. */
struct ivshm_tick_watch {
	uint32_t tick;
	int64_t since_ms;		/* when it last moved (or we first saw it) */
	unsigned char seen;
};

/* How often a published peer bumps its heartbeat. */
#define IVSHM_HEARTBEAT_MS 250
/* Ports one handle listens on (ivshm_listen()). */
#define IVSHM__MAX_LISTENS 64
/* A LIVE slot whose heartbeat stood still this many periods belongs to a dead peer. */
#define IVSHM_DEAD_PERIODS 4

/* What liveness.c can tell of a slot's owner now. */
enum ivshm_life {
	IVSHM_LIFE_ALIVE,	/* a sign of life within the bound */
	IVSHM_LIFE_DEAD,	/* the server says it left, or its heartbeat stopped */
	IVSHM_LIFE_UNSURE,	/* first look, no ticking server: watch it a little longer */
};

/* Our channel table entry i, as we wrote it (channel.c). */
struct ivshm_end {
	struct ivshm_chan *ch;		/* the open channel on it; NULL when not open */
	uint32_t state;			/* IVSHM_SHM_CHAN_*: FREE, OPEN, CLOSED (quarantined) */
	uint64_t half_off, half_size;	/* its half in our heap; size 0: none yet */
	/* Who may still read a CLOSED end: the peer end it was connected to. */
	unsigned int peer_id, peer_slot, peer_entry;
	uint32_t port;
	uint64_t peer_epoch;
	int connected;
};

/* The directory view of one peer: the shared memory and the slot it claimed. */
struct ivshm_region {
	char *base;
	size_t size;
	struct ivshm_shm_layout l;	/* computed from size, never read from memory */
	struct ivshm_dev *dev;		/* the handle this region belongs to (NULL in tests) */
	int self_id;			/* -1: no peer ID, cannot publish */
	int attached, published;
	int lost;			/* our slot was taken over: calls say -ENOTCONN */
	int slot;			/* claimed slot, -1 none */
	uint64_t owner;			/* the owner word we wrote when claiming */
	uint32_t claim_gen;		/* grows with every claim and loss: channels check it */
	uint32_t seq;			/* private copy of our slot's seq */
	uint64_t epoch, heartbeat;
	int64_t hb_next_ms;
	unsigned int hb_calls;		/* calls that did not wait, since the clock was last read */
	char role[IVSHM_SHM_ROLE_MAX];	/* what we published, for the GONE rewrite */
	unsigned int vector;
	uint64_t heap_next;		/* next free byte of our arena's channel heap */
	struct ivshm_watch watch[IVSHM_SHM_MAX_SLOTS];
	struct ivshm_tick_watch tick;
	struct ivshm_end ends[IVSHM_SHM_MAX_CHANS];
	struct ivshm_chan *chans;	/* every channel not yet closed, for ivshm_poll() */
	/* Ports ivshm_poll() reports requests on (ivshm_listen()), and when it looks next. */
	struct ivshm_listen {
		uint32_t port;
		int used;
		void *data;
	} listens[IVSHM__MAX_LISTENS];
	int64_t listen_next_ms;
};

/*
 * How a handle reaches its device: a uio_ivshmem device in a guest (uio.c),
 * a connection to the doorbell server on the host (host.c), or plain memory
 * in the unit tests. Everything above (directory, channels) goes through it.
 */
struct ivshm_ops {
	/* Ring @vector of @peer; the caller has already ordered its stores. */
	int (*ring)(struct ivshm_dev *dev, unsigned int peer, unsigned int vector);
	/*
	 * The interrupt count of every vector since the device appeared, into
	 * @now[0..nr_vectors), consuming pending wake-ups without blocking.
	 * Returns 0, -ENODEV (device gone) or -errno.
	 */
	int (*counts)(struct ivshm_dev *dev, uint64_t *now);
	/* Sleep until an interrupt may have arrived or @timeout_ms passed; 0, -ENODEV, -errno. */
	int (*block)(struct ivshm_dev *dev, int timeout_ms);
	/* Undo what the backend set up (maps, fds); the handle itself is freed by the caller. */
	void (*release)(struct ivshm_dev *dev);
	/* 0, or -ENOLINK once the doorbell server went away (host); NULL: always 0. */
	int (*link)(struct ivshm_dev *dev);
	/*
	 * Whether the server told this backend that peer @id is connected: 1, 0,
	 * or -1 (it cannot tell); NULL: -1.
	 */
	int (*peer_present)(struct ivshm_dev *dev, unsigned int id);
};


struct ivshm_dev {
	const struct ivshm_ops *ops;
	int fd;				/* pollable: /dev/uioN, or an epoll fd on the host; -1 none */
	char path[108];			/* /dev/uioN or the server's socket */
	char pci_addr[32];
	enum ivshm_mode mode;
	unsigned int nr_vectors;
	int peer_id;
	void *shm;
	size_t shm_size;
	uint64_t snapshot[UIO_IVSHMEM_MAX_VECTORS];
	struct ivshm_region region;
	int region_err;			/* from ivshm__region_init(): the memory is too small */
	void *priv;			/* the backend's own state (uio.c, host.c, the tests') */
};

/*
 * A handle over @shm (@size bytes) for backend @ops, peer @peer_id (-1: none)
 * with @nr_vectors vectors; the caller fills the backend's fields after.
 * Returns the handle or NULL (out of memory).
 */
struct ivshm_dev *ivshm__dev_new(const struct ivshm_ops *ops, void *shm, size_t size,
				 int peer_id, unsigned int nr_vectors);

/* The shared memory of @dev once the backend mapped it (and the peer ID it is seen with). */
void ivshm__dev_set_memory(struct ivshm_dev *dev, void *shm, size_t size);

/* Log that @func needs interrupts @dev does not have, and return -ENOTSUP. */
int ivshm__no_doorbell(const struct ivshm_dev *dev, const char *func);

/* The backend's link to the server: 0 or -ENOLINK (logged once). */
int ivshm__dev_link(struct ivshm_dev *dev);

/* The directory of @dev for a public call: 0, or why there is none (-ENOLINK, -EMSGSIZE). */
int ivshm__region_of(struct ivshm_dev *dev, struct ivshm_region **r);

/* Take the current counts as the baseline ivshm_wait() reports from. */
int ivshm__dev_baseline(struct ivshm_dev *dev);

/* log.c: one line for the application's log function (see ivshm_set_log_fn()). */
void ivshm__log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log that @func refused its arguments (@what: which), and return -EINVAL. */
int ivshm__bad_arg(const char *func, const char *what);

/* sysfs.c */
int ivshm__read_attr(const char *path, char *buf, size_t len);
int ivshm__parse_int(const char *s, int min, int max, int *out);

/* discover.c: @sysroot replaces "/sys" (tests point it at a fake tree). */
int ivshm__discover(const char *sysroot, const char *device, struct ivshm_devinfo *info);

/* uio.c: @devroot replaces "/dev". */
int ivshm__open_root(const char *sysroot, const char *devroot, const char *device,
		     struct ivshm_dev **devp);

/*
 * notify.c: the pure part of ivshm_wait(): compare @now with @snapshot for
 * @nr vectors, report fired vectors and merged events, and update @snapshot.
 */
int ivshm__consume(struct ivshm_dev *dev, uint64_t *fired, uint64_t *coalesced);
void ivshm__counters_diff(uint64_t *snapshot, const uint64_t *now, unsigned int nr,
			  uint64_t *fired, uint64_t *coalesced);

/*
 * directory.c: the peer directory on any memory (tests give it a buffer).
 * ivshm__region_init() computes the layout only; the first use attaches
 * (writes or checks the region header).
 */
int ivshm__region_init(struct ivshm_region *r, void *base, size_t size, int self_id);
int ivshm__attach(struct ivshm_region *r);
/* Claim a slot (and its arena) if we hold none, before @deadline_ms; publishing is separate. */
int ivshm__claim(struct ivshm_region *r, int64_t deadline_ms);
int ivshm__publish(struct ivshm_region *r, const char *role, unsigned int vector, uint64_t user);
int ivshm__unpublish(struct ivshm_region *r);
/* The publication of peer @id (a live one first) and, if @slot, its slot. */
int ivshm__lookup(struct ivshm_region *r, unsigned int id, struct ivshm_peer *p,
		  unsigned int *slot);
int ivshm__list_peers(struct ivshm_region *r, struct ivshm_peer *peers, unsigned int max,
		      unsigned int *n);
/*
 * One pass over the directory for a live peer under @role: 0 with *p,
 * -ENOENT, or -EAGAIN when one is there but not yet confirmed alive (a first
 * look without a ticking server: look again).
 */
int ivshm__find_once(struct ivshm_region *r, const char *role, struct ivshm_peer *p);
/* The user page of peer @id's arena (ours: claimed if need be). */
int ivshm__user_area(struct ivshm_region *r, unsigned int id, void **addr, size_t *size);
char *ivshm__arena_at(const struct ivshm_region *r, unsigned int slot);
struct ivshm_shm_slot *ivshm__slot_at(const struct ivshm_region *r, unsigned int slot);
/* Whether @role is one ivshm_publish() accepts; logs why not. */
int ivshm__role_ok(const char *role);
/* The publication in slot @i: 0, -ENOENT, -EAGAIN, -EUCLEAN; *@life how alive its owner is. */
int ivshm__read_slot(struct ivshm_region *r, unsigned int i, struct ivshm_peer *p,
		     enum ivshm_life *life);
/* Whether our claim still stands (a peer that saw us dead may have taken the slot). */
int ivshm__still_ours(struct ivshm_region *r);
/* Bump our heartbeat if its period passed (@force: now). Returns 0 or -ENOTCONN (slot lost). */
int ivshm__heartbeat(struct ivshm_region *r, int force);
/*
 * A data-path call went on without waiting (no nap beat for it): every
 * IVSHM_BUSY_BEAT_CALLS of them, the heartbeat if due, so a peer busy for
 * longer than the dead bound is not taken for dead by others' lookups.
 */
#define IVSHM_BUSY_BEAT_CALLS 16
static inline void ivshm__busy_beat(struct ivshm_region *r)
{
	if (++r->hb_calls >= IVSHM_BUSY_BEAT_CALLS) {
		r->hb_calls = 0;
		(void)ivshm__heartbeat(r, 0);
	}
}

/* Milliseconds until the next heartbeat is due, -1 when not published. */
int ivshm__heartbeat_due_ms(const struct ivshm_region *r);

/*
 * liveness.c: whether the owner of slot @i (owner word @owner, incarnation
 * @epoch, heartbeat period @hb_period_ms) shows signs of life: the server
 * page's word on its ID, then its heartbeat (against the server's tick when
 * there is one, else as we watched it move).
 */
enum ivshm_life ivshm__owner_life(struct ivshm_region *r, unsigned int i, uint64_t owner,
				  uint64_t epoch, uint32_t hb_period_ms);
/*
 * The same for a slot whose owner claimed it but has not published (or is
 * mid-write): the server's word, else the heartbeat as we watched it (its
 * hb_tick may still be the previous owner's).
 */
enum ivshm_life ivshm__claimer_life(struct ivshm_region *r, unsigned int i, uint64_t owner);
/*
 * The server's word on whether peer @id is connected: 1, 0, or -1 (no
 * word: no page, a stale page, or an ID it does not cover), then the
 * backend's (a host handle knows every peer from the server's messages).
 */
int ivshm__peer_connected(struct ivshm_region *r, unsigned int id);
/* The server's tick for our heartbeat: 0 when no ticking server publishes one. */
uint32_t ivshm__server_tick(struct ivshm_region *r);

/* limits.c: what a region of this size allows (ivshm_get_limits()). */
#define IVSHM__MIN_RING 4096u
uint32_t ivshm__max_ring(const struct ivshm_region *r);
uint32_t ivshm__default_ring(const struct ivshm_region *r);
uint32_t ivshm__max_msg(uint32_t ring);

/* ring.c: one ring of a channel, on index values the caller loaded once. */
int ivshm__ring_used(uint32_t prod, uint32_t cons, uint32_t size, uint32_t *used);
void ivshm__ring_put(char *ring, uint32_t size, uint32_t at, const void *src, uint32_t len);
void ivshm__ring_get(const char *ring, uint32_t size, uint32_t at, void *dst, uint32_t len);
/*
 * The two below are inline: every record a batch moves passes them, and a
 * call each costs as much as the rest of the record's work (under TCG, where
 * guests pay per instruction).
 */
/* Bytes a record of @len payload bytes takes. */
static inline uint32_t ivshm__rec_span(uint32_t len)
{
	return (uint32_t)sizeof(struct ivshm_shm_rec) +
	       ((len + IVSHM_SHM_REC_ALIGN - 1) & ~(IVSHM_SHM_REC_ALIGN - 1));
}

/*
 * Check the record header @h copied from position @cons, with @avail bytes
 * published and @max_msg the sender's maximum; *@span receives the bytes to
 * skip. Returns 0 or -EPROTO (logged).
 */
static inline int ivshm__rec_check(const struct ivshm_shm_rec *h, uint32_t cons, uint32_t size,
				   uint32_t avail, uint32_t max_msg, uint32_t *span)
{
	uint32_t pos = cons & (size - 1), to_end = size - pos, need;

	if (h->flags & ~IVSHM_SHM_REC_PAD) {
		ivshm__log(LOG_ERR, "channel record at %u: unknown flags %#x", cons, h->flags);
		return -EPROTO;
	}
	if (h->flags & IVSHM_SHM_REC_PAD) {
		/*
		 * A pad fills exactly the rest of the ring, and never all of it: a
		 * record always fits an empty ring, so no sender pads from 0. That
		 * also bounds a reader to one pad per record.
		 */
		if (h->len != to_end - sizeof(*h) || to_end > avail || to_end == size) {
			ivshm__log(LOG_ERR, "channel record at %u: pad of %u bytes, %u to the ring's end",
				   cons, h->len, to_end);
			return -EPROTO;
		}
		*span = to_end;
		return 0;
	}
	if (h->len > max_msg || h->len > size) {
		ivshm__log(LOG_ERR, "channel record at %u: %u bytes, the peer's maximum is %u", cons,
			   h->len, max_msg);
		return -EPROTO;
	}
	need = ivshm__rec_span(h->len);
	if (need > avail || need > to_end) {
		ivshm__log(LOG_ERR, "channel record at %u: %u bytes, %u published, %u to the ring's end",
			   cons, need, avail, to_end);
		return -EPROTO;
	}
	*span = need;
	return 0;
}

#endif /* IVSHM_INTERNAL_H */
