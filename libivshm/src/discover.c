// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Finding a uio_ivshmem device in sysfs and checking everything libivshm
 * relies on (name, ABI version, maps, mode, vectors, peer ID) before any
 * mapping happens, so a wrong or half-bound device gives a precise error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "number.h"

#define MAX_UIO_INDEX 1000000u

static const char *const map_names[IVSHM_NR_MAPS] = {
	[UIO_IVSHMEM_MAP_REGS] = UIO_IVSHMEM_MAP_REGS_NAME,
	[UIO_IVSHMEM_MAP_SHMEM] = UIO_IVSHMEM_MAP_SHMEM_NAME,
	[UIO_IVSHMEM_MAP_COUNTERS] = UIO_IVSHMEM_MAP_COUNTERS_NAME,
};

/* Bytes each map must hold past its offset. */
static const size_t map_min_len[IVSHM_NR_MAPS] = {
	[UIO_IVSHMEM_MAP_REGS] = IVSHMEM_REGS_SIZE,
	[UIO_IVSHMEM_MAP_SHMEM] = 1,
	[UIO_IVSHMEM_MAP_COUNTERS] = sizeof(struct uio_ivshmem_counters),
};

static int path_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int path_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int uio_attr(const char *sysroot, unsigned int idx, const char *rel,
		    char *buf, size_t len)
{
	char path[PATH_MAX];
	int err;

	err = path_fmt(path, sizeof(path), "%s/class/uio/uio%u/%s", sysroot, idx, rel);
	if (err)
		return err;
	return ivshm__read_attr(path, buf, len);
}

