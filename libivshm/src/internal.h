/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libivshm private declarations: the handle and the internal entry points the
 * unit tests call directly (with a fake sysfs tree instead of /sys and /dev).
 * Not installed; nothing here is exported from the shared library.
 */
#ifndef IVSHM_INTERNAL_H
#define IVSHM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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
	uint64_t epoch;
	uint64_t heartbeat;
	int64_t since_ms;
	uint32_t bad_seq;	/* seq of a corrupt publication already logged */
	unsigned char seen, bad_logged;
};

/* How often a published peer bumps its heartbeat. */
#define IVSHM_HEARTBEAT_MS 250

/* The directory view of one peer: the shared memory and the slot it claimed. */
struct ivshm_region {
	char *base;
	size_t size;
	struct ivshm_shm_layout l;	/* computed from size, never read from memory */
	int self_id;			/* -1: no peer ID, cannot publish */
	int attached, published;
	int slot;			/* claimed slot, -1 none */
	uint64_t owner;			/* the owner word we wrote when claiming */
	uint32_t seq;			/* private copy of our slot's seq */
	uint64_t epoch, heartbeat;
	int64_t hb_next_ms;
	char role[IVSHM_SHM_ROLE_MAX];	/* what we published, for the GONE rewrite */
	unsigned int vector;
	uint64_t heap_next;		/* next free byte of our arena's channel heap */
	struct ivshm_watch watch[IVSHM_SHM_MAX_SLOTS];
	/* Our channel table, as we wrote it: entry i's channel and its half. */
	struct ivshm_chan *chans[IVSHM_SHM_MAX_CHANS];
	uint64_t half_off[IVSHM_SHM_MAX_CHANS], half_size[IVSHM_SHM_MAX_CHANS];
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
	/*
	 * Whether the handle still reaches the server's world: 0, or -ENOLINK (a
	 * host handle whose server went away). Cheap enough for every call.
	 * NULL: always 0.
	 */
	int (*link)(struct ivshm_dev *dev);
	/*
	 * Whether peer @id is connected, as the server told us: 1 yes, 0 no,
	 * -1 cannot tell (guests, plain memory, a lost server). NULL: -1.
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
	void *priv;			/* the backend's */
	/* uio.c */
	void *map[IVSHM_NR_MAPS];
	size_t map_len[IVSHM_NR_MAPS];
	volatile uint32_t *regs;
	const uint64_t *counts;		/* the counter page's count[], at its hdr_size */
};

/* dev->ops->link(), 0 for backends without one. */
static inline int ivshm__link(struct ivshm_dev *dev)
{
	return dev->ops->link ? dev->ops->link(dev) : 0;
}

/* dev->ops->peer_present(), -1 for backends without one. */
static inline int ivshm__peer_present(struct ivshm_dev *dev, unsigned int id)
{
	return dev->ops->peer_present ? dev->ops->peer_present(dev, id) : -1;
}

/*
 * A handle over @shm (@size bytes) for backend @ops, peer @peer_id (-1: none)
 * with @nr_vectors vectors; the caller fills the backend's fields after.
 * Returns the handle or NULL (out of memory).
 */
struct ivshm_dev *ivshm__dev_new(const struct ivshm_ops *ops, void *shm, size_t size,
				 int peer_id, unsigned int nr_vectors);

/* The shared memory of @dev once the backend mapped it (and the peer ID it is seen with). */
void ivshm__dev_set_memory(struct ivshm_dev *dev, void *shm, size_t size);

/* Take the current counts as the baseline ivshm_wait() reports from. */
int ivshm__dev_baseline(struct ivshm_dev *dev);

/* log.c: one line for the application's log function (see ivshm_set_log_fn()). */
void ivshm__log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
/* Claim a slot (and its arena) if we hold none; publishing is separate. */
int ivshm__claim(struct ivshm_region *r);
int ivshm__publish(struct ivshm_region *r, const char *role, unsigned int vector, uint64_t user);
int ivshm__unpublish(struct ivshm_region *r);
/* The publication of peer @id (a live one first) and, if @slot, its slot. */
int ivshm__lookup(struct ivshm_region *r, unsigned int id, struct ivshm_peer *p,
		  unsigned int *slot);
int ivshm__list_peers(struct ivshm_region *r, struct ivshm_peer *peers, unsigned int max,
		      unsigned int *n);
/* One pass over the directory: 0 with *p, or -ENOENT. */
int ivshm__find_once(struct ivshm_region *r, const char *role, struct ivshm_peer *p);
/* The user page of peer @id's arena (ours: claimed if need be). */
int ivshm__user_area(struct ivshm_region *r, unsigned int id, void **addr, size_t *size);
char *ivshm__arena_at(const struct ivshm_region *r, unsigned int slot);
int ivshm__role_ok(const char *role, size_t max);
/* Copy the seqlocked structure at @shared (seq first) between two equal, even seq loads. */
int ivshm__seq_copy(const void *shared, void *out, size_t len);
/* Rewrite our seqlocked structure at @shared from @val; *@seq is our private copy. */
void ivshm__seq_write(void *shared, const void *val, size_t len, uint32_t *seq);
/* The publication in slot @i: 0, -ENOENT, -EAGAIN, -EUCLEAN. */
int ivshm__read_slot(struct ivshm_region *r, unsigned int i, struct ivshm_peer *p);
/* Bump our heartbeat if its period passed (@force: now). */
void ivshm__heartbeat(struct ivshm_region *r, int force);
/* Milliseconds until the next heartbeat is due, -1 when not published. */
int ivshm__heartbeat_due_ms(const struct ivshm_region *r);

/*
 * channel.c, for the tests: start both rings of @ch's end at @base, as if
 * that many bytes had gone each way. Both ends, before any traffic.
 */
void ivshm__chan_rebase(struct ivshm_chan *ch, uint32_t base);

/* limits.c: what a region of this size allows (ivshm_get_limits()). */
#define IVSHM__MIN_RING 4096u
uint32_t ivshm__max_ring(const struct ivshm_region *r);
uint32_t ivshm__default_ring(const struct ivshm_region *r);
uint32_t ivshm__max_msg(uint32_t ring);

/* ring.c: one ring of a channel, on index values the caller loaded once. */
int ivshm__ring_used(uint32_t prod, uint32_t cons, uint32_t size, uint32_t *used);
void ivshm__ring_put(char *ring, uint32_t size, uint32_t at, const void *src, uint32_t len);
void ivshm__ring_get(const char *ring, uint32_t size, uint32_t at, void *dst, uint32_t len);
/* Bytes a record of @len payload bytes takes. */
uint32_t ivshm__rec_span(uint32_t len);
/*
 * Check the record header @h copied from position @cons, with @avail bytes
 * published and @max_msg the sender's maximum; *@span receives the bytes to
 * skip. Returns 0 or -EPROTO (logged).
 */
int ivshm__rec_check(const struct ivshm_shm_rec *h, uint32_t cons, uint32_t size,
		     uint32_t avail, uint32_t max_msg, uint32_t *span);

#endif /* IVSHM_INTERNAL_H */
