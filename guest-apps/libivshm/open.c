// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening a discovered device: open /dev/uioN, map regs, shmem and the
 * counter page (UIO map N lives at offset N * page size), and check the
 * counter page agrees with sysfs before trusting it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <syslog.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static int map_region(struct ivshm_dev *dev, const struct ivshm_devinfo *info,
		      unsigned int i, int prot)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	p = mmap(NULL, info->map_size[i], prot, MAP_SHARED, dev->fd, (off_t)i * page);
	if (p == MAP_FAILED)
		return -errno;
	dev->map[i] = p;
	dev->map_len[i] = info->map_size[i];
	return 0;
}

static void unmap_all(struct ivshm_dev *dev)
{
	unsigned int i;

	for (i = 0; i < IVSHM_NR_MAPS; i++)
		if (dev->map[i])
			munmap(dev->map[i], dev->map_len[i]);
}

/*
 * The counter page must agree with sysfs, and its counts must lie inside the
 * map; a newer minor may grow the header (hdr_size) and set flags we ignore.
 */
static int check_counters(struct ivshm_dev *dev, const struct ivshm_devinfo *info)
{
	const struct uio_ivshmem_counters *c;
	size_t avail;

	c = (const void *)((const char *)dev->map[UIO_IVSHMEM_MAP_COUNTERS] +
			   info->map_offset[UIO_IVSHMEM_MAP_COUNTERS]);
	avail = info->map_size[UIO_IVSHMEM_MAP_COUNTERS] - info->map_offset[UIO_IVSHMEM_MAP_COUNTERS];
	if (c->magic != UIO_IVSHMEM_COUNTERS_MAGIC) {
		ivshm__log(LOG_DEBUG, "%s: counter page magic %#x", dev->uio_path, c->magic);
		return -EBADMSG;
	}
	if (c->nr_vectors != dev->nr_vectors) {
		ivshm__log(LOG_DEBUG, "%s: counter page has %u vectors, sysfs %u", dev->uio_path,
			   c->nr_vectors, dev->nr_vectors);
		return -EBADMSG;
	}
	if (c->count_size != sizeof(uint64_t) || c->hdr_size < offsetof(struct uio_ivshmem_counters, count) ||
	    c->hdr_size % sizeof(uint64_t) ||
	    c->hdr_size + (size_t)c->nr_vectors * sizeof(uint64_t) > avail) {
		ivshm__log(LOG_DEBUG, "%s: counter page header size %u, counter size %u",
			   dev->uio_path, c->hdr_size, c->count_size);
		return -EBADMSG;
	}
	dev->counts = (const uint64_t *)((const char *)c + c->hdr_size);
	return 0;
}

int ivshm__open_root(const char *sysroot, const char *devroot, const char *device,
		     struct ivshm_dev **devp)
{
	struct ivshm_devinfo info;
	struct ivshm_dev *dev;
	unsigned int i;
	int n, err;

	if (!devroot || !devp)
		return -EINVAL;
	err = ivshm__discover(sysroot, device, &info);
	if (err)
		return err;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	n = snprintf(dev->uio_path, sizeof(dev->uio_path), "%s/uio%u", devroot, info.uio_index);
	if (n < 0 || (size_t)n >= sizeof(dev->uio_path)) {
		err = -ENAMETOOLONG;
		goto out_free;
	}
	memcpy(dev->pci_addr, info.pci_addr, sizeof(dev->pci_addr));
	dev->mode = info.mode;
	dev->nr_vectors = info.nr_vectors;
	dev->peer_id = info.peer_id;

	/* Non-blocking: ivshm_wait() polls with a deadline, then reads. */
	dev->fd = open(dev->uio_path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (dev->fd < 0) {
		err = errno == ENOENT ? -ENODEV : -errno;
		goto out_free;
	}

	err = map_region(dev, &info, UIO_IVSHMEM_MAP_REGS, PROT_READ | PROT_WRITE);
	if (!err)
		err = map_region(dev, &info, UIO_IVSHMEM_MAP_SHMEM, PROT_READ | PROT_WRITE);
	if (!err)
		err = map_region(dev, &info, UIO_IVSHMEM_MAP_COUNTERS, PROT_READ);
	if (err)
		goto out_unmap;

	dev->regs = (volatile uint32_t *)((char *)dev->map[UIO_IVSHMEM_MAP_REGS] +
					  info.map_offset[UIO_IVSHMEM_MAP_REGS]);
	dev->shm = (char *)dev->map[UIO_IVSHMEM_MAP_SHMEM] + info.map_offset[UIO_IVSHMEM_MAP_SHMEM];
	dev->shm_size = info.map_size[UIO_IVSHMEM_MAP_SHMEM] - info.map_offset[UIO_IVSHMEM_MAP_SHMEM];
	err = check_counters(dev, &info);
	if (err)
		goto out_unmap;
	for (i = 0; i < dev->nr_vectors; i++)
		dev->snapshot[i] = __atomic_load_n(&dev->counts[i], __ATOMIC_ACQUIRE);
	/* A buffer too small for the directory still serves plain ivshm_* use. */
	dev->region_err = ivshm__region_init(&dev->region, dev->shm, dev->shm_size, dev->peer_id);

	*devp = dev;
	return 0;

out_unmap:
	unmap_all(dev);
	close(dev->fd);
out_free:
	free(dev);
	return err;
}

int ivshm_open(const char *device, unsigned int flags, struct ivshm_dev **devp)
{
	if (flags)
		return -EINVAL;
	return ivshm__open_root("/sys", "/dev", device, devp);
}

void ivshm_close(struct ivshm_dev *dev)
{
	if (!dev)
		return;
	/* Peers see a clean exit at once instead of waiting for the heartbeat to stop. */
	if (!dev->region_err && dev->region.published)
		ivshm__unpublish(&dev->region);
	unmap_all(dev);
	close(dev->fd);
	free(dev);
}
