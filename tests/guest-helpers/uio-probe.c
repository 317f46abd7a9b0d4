// SPDX-License-Identifier: GPL-2.0
/*
 * uio-probe: pokes a uio_ivshmem device from inside a test guest, one
 * operation per run, and prints one greppable line per result. It talks to
 * the kernel ABI directly (not through libivshm) so the driver's tests do not
 * depend on the library they are meant to underpin.
 *
 * "ro" before the operation opens /dev/uioN read-only (O_RDWR otherwise, or
 * O_RDONLY for the operations that never write). An access that raises SIGBUS
 * is reported as such instead of killing the probe.
 *
 * Exit status: 0 when the operation succeeded, 1 when it failed (the line
 * says why), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "number.h"
#include "uio_ivshmem.h"

#define HOLD_TIMEOUT_S 120

struct probe {
	const char *uio;	/* "uio0" */
	char dev[64];		/* "/dev/uio0" */
	int fd;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: uio-probe uioN [ro] map INDEX r|rw [shared|private] [LEN]\n"
		"       uio-probe uioN [ro] mprotect INDEX\n"
		"       uio-probe uioN counters\n"
		"       uio-probe uioN read\n"
		"       uio-probe uioN wait TIMEOUT_MS\n"
		"       uio-probe uioN poke OFFSET STRING\n"
		"       uio-probe uioN [ro] peek OFFSET LEN\n"
		"       uio-probe uioN ring PEER VECTOR\n"
		"       uio-probe uioN hold open|closed [ROUNDS]\n");
}

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown-errno";
}

static sigjmp_buf sigbus_env;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_env, 1);
}

/* Loads *p (1 or 4 bytes); -EFAULT when the load raised SIGBUS. */
static int load(const volatile void *p, size_t width, uint32_t *out)
{
	if (sigsetjmp(sigbus_env, 1))
		return -EFAULT;
	*out = width == 4 ? *(const volatile uint32_t *)p : *(const volatile uint8_t *)p;
	return 0;
}

/* Decimal, 0x hexadecimal or 0 octal, as strtoul(,,0) reads them. */
static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	uint64_t v;

	if (ivshm_num_parse(s, IVSHM_NUM_HEX | IVSHM_NUM_OCT, 0, max, &v))
		return -1;
	*out = v;
	return 0;
}

static int map_size(const struct probe *p, unsigned int index, size_t *size)
{
	char path[128];
	unsigned long long v;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/uio/%s/maps/map%u/size", p->uio, index);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llx", &v);
	fclose(f);
	if (n != 1 || v == 0 || v > SIZE_MAX)
		return -EBADMSG;
	*size = v;
	return 0;
}

/* Maps map @index at its sysfs size; returns MAP_FAILED with errno set. */
static void *map(const struct probe *p, unsigned int index, int prot, size_t *size)
{
	long page = sysconf(_SC_PAGESIZE);
	int ret = map_size(p, index, size);

	if (ret) {
		errno = -ret;
		return MAP_FAILED;
	}
	return mmap(NULL, *size, prot, MAP_SHARED, p->fd, (off_t)index * page);
}

static int cmd_map(struct probe *p, int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long index, len = 0;
	int prot, flags = MAP_SHARED, err;
	size_t size = 0;
	void *addr;

	if (argc < 2 || argc > 4 || parse_ulong(argv[0], UINT_MAX / 2, &index))
		return 2;
	if (!strcmp(argv[1], "r"))
		prot = PROT_READ;
	else if (!strcmp(argv[1], "rw"))
		prot = PROT_READ | PROT_WRITE;
	else
		return 2;
	if (argc > 2) {
		if (!strcmp(argv[2], "private"))
			flags = MAP_PRIVATE;
		else if (strcmp(argv[2], "shared"))
			return 2;
	}
	if (argc > 3 && parse_ulong(argv[3], SIZE_MAX, &len))
		return 2;
	if (!len && map_size(p, index, &size))
		size = page;
	addr = mmap(NULL, len ? len : size, prot, flags, p->fd, (off_t)index * page);
	err = errno;
	printf("map");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf(": %s\n", addr == MAP_FAILED ? errname(err) : "ok");
	return addr == MAP_FAILED;
}

static int cmd_mprotect(struct probe *p, int argc, char **argv)
{
	unsigned long index;
	size_t size;
	void *addr;

	if (argc != 1 || parse_ulong(argv[0], UINT_MAX / 2, &index))
		return 2;
	addr = map(p, index, PROT_READ, &size);
	if (addr == MAP_FAILED) {
		printf("mprotect %lu: map: %s\n", index, errname(errno));
		return 1;
	}
	if (mprotect(addr, size, PROT_READ | PROT_WRITE)) {
		printf("mprotect %lu rw: %s\n", index, errname(errno));
		return 1;
	}
	printf("mprotect %lu rw: ok\n", index);
	return 0;
}

