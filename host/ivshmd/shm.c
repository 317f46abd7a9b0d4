// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"

/* Linux 6.3; Debian 12's headers predate them. */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

bool ivshmd_shm_size_valid(uint64_t size)
{
	return size >= IVSHMD_SHM_MIN_SIZE && size <= IVSHMD_SHM_MAX_SIZE &&
	       (size & (size - 1)) == 0;
}

/*
 * MFD_NOEXEC_SEAL where the kernel has it: with vm.memfd_noexec=2 a memfd
 * without it is refused, and nothing ever needs to execute this memory.
 * Older kernels reject the unknown flag with EINVAL.
 */
static int memfd(unsigned flags)
{
	int fd = memfd_create("ivshmd", flags | MFD_NOEXEC_SEAL);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("ivshmd", flags);
	return fd;
}

/* huge_shift: log2 of the huge page size, or 0 for normal pages. */
static int open_memfd(struct ivshmd_shm *shm, uint64_t size, unsigned huge_shift)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd, err;

	if (huge_shift)
		flags |= MFD_HUGETLB | (huge_shift << MFD_HUGE_SHIFT);
	fd = memfd(flags);
	if (fd < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "memfd_create%s: %s", huge_shift ? " (huge pages)" : "",
			   strerror(errno));
		return err;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "sizing the memfd to %llu bytes: %s",
			   (unsigned long long)size, strerror(errno));
		goto out_close;
	}
	/* No peer may resize the memory under the others, and nobody may lift the seals. */
	if (fcntl(fd, F_ADD_SEALS, SEALS) < 0) {
		err = -errno;
		ivshmd_log(LOG_ERR, "sealing the memfd: %s", strerror(errno));
		goto out_close;
	}
	shm->sealed = true;
	return fd;

out_close:
	close(fd);
	return err;
}

/*
 * What a POSIX object must be for ivshmd to serve it: anything another user
 * could have planted, read or resized is refused.
 */
static int check_object(const char *name, const struct stat *st)
{
	const char *why = NULL;

	if (!S_ISREG(st->st_mode))
		why = "is not a regular file";
	else if (st->st_uid != geteuid())
		why = "belongs to another user";
	else if (st->st_mode & 077)
		why = "has permissions for group or others";
	else if (st->st_nlink != 1)
		why = "has more than one link";
	if (!why)
		return 0;
	ivshmd_log(LOG_ERR, "shared memory %s %s (uid %u, mode %04o, %lu links); refusing it",
		   name, why, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777),
		   (unsigned long)st->st_nlink);
	return -EPERM;
}

/*
 * A new object, or with reuse an existing one of the right size (ivshmem-plain
 * guests may use it too); one of another size is refused rather than
 * truncated under whoever maps it.
 */