/* "uioN" with N decimal, no sign, no leading zero. */
static int parse_uio_name(const char *name, unsigned int *idx)
{
	uint64_t v;
	const char *p;

	if (strncmp(name, "uio", 3) != 0 || name[3] == '\0')
		return -EINVAL;
	for (p = name + 3; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	if (name[3] == '0' && name[4] != '\0')
		return -EINVAL;
	if (ivshm_num_parse(name + 3, IVSHM_NUM_HEX, 0, MAX_UIO_INDEX, &v))
		return -EINVAL;
	*idx = (unsigned int)v;
	return 0;
}

/* Log why uioN was refused and return @err, so every check names itself. */
#define refuse(err, idx, fmt, ...) \
	(ivshm__log(LOG_DEBUG, "uio%u: " fmt, (idx), ##__VA_ARGS__), (err))

static int check_map(const char *sysroot, unsigned int idx, unsigned int i,
		     struct ivshm_devinfo *info)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	char rel[64], buf[64];
	uint64_t size, offset = 0;
	int err;

	err = path_fmt(rel, sizeof(rel), "maps/map%u/name", i);
	if (!err)
		err = uio_attr(sysroot, idx, rel, buf, sizeof(buf));
	if (err)
		return refuse(-EBADMSG, idx, "map%u has no readable name (%d)", i, err);
	if (strcmp(buf, map_names[i]) != 0)
		return refuse(-EBADMSG, idx, "map%u is named '%s', not '%s'", i, buf, map_names[i]);

	err = path_fmt(rel, sizeof(rel), "maps/map%u/size", i);
	if (!err)
		err = uio_attr(sysroot, idx, rel, buf, sizeof(buf));
	if (err || ivshm_num_parse(buf, IVSHM_NUM_HEX, 0, SIZE_MAX, &size))
		return refuse(-EBADMSG, idx, "map%u size is unreadable or not a number", i);
	if (size == 0 || size % page)
		return refuse(-EBADMSG, idx, "map%u size %#llx is not whole pages", i,
			      (unsigned long long)size);

	/* Kernels without the attribute place every region at its page start. */
	err = path_fmt(rel, sizeof(rel), "maps/map%u/offset", i);
	if (!err)
		err = uio_attr(sysroot, idx, rel, buf, sizeof(buf));
	if (err && err != -ENOENT)
		return refuse(-EBADMSG, idx, "map%u offset is unreadable (%d)", i, err);
	if (!err && ivshm_num_parse(buf, IVSHM_NUM_HEX, 0, page - 1, &offset))
		return refuse(-EBADMSG, idx, "map%u offset '%s' is not within a page", i, buf);
	if (size - offset < map_min_len[i])
		return refuse(-EBADMSG, idx, "map%u holds %llu bytes past its offset, needs %zu", i,
			      (unsigned long long)(size - offset), map_min_len[i]);

	info->map_size[i] = size;
	info->map_offset[i] = offset;
	return 0;
}

static int check_device_attrs(const char *sysroot, unsigned int idx,
			      struct ivshm_devinfo *info)
{
	char buf[64];
	uint64_t vectors;
	int peer;

	if (uio_attr(sysroot, idx, "device/" UIO_IVSHMEM_ATTR_MODE, buf, sizeof(buf)))
		return refuse(-EBADMSG, idx, "no readable " UIO_IVSHMEM_ATTR_MODE);
	if (strcmp(buf, "doorbell") == 0)
		info->mode = IVSHM_MODE_DOORBELL;
	else if (strcmp(buf, "plain") == 0)
		info->mode = IVSHM_MODE_PLAIN;
	else
		return refuse(-EBADMSG, idx, UIO_IVSHMEM_ATTR_MODE " is '%s'", buf);

	if (uio_attr(sysroot, idx, "device/" UIO_IVSHMEM_ATTR_VECTORS, buf, sizeof(buf)) ||
	    ivshm_num_parse(buf, IVSHM_NUM_HEX, 0, UIO_IVSHMEM_MAX_VECTORS, &vectors))
		return refuse(-EBADMSG, idx, UIO_IVSHMEM_ATTR_VECTORS " unreadable or above %u",
			      UIO_IVSHMEM_MAX_VECTORS);
	if ((info->mode == IVSHM_MODE_DOORBELL) != (vectors > 0))
		return refuse(-EBADMSG, idx, "%llu vectors on a %s device",
			      (unsigned long long)vectors,
			      info->mode == IVSHM_MODE_DOORBELL ? "doorbell" : "plain");
	info->nr_vectors = (unsigned int)vectors;

	if (uio_attr(sysroot, idx, "device/" UIO_IVSHMEM_ATTR_PEER_ID, buf, sizeof(buf)) ||
	    ivshm__parse_int(buf, -1, IVSHMEM_MAX_PEER_ID, &peer))
		return refuse(-EBADMSG, idx, UIO_IVSHMEM_ATTR_PEER_ID " unreadable or out of range");
	if ((info->mode == IVSHM_MODE_DOORBELL) != (peer >= 0))
		return refuse(-EBADMSG, idx, "peer ID %d on a %s device", peer,
			      info->mode == IVSHM_MODE_DOORBELL ? "doorbell" : "plain");
	info->peer_id = peer;
	return 0;
}

/* "MAJOR.MINOR": our major, any minor (a newer minor only adds). */
static int check_version(unsigned int idx, const char *v)
{
	uint64_t major, minor;
	const char *dot = strchr(v, '.');
	char head[16];

	if (!dot || (size_t)(dot - v) >= sizeof(head))
		return refuse(-EPROTO, idx, "ABI version '%s' is not MAJOR.MINOR", v);
	memcpy(head, v, (size_t)(dot - v));
	head[dot - v] = '\0';
	if (ivshm_num_parse(head, IVSHM_NUM_DEC, 0, UINT32_MAX, &major) ||
	    ivshm_num_parse(dot + 1, IVSHM_NUM_DEC, 0, UINT32_MAX, &minor))
		return refuse(-EPROTO, idx, "ABI version '%s' is not MAJOR.MINOR", v);
	if (major != UIO_IVSHMEM_ABI_MAJOR)
		return refuse(-EPROTO, idx, "ABI major %llu, libivshm speaks %u.x",
			      (unsigned long long)major, UIO_IVSHMEM_ABI_MAJOR);
	return 0;
}

/* The PCI address is the name the uioN/device link points to; optional. */
static void read_pci_addr(const char *sysroot, unsigned int idx, struct ivshm_devinfo *info)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	info->pci_addr[0] = '\0';
	if (path_fmt(path, sizeof(path), "%s/class/uio/uio%u/device", sysroot, idx))
		return;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) < sizeof(info->pci_addr))
		strcpy(info->pci_addr, base);
}