/* The counters page as an ABI 2.x reader sees it. */
struct counters {
	uint32_t magic, flags, nr_vectors;
	uint16_t hdr_size, count_size;
	uint64_t count[UIO_IVSHMEM_MAX_VECTORS];
};

/*
 * Copies the page first: it changes under us. The counts start at hdr_size,
 * which a newer minor may have moved past the fields known here.
 */
static int read_counters(const struct probe *p, struct counters *c)
{
	const size_t known = offsetof(struct uio_ivshmem_counters, count);
	struct uio_ivshmem_counters hdr;
	unsigned char *copy;
	size_t size;
	void *addr = map(p, UIO_IVSHMEM_MAP_COUNTERS, PROT_READ, &size);
	int ret = 0;

	if (addr == MAP_FAILED)
		return -errno;
	copy = malloc(size);
	if (!copy) {
		munmap(addr, size);
		return -ENOMEM;
	}
	memcpy(copy, addr, size);
	munmap(addr, size);
	memcpy(&hdr, copy, known);
	if (hdr.magic != UIO_IVSHMEM_COUNTERS_MAGIC || hdr.hdr_size < known ||
	    hdr.hdr_size % sizeof(uint64_t) || hdr.count_size != sizeof(uint64_t) ||
	    hdr.nr_vectors > UIO_IVSHMEM_MAX_VECTORS ||
	    hdr.hdr_size + (size_t)hdr.nr_vectors * hdr.count_size > size) {
		ret = -EBADMSG;
	} else {
		*c = (struct counters){ .magic = hdr.magic, .flags = hdr.flags,
					.nr_vectors = hdr.nr_vectors, .hdr_size = hdr.hdr_size,
					.count_size = hdr.count_size };
		memcpy(c->count, copy + hdr.hdr_size, hdr.nr_vectors * sizeof(uint64_t));
	}
	free(copy);
	return ret;
}

static void print_counters(const struct counters *c)
{
	printf("counters: magic=0x%08" PRIx32 " vectors=%" PRIu32 "\n", c->magic, c->nr_vectors);
	printf("counters: hdr_size=%u count_size=%u flags=0x%" PRIx32 "\n", c->hdr_size,
	       c->count_size, c->flags);
	for (uint32_t i = 0; i < c->nr_vectors; i++)
		printf("count[%" PRIu32 "]=%llu\n", i, (unsigned long long)c->count[i]);
}

static int cmd_counters(struct probe *p, int argc, char **argv)
{
	struct counters c;
	int ret;

	(void)argv;
	if (argc != 0)
		return 2;
	ret = read_counters(p, &c);
	if (ret) {
		printf("counters: %s\n", errname(-ret));
		return 1;
	}
	print_counters(&c);
	return 0;
}

static int cmd_read(struct probe *p, int argc, char **argv)
{
	uint32_t events;
	ssize_t n;

	(void)argv;
	if (argc != 0)
		return 2;
	n = read(p->fd, &events, sizeof(events));
	if (n < 0) {
		printf("read: %s\n", errname(errno));
		return 1;
	}
	printf("read: %zd bytes, events=%" PRIu32 "\n", n, events);
	return 0;
}

/* Prints "waiting" once armed, then which vectors' counters moved. */
static int cmd_wait(struct probe *p, int argc, char **argv)
{
	struct counters before, after;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	unsigned long timeout;
	uint32_t events;
	int ret;

	if (argc != 1 || parse_ulong(argv[0], INT_MAX, &timeout))
		return 2;
	ret = read_counters(p, &before);
	if (ret) {
		printf("wait: counters: %s\n", errname(-ret));
		return 1;
	}
	printf("waiting\n");
	fflush(stdout);
	ret = poll(&pfd, 1, (int)timeout);
	if (ret < 0) {
		printf("wait: poll: %s\n", errname(errno));
		return 1;
	}
	if (ret == 0) {
		printf("wait: timeout\n");
		return 1;
	}
	if (read(p->fd, &events, sizeof(events)) != sizeof(events)) {
		printf("wait: read: %s\n", errname(errno));
		return 1;
	}
	ret = read_counters(p, &after);
	if (ret) {
		printf("wait: counters: %s\n", errname(-ret));
		return 1;
	}
	printf("fired:");
	for (uint32_t i = 0; i < after.nr_vectors && i < before.nr_vectors; i++)
		if (after.count[i] != before.count[i])
			printf(" %" PRIu32 "x%llu", i,
			       (unsigned long long)(after.count[i] - before.count[i]));
	printf("\n");
	return 0;
}

