// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "output.h"
#include "unix.h"

/* Linux 6.3 (MFD_NOEXEC_SEAL adds it); Debian 12's headers predate it. */
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

int conn_open(struct conn *c, const char *path, unsigned vectors, bool keep)
{
	int ret;

	c->sock = -1;
	c->sess = NULL;
	c->map = NULL;
	c->size = 0;
	c->map_shm = keep;
	memset(c->counts, 0, sizeof(c->counts));
	ivshm_proto_reader_init(&c->rd);
	ret = ivshm_session_new(vectors, keep, &c->sess);
	if (ret) {
		say("error session: %s", strerror(-ret));
		return ret;
	}
	c->sock = ivshm_unix_connect(path);
	if (c->sock < 0) {
		ret = c->sock;
		if (ret == -ENAMETOOLONG)
			say("error socket path too long");
		else
			say("error connect %s: %s", path, strerror(-ret));
		ivshm_session_free(c->sess);
		c->sess = NULL;
		return ret;
	}
	return 0;
}

void conn_close(struct conn *c)
{
	if (c->map)
		munmap(c->map, c->size);
	c->map = NULL;
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	ivshm_proto_reader_reset(&c->rd);
	ivshm_session_free(c->sess);
	c->sess = NULL;
}

static void seal_names(int fd, char *buf, size_t len)
{
	static const struct { int bit; const char *name; } names[] = {
		{ F_SEAL_SEAL, "seal" }, { F_SEAL_SHRINK, "shrink" },
		{ F_SEAL_GROW, "grow" }, { F_SEAL_WRITE, "write" }, { F_SEAL_EXEC, "exec" },
	};
	int seals = fcntl(fd, F_GET_SEALS);
	size_t used = 0;

	if (seals < 0) {
		snprintf(buf, len, "unsupported");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(seals & names[i].bit))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
					 names[i].name);
		if (used >= len)
			return;
	}
	if (!used)
		snprintf(buf, len, "none");
}

/* Map like QEMU: MAP_SHARED over the fstat size, which must be a power of two. */
static int on_shm(struct conn *c, int fd)
{
	struct stat st;
	char seals[64];
	void *p;

	if (fstat(fd, &st) < 0) {
		int err = -errno;

		say("error fstat shm: %s", strerror(-err));
		return err;
	}
	if (st.st_size <= 0 || (st.st_size & (st.st_size - 1))) {
		say("error shm size %lld is not a power of two", (long long)st.st_size);
		return -EPROTO;
	}
	c->size = (uint64_t)st.st_size;
	seal_names(fd, seals, sizeof(seals));
	if (!c->quiet)
		say("shm size=%llu seals=%s dev=%02x:%02x ino=%llu", (unsigned long long)c->size,
		    seals, major(st.st_dev), minor(st.st_dev), (unsigned long long)st.st_ino);
	if (!c->map_shm)
		return 0;
	p = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		say("error mmap shm: %s", strerror(-err));
		return err;
	}
	c->map = p;
	return 0;
}

static void print_ready(struct conn *c)
{
	unsigned limit = ivshm_session_peer_limit(c->sess);
	int self = ivshm_session_id(c->sess);
	unsigned vectors = ivshm_session_vectors(c->sess);
	char peers[256] = "-";
	size_t used = 0;

	/* Without vectors the server names no peer before it leaves: "-". */
	for (unsigned id = 0; vectors && id < limit; id++) {
		if ((int)id == self || ivshm_session_peer_vectors(c->sess, id) != vectors)
			continue;
		if (used + 8 >= sizeof(peers)) {
			snprintf(peers + used, sizeof(peers) - used, ",...");
			break;
		}
		used += (size_t)snprintf(peers + used, sizeof(peers) - used, "%s%u",
					 used ? "," : "", id);
	}
	say("ready id=%d vectors=%u peers=%s", self, vectors, peers);
}

