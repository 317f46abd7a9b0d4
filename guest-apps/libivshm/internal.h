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

#endif /* IVSHM_INTERNAL_H */