static int shmem_range(struct probe *p, const char *off_s, unsigned long len, int prot,
		       char **addr, size_t *size, unsigned long *off)
{
	void *m;

	if (parse_ulong(off_s, SIZE_MAX, off))
		return 2;
	m = map(p, UIO_IVSHMEM_MAP_SHMEM, prot, size);
	if (m == MAP_FAILED) {
		printf("shmem: map: %s\n", errname(errno));
		return 1;
	}
	if (*off > *size || len > *size - *off) {
		printf("shmem: range beyond %zu bytes\n", *size);
		munmap(m, *size);
		return 1;
	}
	*addr = m;
	return 0;
}

static int cmd_poke(struct probe *p, int argc, char **argv)
{
	unsigned long off;
	size_t size, len;
	char *addr;
	int ret;

	if (argc != 2)
		return 2;
	len = strlen(argv[1]) + 1;
	ret = shmem_range(p, argv[0], len, PROT_READ | PROT_WRITE, &addr, &size, &off);
	if (ret)
		return ret;
	memcpy(addr + off, argv[1], len);
	munmap(addr, size);
	printf("poke: ok\n");
	return 0;
}

static int cmd_peek(struct probe *p, int argc, char **argv)
{
	unsigned long off, len;
	size_t size;
	char *addr, *copy;
	int ret;

	if (argc != 2 || parse_ulong(argv[1], 4096, &len))
		return 2;
	ret = shmem_range(p, argv[0], len, PROT_READ, &addr, &size, &off);
	if (ret)
		return ret;
	copy = calloc(1, len + 1);
	if (!copy) {
		munmap(addr, size);
		printf("peek: %s\n", errname(ENOMEM));
		return 1;
	}
	memcpy(copy, addr + off, len);
	munmap(addr, size);
	printf("peek: %s\n", copy);
	free(copy);
	return 0;
}

/* Maps regs; the registers start at the map's sysfs offset. */
static volatile uint32_t *map_regs(const struct probe *p, const char *what, void **m,
				   size_t *size)
{
	char path[128];
	unsigned long long offs;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/uio/%s/maps/map%d/offset", p->uio,
		 UIO_IVSHMEM_MAP_REGS);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%llx", &offs) != 1) {
		printf("%s: %s: unreadable\n", what, path);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	*m = map(p, UIO_IVSHMEM_MAP_REGS, PROT_READ | PROT_WRITE, size);
	if (*m == MAP_FAILED) {
		printf("%s: map: %s\n", what, errname(errno));
		return NULL;
	}
	if (offs + IVSHMEM_REGS_SIZE > *size) {
		printf("%s: offset 0x%llx beyond the map\n", what, offs);
		munmap(*m, *size);
		return NULL;
	}
	return (volatile uint32_t *)((char *)*m + offs);
}

static int cmd_ring(struct probe *p, int argc, char **argv)
{
	unsigned long peer, vector;
	volatile uint32_t *regs;
	size_t size;
	void *m;

	if (argc != 2 || parse_ulong(argv[0], 0xffff, &peer) || parse_ulong(argv[1], 0xff, &vector))
		return 2;
	regs = map_regs(p, "ring", &m, &size);
	if (!regs)
		return 1;
	regs[IVSHMEM_REG_DOORBELL / 4] = (uint32_t)(peer << 16 | vector);
	munmap(m, size);
	printf("ring: ok\n");
	return 0;
}

/* Prints "hold R: WHAT=VALUE", or "hold R: WHAT: SIGBUS" when the load raised it. */
static void hold_load(unsigned long round, const char *what, const volatile void *addr,
		      size_t width, int hex)
{
	uint32_t v;

	if (load(addr, width, &v))
		printf("hold %lu: %s: SIGBUS\n", round, what);
	else if (hex)
		printf("hold %lu: %s=0x%08" PRIx32 "\n", round, what, v);
	else
		printf("hold %lu: %s=%" PRIu32 "\n", round, what, v);
}

/*
 * Maps regs, shmem and counters, touches them (round 0), says "holding",
 * then reports again on each of ROUNDS (default 1) SIGUSR1s, while the test
 * unbinds, rebinds or removes the device in between. The last shmem page is
 * touched only in those rounds: a fault that comes after the device went.
 */
