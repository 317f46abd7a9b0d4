// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The guest backend: a discovered uio_ivshmem device. Open /dev/uioN, map
 * regs, shmem and the counter page (UIO map N lives at offset N * page size),
 * check the counter page agrees with sysfs before trusting it; ring through
 * the doorbell register, count through the counter page, sleep in poll().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <syslog.h>
#include <sys/mman.h>
#include <unistd.h>

#include "barrier.h"
#include "internal.h"

/* What a guest handle holds beyond the common fields: its maps. */
struct uio {
	void *map[IVSHM_NR_MAPS];
	size_t map_len[IVSHM_NR_MAPS];
	volatile uint32_t *regs;
	const uint64_t *counts;		/* the counter page's count[], at its hdr_size */
};

static struct uio *uio_of(const struct ivshm_dev *dev)
{
	return dev->priv;
}

static int map_region(struct ivshm_dev *dev, const struct ivshm_devinfo *info,
		      unsigned int i, int prot)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	p = mmap(NULL, info->map_size[i], prot, MAP_SHARED, dev->fd, (off_t)i * page);
	if (p == MAP_FAILED)
		return -errno;
	uio_of(dev)->map[i] = p;
	uio_of(dev)->map_len[i] = info->map_size[i];
	return 0;
}

static void uio_release(struct ivshm_dev *dev)
{
	struct uio *u = uio_of(dev);
	unsigned int i;

	for (i = 0; u && i < IVSHM_NR_MAPS; i++)
		if (u->map[i])
			munmap(u->map[i], u->map_len[i]);
	if (dev->fd >= 0)
		close(dev->fd);
	free(u);
	dev->priv = NULL;
}

static int uio_ring(struct ivshm_dev *dev, unsigned int peer, unsigned int vector)
{
	uio_of(dev)->regs[IVSHMEM_REG_DOORBELL / sizeof(uint32_t)] = (uint32_t)(peer << 16 | vector);
	return 0;
}

