// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barrier.h"
#include "record.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

#define HDR_SPACE 4096u
#define RECORD_SIZE (HDR_SPACE + IVSHMD_RECORD_IDS)

static int map(struct ivshmd_record *r, int fd)
{
	/* Populated: the record must not grow the RSS as IDs go up. */
	void *p = mmap(NULL, RECORD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	r->fd = fd;
	r->hdr = p;
	r->state = (uint8_t *)p + HDR_SPACE;
	return 0;
}

int ivshmd_record_create(struct ivshmd_record *r)
{
	int fd, err;

	*r = (struct ivshmd_record){ .fd = -1 };
	fd = memfd_create("restart-record", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("restart-record", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, RECORD_SIZE) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = map(r, fd);
	if (err)
		close(fd);
	return err;
}

int ivshmd_record_adopt(struct ivshmd_record *r, int fd)
{
	struct stat st;
	int err;

	*r = (struct ivshmd_record){ .fd = -1 };
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size != RECORD_SIZE)
		return -EINVAL;
	err = map(r, fd);
	if (err)
		return err;
	if (r->hdr->magic != IVSHMD_RECORD_MAGIC || r->hdr->version != IVSHMD_RECORD_VERSION) {
		munmap(r->hdr, RECORD_SIZE);
		*r = (struct ivshmd_record){ .fd = -1 };
		return -EINVAL;
	}
	return 0;
}

void ivshmd_record_reset(struct ivshmd_record *r, const struct ivshmd_record_hdr *hdr)
{
	memset(r->state, 0, IVSHMD_RECORD_IDS);
	*r->hdr = *hdr;
	r->hdr->magic = IVSHMD_RECORD_MAGIC;
	r->hdr->version = IVSHMD_RECORD_VERSION;
}

/* Single-byte stores: a crash leaves every byte either old or new. */
void ivshmd_record_set(struct ivshmd_record *r, unsigned id, enum ivshmd_record_state st)
{
	if (id < IVSHMD_RECORD_IDS)
		ivshm_store_relaxed(&r->state[id], (uint8_t)st);
}

enum ivshmd_record_state ivshmd_record_get(const struct ivshmd_record *r, unsigned id)
{
	uint8_t v = id < IVSHMD_RECORD_IDS ? r->state[id] : IVSHMD_REC_NONE;

	return v <= IVSHMD_REC_DIRTY ? (enum ivshmd_record_state)v : IVSHMD_REC_DIRTY;
}

void ivshmd_record_close(struct ivshmd_record *r)
{
	if (r->hdr)
		munmap(r->hdr, RECORD_SIZE);
	if (r->fd >= 0)
		close(r->fd);
	*r = (struct ivshmd_record){ .fd = -1 };
}