static int cmd_hold(struct probe *p, int argc, char **argv)
{
	const struct timespec deadline = { .tv_sec = HOLD_TIMEOUT_S };
	const struct sigaction bus = { .sa_handler = on_sigbus };
	volatile const struct uio_ivshmem_counters *c;
	volatile const uint32_t *regs;
	volatile const char *shmem;
	size_t csize, ssize, rsize;
	unsigned long rounds = 1;
	struct pollfd pfd;
	uint32_t events;
	sigset_t set;
	void *m, *rmap;
	int ret;

	if (argc < 1 || argc > 2 || (strcmp(argv[0], "open") && strcmp(argv[0], "closed")) ||
	    (argc == 2 && (parse_ulong(argv[1], 100, &rounds) || !rounds)))
		return 2;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || sigaction(SIGBUS, &bus, NULL)) {
		printf("hold: signals: %s\n", errname(errno));
		return 1;
	}
	c = map(p, UIO_IVSHMEM_MAP_COUNTERS, PROT_READ, &csize);
	shmem = map(p, UIO_IVSHMEM_MAP_SHMEM, PROT_READ | PROT_WRITE, &ssize);
	if (c == MAP_FAILED || shmem == MAP_FAILED) {
		printf("hold: map: %s\n", errname(errno));
		return 1;
	}
	regs = map_regs(p, "hold", &rmap, &rsize);
	if (!regs)
		return 1;
	if (!strcmp(argv[0], "closed")) {
		close(p->fd);
		p->fd = -1;
	}
	for (unsigned long round = 0; round <= rounds; round++) {
		if (round == 1) {
			printf("holding %s\n", argv[0]);
			fflush(stdout);
		}
		if (round && sigtimedwait(&set, NULL, &deadline) != SIGUSR1) {
			printf("hold: no SIGUSR1: %s\n", errname(errno));
			return 1;
		}
		hold_load(round, "counters magic", &c->magic, 4, 1);
		hold_load(round, "counters vectors", &c->nr_vectors, 4, 0);
		hold_load(round, "regs ivposition", &regs[IVSHMEM_REG_IVPOSITION / 4], 4, 0);
		hold_load(round, "shmem[0]", &shmem[0], 1, 0);
		if (round)
			hold_load(round, "shmem[last]", &shmem[ssize - 1], 1, 0);
		if (!round || p->fd < 0)
			continue;
		pfd = (struct pollfd){ .fd = p->fd, .events = POLLIN };
		ret = poll(&pfd, 1, 1000);
		printf("hold %lu: poll=%d revents=0x%x\n", round, ret, pfd.revents);
		if (read(p->fd, &events, sizeof(events)) < 0)
			printf("hold %lu: read: %s\n", round, errname(errno));
		else
			printf("hold %lu: read: ok\n", round);
		m = mmap(NULL, csize, PROT_READ, MAP_SHARED, p->fd,
			 UIO_IVSHMEM_MAP_COUNTERS * sysconf(_SC_PAGESIZE));
		printf("hold %lu: new map: %s\n", round, m == MAP_FAILED ? errname(errno) : "ok");
		if (m != MAP_FAILED)
			munmap(m, csize);
	}
	ret = munmap((void *)c, csize) || munmap((void *)shmem, ssize) || munmap(rmap, rsize);
	printf("hold: done\n");
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(struct probe *p, int argc, char **argv);
	int flags;
} cmds[] = {
	{ "map", cmd_map, O_RDWR },
	{ "mprotect", cmd_mprotect, O_RDWR },
	{ "counters", cmd_counters, O_RDONLY },
	{ "read", cmd_read, O_RDONLY | O_NONBLOCK },
	{ "wait", cmd_wait, O_RDONLY },
	{ "poke", cmd_poke, O_RDWR },
	{ "peek", cmd_peek, O_RDWR },
	{ "ring", cmd_ring, O_RDWR },
	{ "hold", cmd_hold, O_RDWR },
};

int main(int argc, char **argv)
{
	struct probe p = { .fd = -1 };
	int readonly = 0, flags, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3 || strncmp(argv[1], "uio", 3) || strchr(argv[1], '/')) {
		usage();
		return 2;
	}
	p.uio = argv[1];
	snprintf(p.dev, sizeof(p.dev), "/dev/%s", p.uio);
	argv += 2;
	argc -= 2;
	if (!strcmp(argv[0], "ro")) {
		readonly = 1;
		argv++;
		argc--;
	}
	for (size_t i = 0; argc > 0 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name))
			continue;
		flags = readonly ? cmds[i].flags & ~O_ACCMODE : cmds[i].flags;
		p.fd = open(p.dev, flags | O_CLOEXEC);
		if (p.fd < 0) {
			printf("open %s: %s\n", p.dev, errname(errno));
			return 1;
		}
		ret = cmds[i].fn(&p, argc - 1, argv + 1);
		if (p.fd >= 0)
			close(p.fd);
		if (ret == 2)
			usage();
		return ret;
	}
	usage();
	return 2;
}
