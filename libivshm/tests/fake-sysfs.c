// SPDX-License-Identifier: LGPL-2.1-or-later
/* The fake sysfs/dev tree of fake-sysfs.h. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-sysfs.h"
#include "uio_ivshmem.h"

/* snprintf into an array, true when truncated. */
#define FMT(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__) >= (int)sizeof(buf))

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -1;
	err = fprintf(f, "%s\n", text) < 0;
	return fclose(f) || err ? -1 : 0;
}

int fake_sysfs_create(struct fake_sysfs *fs)
{
	const char *tmp = getenv("TMPDIR");

	if (FMT(fs->root, "%s/ivshm-fake-XXXXXX", tmp && *tmp ? tmp : "/tmp"))
		return -1;
	if (!mkdtemp(fs->root))
		return -1;
	if (FMT(fs->sys, "%s/sys", fs->root) || FMT(fs->dev, "%s/dev", fs->root))
		return -1;
	return mkdir(fs->sys, 0755) || mkdir(fs->dev, 0755) ? -1 : 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fake_sysfs_destroy(struct fake_sysfs *fs)
{
	nftw(fs->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fake_uio_doorbell(struct fake_uio *u, unsigned int index, const char *pci)
{
	*u = (struct fake_uio){
		.index = index,
		.pci = pci,
		.name = UIO_IVSHMEM_NAME,
		.version = UIO_IVSHMEM_ABI_VERSION,
		.mode = "doorbell",
		.vectors = "4",
		.peer_id = "1",
		.map_name = { "regs", "shmem", "counters" },
		.map_size = { "0x00001000", "0x00001000", "0x00001000" },
		.map_offset = { "0x0", "0x0", "0x0" },
	};
}

void fake_uio_plain(struct fake_uio *u, unsigned int index, const char *pci)
{
	fake_uio_doorbell(u, index, pci);
	u->mode = "plain";
	u->vectors = "0";
	u->peer_id = "-1";
}

static int add_pci_dir(struct fake_sysfs *fs, const char *pci, char *devdir, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];

	if (snprintf(devdir, len, "%s/devices/pci0000:00/%s", fs->sys, pci) >= (int)len)
		return -1;
	if (FMT(path, "%s/bus/pci/devices", fs->sys))
		return -1;
	if (mkdir_p(devdir) || mkdir_p(path))
		return -1;
	if (FMT(path, "%s/bus/pci/devices/%s", fs->sys, pci))
		return -1;
	if (FMT(target, "../../../devices/pci0000:00/%s", pci))
		return -1;
	if (symlink(target, path) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int fake_sysfs_add_pci(struct fake_sysfs *fs, const char *pci)
{
	char devdir[PATH_MAX];

	return add_pci_dir(fs, pci, devdir, sizeof(devdir));
}

static int put(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX];

	if (!text)
		return 0;
	if (FMT(path, "%s/%s", dir, rel))
		return -1;
	return write_file(path, text);
}

int fake_sysfs_add_uio(struct fake_sysfs *fs, const struct fake_uio *u)
{
	char devdir[PATH_MAX], uiodir[PATH_MAX], path[PATH_MAX], target[PATH_MAX], rel[64];
	unsigned int i;

	if (add_pci_dir(fs, u->pci, devdir, sizeof(devdir)))
		return -1;
	if (FMT(uiodir, "%s/uio/uio%u", devdir, u->index))
		return -1;
	if (mkdir_p(uiodir))
		return -1;
	if (put(devdir, UIO_IVSHMEM_ATTR_MODE, u->mode) ||
	    put(devdir, UIO_IVSHMEM_ATTR_VECTORS, u->vectors) ||
	    put(devdir, UIO_IVSHMEM_ATTR_PEER_ID, u->peer_id) ||
	    put(uiodir, "name", u->name) || put(uiodir, "version", u->version))
		return -1;
	for (i = 0; i < 3; i++) {
		if (!u->map_name[i] && !u->map_size[i] && !u->map_offset[i])
			continue;
		if (FMT(path, "%s/maps/map%u", uiodir, i))
			return -1;
		if (mkdir_p(path) || put(path, "name", u->map_name[i]) ||
		    put(path, "size", u->map_size[i]) || put(path, "offset", u->map_offset[i]))
			return -1;
	}
	if (FMT(path, "%s/uio/uio%u/device", devdir, u->index))
		return -1;
	if (FMT(target, "../../../%s", u->pci))
		return -1;
	if (symlink(target, path) < 0)
		return -1;
	if (FMT(path, "%s/class/uio", fs->sys))
		return -1;
	if (mkdir_p(path))
		return -1;
	if (FMT(rel, "uio%u", u->index))
		return -1;
	if (FMT(path, "%s/class/uio/%s", fs->sys, rel))
		return -1;
	if (FMT(target, "../../devices/pci0000:00/%s/uio/%s", u->pci, rel))
		return -1;
	return symlink(target, path) < 0 ? -1 : 0;
}

int fake_sysfs_write(struct fake_sysfs *fs, const char *rel, const char *text)
{
	char path[PATH_MAX];

	if (FMT(path, "%s/%s", fs->sys, rel))
		return -1;
	return write_file(path, text);
}

static int dev_path(struct fake_sysfs *fs, unsigned int index, char *path, size_t len)
{
	return snprintf(path, len, "%s/uio%u", fs->dev, index) >= (int)len ? -1 : 0;
}

int fake_dev_create(struct fake_sysfs *fs, unsigned int index, uint32_t magic,
		    uint32_t nr_vectors)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uio_ivshmem_counters c = {
		.magic = magic,
		.hdr_size = offsetof(struct uio_ivshmem_counters, count),
		.count_size = sizeof(uint64_t),
		.flags = UIO_IVSHMEM_COUNTERS_F_ATOMIC64,
		.nr_vectors = nr_vectors,
	};
	char path[PATH_MAX];
	int fd, err;

	if (dev_path(fs, index, path, sizeof(path)))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	err = ftruncate(fd, 3 * page) < 0 ||
	      pwrite(fd, &c, sizeof(c), 2 * page) != (ssize_t)sizeof(c);
	return close(fd) || err ? -1 : 0;
}

static int dev_io(struct fake_sysfs *fs, unsigned int index, off_t off, void *buf, size_t n,
		  int out)
{
	char path[PATH_MAX];
	ssize_t done;
	int fd;

	if (dev_path(fs, index, path, sizeof(path)))
		return -1;
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	done = out ? pwrite(fd, buf, n, off) : pread(fd, buf, n, off);
	return close(fd) || done != (ssize_t)n ? -1 : 0;
}

int fake_dev_read(struct fake_sysfs *fs, unsigned int index, off_t off, void *buf, size_t n)
{
	return dev_io(fs, index, off, buf, n, 0);
}

int fake_dev_write(struct fake_sysfs *fs, unsigned int index, off_t off, const void *buf,
		   size_t n)
{
	return dev_io(fs, index, off, (void *)buf, n, 1);
}

int fake_sysfs_setup(void **state)
{
	static struct fake_sysfs fs;

	if (fake_sysfs_create(&fs))
		return -1;
	*state = &fs;
	return 0;
}

int fake_sysfs_teardown(void **state)
{
	fake_sysfs_destroy(*state);
	return 0;
}
