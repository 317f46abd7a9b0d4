/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shared memory every peer maps: a sealed memfd by default, a sealed
 * memfd of huge pages for a hugetlbfs directory (-m), or, unsealed, a POSIX
 * shm object (-M) or an unlinked file in any other directory (-m).
 */
#ifndef IVSHMD_SHM_H
#define IVSHMD_SHM_H

#include <stdbool.h>
#include <stdint.h>

enum ivshmd_shm_kind {
	IVSHMD_SHM_MEMFD,
	IVSHMD_SHM_POSIX,
	IVSHMD_SHM_DIR,
};

/* Smallest and largest region: one page, and what a 40-bit guest physical space can hold. */
#define IVSHMD_SHM_MIN_SIZE (UINT64_C(4) << 10)
#define IVSHMD_SHM_MAX_SIZE (UINT64_C(1) << 39)

struct ivshmd_shm {
	int fd;
	uint64_t size;
	enum ivshmd_shm_kind kind;
	bool sealed;	/* no peer can resize it */
	bool huge;	/* huge pages (a hugetlbfs -m directory) */
	uint64_t page;	/* its page size: the smallest length it maps with */
	char *name;	/* POSIX name to unlink at close, when we created it */
};

/*
 * Check size (a power of two within the bounds above; for -m also a multiple
 * of the directory's page size), create the backing, size it without
 * committing memory and make sure it maps MAP_SHARED the way QEMU maps it.
 * where: the POSIX name or the directory (ignored for memfd). An existing
 * POSIX object is shared only with reuse, and only if it is a regular file
 * of ivshmd's user without group or other permissions and with one link.
 * Logs the reason and returns a negative errno on failure.
 */
int ivshmd_shm_open(struct ivshmd_shm *shm, enum ivshmd_shm_kind kind, const char *where,
		    uint64_t size, bool reuse);

/*
 * Take over fd, the memory an earlier ivshmd of this configuration served
 * (kept across a restart), after checking it is what that configuration
 * makes: the size, seals for a memfd, the object still under its name for
 * -M. created: whether that ivshmd created the -M object. Returns 0 (shm
 * owns fd) or a negative errno (fd is left to the caller), logged.
 */
int ivshmd_shm_adopt(struct ivshmd_shm *shm, enum ivshmd_shm_kind kind, const char *where,
		     uint64_t size, int fd, bool created);

/* Closes the fd and unlinks a POSIX object this server created. */
void ivshmd_shm_close(struct ivshmd_shm *shm);

/* True when size is a power of two within the bounds; for option checking. */
bool ivshmd_shm_size_valid(uint64_t size);

#endif