static int open_posix(struct ivshmd_shm *shm, const char *name, uint64_t size, bool reuse)
{
	struct stat st;
	bool created = true;
	int fd, err;

	if (!name[0] || strchr(name + 1, '/') || strlen(name) >= NAME_MAX) {
		ivshmd_log(LOG_ERR, "invalid POSIX shared memory name '%s'", name);
		return -EINVAL;
	}
	/* glibc adds O_NOFOLLOW: a symlink under the name is refused. */
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		if (!reuse) {
			ivshmd_log(LOG_ERR, "shared memory %s exists; pass --shm-reuse to share it, "
				   "or remove it", name);
			return -EEXIST;
		}
		created = false;
		/* O_NONBLOCK: a FIFO planted under the name must not block the open. */
		fd = shm_open(name, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
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
	err = check_object(name, &st);
	if (err)
		goto out_close;
	if (!created && fcntl(fd, F_SETFL, 0) < 0) {
		err = -errno;
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
static int open_file_in(const char *dir, uint64_t size)
{
	char *path;
	int fd, err;

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
 * A hugetlbfs directory names a huge page size: a memfd of that page size
 * draws on the same pool and, unlike a file there, can be sealed. Any other
 * directory gets an unlinked file, which cannot.
 */
static int open_in_dir(struct ivshmd_shm *shm, const char *dir, uint64_t size)
{
	struct statfs sf;
	unsigned shift = 0;
	int err;

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
	if (sf.f_type != HUGETLBFS_MAGIC)
		return open_file_in(dir, size);
	while (((uint64_t)1 << shift) < (uint64_t)sf.f_bsize)
		shift++;
	shm->huge = true;
	shm->page = (uint64_t)sf.f_bsize;
	return open_memfd(shm, size, shift);
}

/*
 * QEMU maps the fd MAP_SHARED over its whole fstat size when the device is
 * realized; fail here, at start-up, if that cannot work (hugetlbfs without
 * enough huge pages, a filesystem without shared mappings). For huge pages
 * the mapping also reserves them.
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

static void warn_unsealed(const struct ivshmd_shm *shm, const char *where)
{
	if (shm->sealed)
		return;
	ivshmd_log(LOG_WARNING, "%s %s cannot be sealed: any peer can resize it (ftruncate) and "
		   "every other VM's QEMU dies with SIGBUS on its next access; the default memfd "
		   "(or -m on hugetlbfs) is sealed", shm->kind == IVSHMD_SHM_POSIX ? "-M" : "-m",
		   where);
}

static int check_size(uint64_t size)
{
	if (ivshmd_shm_size_valid(size))
		return 0;
	ivshmd_log(LOG_ERR, "shared memory size %llu: must be a power of two from %llu to %llu",
		   (unsigned long long)size, (unsigned long long)IVSHMD_SHM_MIN_SIZE,
		   (unsigned long long)IVSHMD_SHM_MAX_SIZE);
	return -EINVAL;
}

int ivshmd_shm_open(struct ivshmd_shm *shm, enum ivshmd_shm_kind kind, const char *where,
		    uint64_t size, bool reuse)
{
	int fd, err;

	*shm = (struct ivshmd_shm){ .fd = -1, .size = size, .kind = kind, .page = 4096 };
	err = check_size(size);
	if (err)
		return err;
	switch (kind) {
	case IVSHMD_SHM_POSIX:
		fd = open_posix(shm, where, size, reuse);
		break;
	case IVSHMD_SHM_DIR:
		fd = open_in_dir(shm, where, size);
		break;
	default:
		fd = open_memfd(shm, size, 0);
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
	warn_unsealed(shm, where);
	return 0;
}

/* Whether the POSIX name (glibc's /dev/shm) still names the file st describes. */
static bool named_by(const char *name, const struct stat *st, struct stat *named)
{
	char path[NAME_MAX + 16];

	while (*name == '/')
		name++;
	if (!*name || strchr(name, '/'))
		return false;
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return lstat(path, named) == 0 && named->st_dev == st->st_dev &&
	       named->st_ino == st->st_ino;
}

static int adopt_check(struct ivshmd_shm *shm, const char *where, int fd)
{
	struct stat st, named;
	struct statfs sf;
	int seals = fcntl(fd, F_GET_SEALS);

	if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != shm->size) {
		ivshmd_log(LOG_WARNING, "kept memory has %lld bytes, not %llu", (long long)st.st_size,
			   (unsigned long long)shm->size);
		return -EINVAL;
	}
	shm->huge = sf.f_type == HUGETLBFS_MAGIC;
	if (shm->huge)
		shm->page = (uint64_t)sf.f_bsize;
	shm->sealed = seals >= 0 && (seals & SEALS) == SEALS;
	if (shm->kind == IVSHMD_SHM_MEMFD && !shm->sealed)
		return -EINVAL;
	if (shm->kind != IVSHMD_SHM_POSIX)
		return 0;
	/* The object must still be the one under the name, or -M no longer names it. */
	if (!named_by(where, &st, &named)) {
		ivshmd_log(LOG_WARNING, "kept memory is no longer the shared memory %s", where);
		return -ESTALE;
	}
	return check_object(where, &st);
}

int ivshmd_shm_adopt(struct ivshmd_shm *shm, enum ivshmd_shm_kind kind, const char *where,
		     uint64_t size, int fd, bool created)
{
	int err;

	*shm = (struct ivshmd_shm){ .fd = -1, .size = size, .kind = kind, .page = 4096 };
	err = check_size(size);
	if (!err)
		err = adopt_check(shm, where, fd);
	if (err)
		return err;
	if (kind == IVSHMD_SHM_POSIX && created) {
		shm->name = strdup(where);
		if (!shm->name)
			return -ENOMEM;
	}
	shm->fd = fd;
	warn_unsealed(shm, where);
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
