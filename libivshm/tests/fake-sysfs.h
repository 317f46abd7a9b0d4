/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake /sys and /dev for the unit tests, built in a fresh temporary
 * directory with the same links the kernel creates:
 *   sys/devices/pci0000:00/ADDR/{ivshmem_*, uio/uioN/{name,version,maps/...}}
 *   sys/class/uio/uioN -> ../../devices/pci0000:00/ADDR/uio/uioN
 *   sys/class/uio/uioN/device -> ../../../ADDR
 *   sys/bus/pci/devices/ADDR -> ../../../devices/pci0000:00/ADDR
 *   dev/uioN: a regular file laid out like the UIO maps (regs page, shmem,
 *   counter page), so the library can mmap it.
 */
#ifndef FAKE_SYSFS_H
#define FAKE_SYSFS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fake_sysfs {
	char root[PATH_MAX];
	char sys[PATH_MAX];
	char dev[PATH_MAX];
};

/* Every attribute as text; NULL leaves the file out. */
struct fake_uio {
	unsigned int index;
	const char *pci;
	const char *name, *version;
	const char *mode, *vectors, *peer_id;
	const char *map_name[3], *map_size[3], *map_offset[3];
};

int fake_sysfs_create(struct fake_sysfs *fs);
void fake_sysfs_destroy(struct fake_sysfs *fs);
/* cmocka set-up and tear-down: *state is a fresh fake tree (one at a time). */
int fake_sysfs_setup(void **state);
int fake_sysfs_teardown(void **state);

/* A valid doorbell device: 4 vectors, peer 1, one-page maps. */
void fake_uio_doorbell(struct fake_uio *u, unsigned int index, const char *pci);
/* A valid plain device: no vectors, peer -1. */
void fake_uio_plain(struct fake_uio *u, unsigned int index, const char *pci);

int fake_sysfs_add_uio(struct fake_sysfs *fs, const struct fake_uio *u);
/* A PCI device that no UIO driver has bound. */
int fake_sysfs_add_pci(struct fake_sysfs *fs, const char *pci);
/* An arbitrary file under sys/, e.g. to corrupt an attribute. */
int fake_sysfs_write(struct fake_sysfs *fs, const char *rel, const char *text);

/*
 * dev/uioN with a counter page of @magic and @nr_vectors (ABI 2.0 header:
 * counts right after it); pages: 0 regs, 1 shmem (one page), 2 counters.
 */
int fake_dev_create(struct fake_sysfs *fs, unsigned int index, uint32_t magic,
		    uint32_t nr_vectors);
/* pread/pwrite at @off in dev/uioN. Return 0 or -1. */
int fake_dev_read(struct fake_sysfs *fs, unsigned int index, off_t off, void *buf, size_t n);
int fake_dev_write(struct fake_sysfs *fs, unsigned int index, off_t off, const void *buf,
		   size_t n);

#endif /* FAKE_SYSFS_H */
