// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"

bool ivshmd_shm_size_valid(uint64_t size)
{
	return size >= IVSHMD_SHM_MIN_SIZE && size <= IVSHMD_SHM_MAX_SIZE &&
	       (size & (size - 1)) == 0;
}

static int open_memfd(uint64_t size)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	int fd, err;

	fd = memfd_create("ivshmd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "memfd_create: %s", strerror(errno));
		return err;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "sizing the memfd to %llu bytes: %s",
			   (unsigned long long)size, strerror(errno));
		goto out_close;
	}
	/* No peer may resize the memory under the others, and nobody may lift the seals. */
	if (fcntl(fd, F_ADD_SEALS, seals) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "sealing the memfd: %s", strerror(errno));
		goto out_close;
	}
	return fd;

out_close:
	close(fd);
	return err;
}

/*
 * An existing object of the right size is shared as it is (ivshmem-plain
 * guests may use it too); one of another size is refused rather than
 * truncated under whoever maps it.
 */
static int open_posix(struct ivshmd_shm *shm, const char *name, uint64_t size)
{
	struct stat st;
	bool created = true;
	int fd, err;

	if (!name[0] || strchr(name + 1, '/') || strlen(name) >= NAME_MAX) {
		ivshmd_log(LOG_ERR, "invalid POSIX shared memory name '%s'", name);
		return -EINVAL;
	}
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	}
	if (fd < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "shm_open %s: %s", name, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "fstat %s: %s", name, strerror(errno));
		goto out_close;
	}
	if (!created && st.st_size != 0 && (uint64_t)st.st_size != size) {
		err = -EEXIST;
		ivshmd_log(LOG_ERR, "shared memory %s exists with %lld bytes, not %llu; "
			   "remove it or pick another name", name, (long long)st.st_size,
			   (unsigned long long)size);
		goto out_close;
	}
	if ((uint64_t)st.st_size != size && ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "sizing %s to %llu bytes: %s", name,
			   (unsigned long long)size, strerror(errno));
		goto out_unlink;
	}
	if (created) {
		shm->name = strdup(name);
		if (!shm->name) {
			err = -ENOMEM;
			goto out_unlink;
		}
	}
	return fd;

out_unlink:
	if (created)
		shm_unlink(name);
out_close:
	close(fd);
	return err;
}

/* An unlinked file: nothing to leak in the directory when we exit. */
static int open_in_dir(const char *dir, uint64_t size)
{
	struct statfs sf;
	char *path;
	int fd, err;

	if (statfs(dir, &sf) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "shared memory directory %s: %s", dir, strerror(errno));
		return err;
	}
	if (sf.f_bsize > 0 && size % (uint64_t)sf.f_bsize) {
		ivshmd_log(LOG_ERR, "size %llu is not a multiple of the %ld-byte pages of %s",
			   (unsigned long long)size, (long)sf.f_bsize, dir);
		return -EINVAL;
	}
	if (asprintf(&path, "%s/ivshmd.XXXXXX", dir) < 0)
		return -ENOMEM;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "creating a file in %s: %s", dir, strerror(errno));
		goto out_free;
	}
	if (unlink(path) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "unlink %s: %s", path, strerror(errno));
		goto out_close;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "sizing a file in %s to %llu bytes: %s", dir,
			   (unsigned long long)size, strerror(errno));
		goto out_close;
	}
	free(path);
	return fd;

out_close:
	close(fd);
out_free:
	free(path);
	return err;
}

/*
 * QEMU maps the fd MAP_SHARED over its whole fstat size when the device is
 * realized; fail here, at start-up, if that cannot work (hugetlbfs without
 * enough huge pages, a filesystem without shared mappings). For hugetlbfs the
 * mapping also reserves the pages for the file.
 */
static int check_mappable(int fd, uint64_t size)
{
	struct stat st;
	void *p;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != size) {
		ivshmd_log(LOG_ERR, "backing has %lld bytes after sizing it to %llu",
			   (long long)st.st_size, (unsigned long long)size);
		return -EIO;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		ivshmd_log(LOG_ERR, "mapping %llu bytes of shared memory: %s",
			   (unsigned long long)size, strerror(errno));
		return err;
	}
	if (munmap(p, size) < 0)
		return -errno;
	return 0;
}

int ivshmd_shm_open(struct ivshmd_shm *shm, enum ivshmd_shm_kind kind, const char *where,
		    uint64_t size)
{
	int fd, err;

	*shm = (struct ivshmd_shm){ .fd = -1, .size = size, .kind = kind };
	if (!ivshmd_shm_size_valid(size)) {
		ivshmd_log(LOG_ERR, "shared memory size %llu: must be a power of two from %llu to %llu",
			   (unsigned long long)size, (unsigned long long)IVSHMD_SHM_MIN_SIZE,
			   (unsigned long long)IVSHMD_SHM_MAX_SIZE);
		return -EINVAL;
	}
	switch (kind) {
	case IVSHMD_SHM_POSIX:
		fd = open_posix(shm, where, size);
		break;
	case IVSHMD_SHM_DIR:
		fd = open_in_dir(where, size);
		break;
	default:
		fd = open_memfd(size);
		break;
	}
	if (fd < 0)
		return fd;
	shm->fd = fd;
	err = check_mappable(fd, size);
	if (err) {
		ivshmd_shm_close(shm);
		return err;
	}
	return 0;
}

void ivshmd_shm_close(struct ivshmd_shm *shm)
{
	if (shm->fd >= 0)
		close(shm->fd);
	shm->fd = -1;
	if (shm->name) {
		if (shm_unlink(shm->name) < 0 && errno != ENOENT)
			ivshmd_log(LOG_WARNING, "shm_unlink %s: %s", shm->name, strerror(errno));
		free(shm->name);
		shm->name = NULL;
	}
}