static int uio_counts(struct ivshm_dev *dev, uint64_t *now)
{
	uint32_t events;
	unsigned int v;
	ssize_t n;

	if (dev->mode != IVSHM_MODE_DOORBELL)
		return -ENOTSUP;
	/* Drain the UIO event so poll() sleeps again; the counters say the rest. */
	n = read(dev->fd, &events, sizeof(events));
	/* EIO on a doorbell device: it was unbound under us. */
	if (n < 0 && errno == EIO) {
		ivshm__log(LOG_DEBUG, "%s: the device was unbound", dev->path);
		return -ENODEV;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	/* The driver bumps a counter before it signals the event: a load after the read sees it. */
	for (v = 0; v < dev->nr_vectors; v++)
		now[v] = ivshm_load_acquire(&uio_of(dev)->counts[v]);
	return 0;
}

static int uio_block(struct ivshm_dev *dev, int timeout_ms)
{
	struct pollfd pfd = { .fd = dev->fd, .events = POLLIN };
	int n;

	n = poll(&pfd, 1, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	if (n > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
		ivshm__log(LOG_DEBUG, "%s: the device was unbound", dev->path);
		return -ENODEV;
	}
	return 0;
}

static const struct ivshm_ops uio_ops = {
	.ring = uio_ring,
	.counts = uio_counts,
	.block = uio_block,
	.release = uio_release,
};

/*
 * The counter page must agree with sysfs, and its counts must lie inside the
 * map; a newer minor may grow the header (hdr_size) and set flags we ignore.
 */
static int check_counters(struct ivshm_dev *dev, const struct ivshm_devinfo *info)
{
	const struct uio_ivshmem_counters *c;
	size_t avail;

	c = (const void *)((const char *)uio_of(dev)->map[UIO_IVSHMEM_MAP_COUNTERS] +
			   info->map_offset[UIO_IVSHMEM_MAP_COUNTERS]);
	avail = info->map_size[UIO_IVSHMEM_MAP_COUNTERS] - info->map_offset[UIO_IVSHMEM_MAP_COUNTERS];
	if (c->magic != UIO_IVSHMEM_COUNTERS_MAGIC) {
		ivshm__log(LOG_DEBUG, "%s: counter page magic %#x", dev->path, c->magic);
		return -EBADMSG;
	}
	if (c->nr_vectors != dev->nr_vectors) {
		ivshm__log(LOG_DEBUG, "%s: counter page has %u vectors, sysfs %u", dev->path,
			   c->nr_vectors, dev->nr_vectors);
		return -EBADMSG;
	}
	if (c->count_size != sizeof(uint64_t) || c->hdr_size < offsetof(struct uio_ivshmem_counters, count) ||
	    c->hdr_size % sizeof(uint64_t) ||
	    c->hdr_size + (size_t)c->nr_vectors * sizeof(uint64_t) > avail) {
		ivshm__log(LOG_DEBUG, "%s: counter page header size %u, counter size %u",
			   dev->path, c->hdr_size, c->count_size);
		return -EBADMSG;
	}
	uio_of(dev)->counts = (const uint64_t *)((const char *)c + c->hdr_size);
	return 0;
}

/*
 * A stable name (a udev symlink such as /dev/ivshm/by-pci/0000:00:04.0) stands
 * for the uioN it points at; @buf receives "uioN". Returns 0, 1 when @device
 * is no such link, or -errno.
 */
static int resolve_link(const char *devroot, const char *device, char *buf, size_t len)
{
	char real[PATH_MAX], root[PATH_MAX];
	const char *base;
	size_t n;

	if (device[0] != '/' || !realpath(devroot, root))
		return 1;
	if (!realpath(device, real))
		return errno == ENOENT ? -ENODEV : -errno;
	n = strlen(root);
	base = real + n + 1;
	if (strncmp(real, root, n) != 0 || real[n] != '/' || strchr(base, '/') ||
	    strncmp(base, "uio", 3) != 0 || strlen(base) >= len)
		return 1;
	strcpy(buf, base);
	return 0;
}

int ivshm__open_root(const char *sysroot, const char *devroot, const char *device,
		     struct ivshm_dev **devp)
{
	struct ivshm_devinfo info;
	struct ivshm_dev *dev;
	char uio[32];
	int n, err;

	if (!devroot || !devp)
		return -EINVAL;
	if (device) {
		err = resolve_link(devroot, device, uio, sizeof(uio));
		if (err < 0)
			return err;
		if (!err)
			device = uio;
	}
	err = ivshm__discover(sysroot, device, &info);
	if (err)
		return err;

	dev = ivshm__dev_new(&uio_ops, NULL, 0, info.peer_id, info.nr_vectors);
	if (!dev)
		return -ENOMEM;
	dev->priv = calloc(1, sizeof(struct uio));
	if (!dev->priv) {
		err = -ENOMEM;
		goto out_free;
	}
	n = snprintf(dev->path, sizeof(dev->path), "%s/uio%u", devroot, info.uio_index);
	if (n < 0 || (size_t)n >= sizeof(dev->path)) {
		err = -ENAMETOOLONG;
		goto out_free;
	}
	memcpy(dev->pci_addr, info.pci_addr, sizeof(dev->pci_addr));

	/* Non-blocking: ivshm_wait() polls with a deadline, then reads. */
	dev->fd = open(dev->path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
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
		goto out_release;

	uio_of(dev)->regs = (volatile uint32_t *)((char *)uio_of(dev)->map[UIO_IVSHMEM_MAP_REGS] +
						  info.map_offset[UIO_IVSHMEM_MAP_REGS]);
	ivshm__dev_set_memory(dev, (char *)uio_of(dev)->map[UIO_IVSHMEM_MAP_SHMEM] +
				   info.map_offset[UIO_IVSHMEM_MAP_SHMEM],
			      info.map_size[UIO_IVSHMEM_MAP_SHMEM] -
				   info.map_offset[UIO_IVSHMEM_MAP_SHMEM]);
	err = check_counters(dev, &info);
	if (!err)
		err = ivshm__dev_baseline(dev);
	if (err)
		goto out_release;
	*devp = dev;
	return 0;

out_release:
	uio_release(dev);
	free(dev);
	return err;
out_free:
	free(dev->priv);
	free(dev);
	return err;
}

int ivshm_open(const char *device, unsigned int flags, struct ivshm_dev **devp)
{
	if (flags) {
		ivshm__log(LOG_DEBUG, "ivshm_open: flags %#x: no flag applies to guest devices", flags);
		return -EINVAL;
	}
	return ivshm__open_root("/sys", "/dev", device, devp);
}