static int on_event(struct conn *c, const struct ivshm_event *ev, bool was_ready)
{
	switch (ev->type) {
	case IVSHM_EV_VERSION:
		if (!c->quiet)
			say("version %lld", (long long)ev->value);
		return 0;
	case IVSHM_EV_ID:
		if (!c->quiet)
			say("id %u", ev->peer);
		return 0;
	case IVSHM_EV_SHM:
		return on_shm(c, ivshm_session_shm_fd(c->sess));
	case IVSHM_EV_VECTOR:
		if (c->quiet)
			return 0;
		say("vector peer=%u index=%u", ev->peer, ev->vector);
		if (ev->complete && was_ready)
			say("join peer=%u", ev->peer);
		return 0;
	case IVSHM_EV_LEAVE:
		if (!c->quiet)
			say("leave peer=%u", ev->peer);
		return 0;
	}
	return 0;
}

static int on_message(struct conn *c, int64_t value, int fd)
{
	struct ivshm_event ev;
	bool was_ready = ivshm_session_ready(c->sess);
	int ret;

	if (c->trace)
		say("msg %lld %s", (long long)value, fd >= 0 ? "fd" : "-");
	ret = ivshm_session_feed(c->sess, value, fd, &ev);
	if (ret) {
		say("error protocol: %s (message %lld)", ivshm_session_error(c->sess),
		    (long long)value);
		return ret;
	}
	ret = on_event(c, &ev, was_ready);
	/* The last own eventfd ends the setup; without vectors, the memory does. */
	if (!ret && !was_ready && ivshm_session_ready(c->sess) && !c->quiet)
		print_ready(c);
	return ret;
}

int conn_pump(struct conn *c)
{
	for (;;) {
		int64_t value;
		int fd, ret;

		ret = ivshm_proto_read(&c->rd, c->sock, &value, &fd);
		if (ret == -EAGAIN)
			return 0;
		if (ret == 0) {
			say("eof");
			return 1;
		}
		if (ret < 0) {
			say("error receive: %s", strerror(-ret));
			return ret;
		}
		ret = on_message(c, value, fd);
		if (ret)
			return ret;
	}
}

int conn_wait_ready(struct conn *c, int64_t deadline_ms)
{
	while (!ivshm_session_ready(c->sess)) {
		struct pollfd p = { .fd = c->sock, .events = POLLIN };
		int64_t left = deadline_ms - ivshm_clock_ms();
		int ret;

		if (left <= 0)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)left);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		ret = conn_pump(c);
		if (ret)
			return ret;
	}
	return 0;
}

int conn_own_fd(const struct conn *c, unsigned v)
{
	int id = ivshm_session_id(c->sess);

	if (id < 0)
		return -1;
	return ivshm_session_peer_fd(c->sess, (unsigned)id, v);
}

int conn_ring(struct conn *c, unsigned peer, unsigned v)
{
	uint64_t one = 1;
	int fd = ivshm_session_peer_fd(c->sess, peer, v);

	if (fd < 0)
		return -ENOENT;
	/* An eventfd takes all 8 bytes or fails: there is no short write. */
	if (write(fd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

long long conn_take(struct conn *c, unsigned v)
{
	int fd = conn_own_fd(c, v);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n;

	if (fd < 0)
		return -ENOENT;
	/* poll first: the eventfd is the server's, and we must not block if it lacks O_NONBLOCK. */
	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
		return 0;
	/* An eventfd read returns all 8 bytes or fails. */
	if (read(fd, &n, sizeof(n)) < 0)
		return errno == EAGAIN ? 0 : -errno;
	c->counts[v] += n;
	say("got vector=%u count=%llu", v, (unsigned long long)n);
	return (long long)n;
}

static int check_range(const struct conn *c, uint64_t off, uint64_t len)
{
	if (!c->map)
		return -ENODEV;
	if (off > c->size || len > c->size - off)
		return -ERANGE;
	return 0;
}

int conn_write(struct conn *c, uint64_t off, const void *buf, uint64_t len)
{
	int ret = check_range(c, off, len);

	if (!ret)
		memcpy(c->map + off, buf, len);
	return ret;
}

int conn_read(struct conn *c, uint64_t off, void *buf, uint64_t len)
{
	int ret = check_range(c, off, len);

	if (!ret)
		memcpy(buf, c->map + off, len);
	return ret;
}