static int validate(const char *sysroot, unsigned int idx, struct ivshm_devinfo *info)
{
	char buf[64];
	unsigned int i;
	int err;

	err = uio_attr(sysroot, idx, "name", buf, sizeof(buf));
	if (err == -ENOENT)
		return -ENODEV;
	if (err == -EOVERFLOW)
		return refuse(-ENXIO, idx, "driver name too long for " UIO_IVSHMEM_NAME);
	if (err)
		return err;
	if (strcmp(buf, UIO_IVSHMEM_NAME) != 0)
		return refuse(-ENXIO, idx, "bound to '%s', not " UIO_IVSHMEM_NAME, buf);
	err = uio_attr(sysroot, idx, "version", buf, sizeof(buf));
	if (err == -EOVERFLOW)
		return refuse(-EPROTO, idx, "ABI version string too long");
	if (err)
		return refuse(-EBADMSG, idx, "no readable version (%d)", err);
	err = check_version(idx, buf);
	if (err)
		return err;

	memset(info, 0, sizeof(*info));
	info->uio_index = idx;
	for (i = 0; i < IVSHM_NR_MAPS; i++) {
		err = check_map(sysroot, idx, i, info);
		if (err)
			return err;
	}
	err = check_device_attrs(sysroot, idx, info);
	if (err)
		return err;
	read_pci_addr(sysroot, idx, info);
	return 0;
}

/*
 * Lowest uioN in directory @dir, restricted to uio_ivshmem devices when
 * @sysroot is given. Returns 0, -ENODEV when there is none, or -errno.
 */
static int lowest_uio(const char *dir, const char *sysroot, unsigned int *idx)
{
	unsigned int best = UINT_MAX, i;
	struct dirent *de;
	char name[64];
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			err = -errno;
			break;
		}
		if (parse_uio_name(de->d_name, &i) || i >= best)
			continue;
		if (sysroot && (uio_attr(sysroot, i, "name", name, sizeof(name)) ||
				strcmp(name, UIO_IVSHMEM_NAME) != 0))
			continue;
		best = i;
	}
	if (closedir(d) < 0 && !err)
		err = -errno;
	if (err)
		return err;
	if (best == UINT_MAX)
		return -ENODEV;
	*idx = best;
	return 0;
}

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "DDDD:BB:DD.F" or "BB:DD.F" into the canonical long form. */
static int parse_pci_addr(const char *s, char *out, size_t len)
{
	size_t n = strlen(s);

	if (n == 7 && is_hex(s, 2) && s[2] == ':' && is_hex(s + 3, 2) && s[5] == '.' &&
	    s[6] >= '0' && s[6] <= '7')
		return path_fmt(out, len, "0000:%s", s) ? -EINVAL : 0;
	if (n == 12 && is_hex(s, 4) && s[4] == ':' && is_hex(s + 5, 2) && s[7] == ':' &&
	    is_hex(s + 8, 2) && s[10] == '.' && s[11] >= '0' && s[11] <= '7')
		return path_fmt(out, len, "%s", s) ? -EINVAL : 0;
	return -EINVAL;
}

static int find_by_pci(const char *sysroot, const char *addr, unsigned int *idx)
{
	char canon[16], path[PATH_MAX];
	struct stat st;
	int err;

	if (parse_pci_addr(addr, canon, sizeof(canon)))
		return -EINVAL;
	err = path_fmt(path, sizeof(path), "%s/bus/pci/devices/%s", sysroot, canon);
	if (err)
		return err;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	err = path_fmt(path, sizeof(path), "%s/bus/pci/devices/%s/uio", sysroot, canon);
	if (err)
		return err;
	err = lowest_uio(path, NULL, idx);
	return err == -ENOENT || err == -ENODEV ? -ENXIO : err;
}

int ivshm__discover(const char *sysroot, const char *device, struct ivshm_devinfo *info)
{
	char path[PATH_MAX];
	unsigned int idx;
	int err;

	if (!sysroot || !info)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (!device || !*device) {
		err = path_fmt(path, sizeof(path), "%s/class/uio", sysroot);
		if (err)
			return err;
		err = lowest_uio(path, sysroot, &idx);
		if (err == -ENOENT)
			err = -ENODEV;
	} else if (strncmp(device, "/dev/", 5) == 0) {
		err = parse_uio_name(device + 5, &idx);
	} else if (strncmp(device, "uio", 3) == 0) {
		err = parse_uio_name(device, &idx);
	} else {
		err = find_by_pci(sysroot, device, &idx);
	}
	if (err == -EINVAL)
		ivshm__log(LOG_DEBUG, "device %s: not /dev/uioN, uioN, a PCI address or a link to "
			   "/dev/uioN", device);
	if (!err)
		err = validate(sysroot, idx, info);
	if (err == -ENODEV)
		ivshm__log(LOG_DEBUG, "%s: no such ivshmem UIO device (is uio_ivshmem loaded and "
			   "bound?)", device && *device ? device : "the first device");
	return err;
}
