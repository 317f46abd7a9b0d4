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
};

struct ivshm_dev {
	int fd;
	char uio_path[64];
	char pci_addr[32];
	enum ivshm_mode mode;
	unsigned int nr_vectors;
	int peer_id;
	void *map[IVSHM_NR_MAPS];
	size_t map_len[IVSHM_NR_MAPS];
	volatile uint32_t *regs;
	void *shm;
	size_t shm_size;
	const uint64_t *counts;		/* the counter page's count[], at its hdr_size */
	uint64_t snapshot[UIO_IVSHMEM_MAX_VECTORS];
	struct ivshm_region region;
	int region_err;			/* from ivshm__region_init(): the BAR is too small */
};

/* log.c: one line for the application's log function (see ivshm_set_log_fn()). */
void ivshm__log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sysfs.c */
int ivshm__read_attr(const char *path, char *buf, size_t len);
int ivshm__parse_int(const char *s, int min, int max, int *out);

/* discover.c: @sysroot replaces "/sys" (tests point it at a fake tree). */
int ivshm__discover(const char *sysroot, const char *device, struct ivshm_devinfo *info);

/* open.c: @devroot replaces "/dev". */
int ivshm__open_root(const char *sysroot, const char *devroot, const char *device,
		     struct ivshm_dev **devp);

/*
 * notify.c: the pure part of ivshm_wait(): compare @now with @snapshot for
 * @nr vectors, report fired vectors and merged events, and update @snapshot.
 */
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
/* Bump our heartbeat if its period passed (@force: now). */
void ivshm__heartbeat(struct ivshm_region *r, int force);
/* Milliseconds until the next heartbeat is due, -1 when not published. */
int ivshm__heartbeat_due_ms(const struct ivshm_region *r);

#endif /* IVSHM_INTERNAL_H */
