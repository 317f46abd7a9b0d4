// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "eventfd.h"
#include "output.h"

/* Linux 6.3 (MFD_NOEXEC_SEAL adds it); Debian 12's headers predate it. */
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

int conn_open(struct conn *c, const char *path, unsigned vectors, bool keep)
{
	int ret;

	c->map = NULL;
	c->size = 0;
	c->map_shm = keep;
	memset(c->counts, 0, sizeof(c->counts));
	ret = ivshm_pump_open(&c->p, path, vectors, keep);
	if (ret == -ENAMETOOLONG)
		say("error socket path too long");
	else if (ret == -ENOMEM || ret == -EINVAL)
		say("error session: %s", strerror(-ret));
	else if (ret)
		say("error connect %s: %s", path, strerror(-ret));
	return ret;
}

void conn_close(struct conn *c)
{
	if (c->map)
		munmap(c->map, c->size);
	c->map = NULL;
	ivshm_pump_close(&c->p);
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
	unsigned limit = ivshm_session_peer_limit(c->p.sess);
	int self = ivshm_session_id(c->p.sess);
	unsigned vectors = ivshm_session_vectors(c->p.sess);
	char peers[256] = "-";
	size_t used = 0;

	/* Without vectors the server names no peer before it leaves: "-". */
	for (unsigned id = 0; vectors && id < limit; id++) {
		if ((int)id == self || ivshm_session_peer_vectors(c->p.sess, id) != vectors)
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
		return on_shm(c, ivshm_session_shm_fd(c->p.sess));
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

int conn_pump(struct conn *c)
{
	for (;;) {
		bool was_ready = ivshm_session_ready(c->p.sess);
		struct ivshm_event ev;
		int ret;

		ret = ivshm_pump_next(&c->p, &ev);
		if (ret == 0)
			return 0;
		if (ret == -EPIPE) {
			say("eof");
			return 1;
		}
		/* A message the session refused was still received: trace it first. */
		if (c->trace && (ret > 0 || c->p.refused))
			say("msg %lld %s", (long long)c->p.value, c->p.with_fd ? "fd" : "-");
		if (ret < 0) {
			if (c->p.refused)
				say("error protocol: %s (message %lld)", ivshm_pump_error(&c->p),
				    (long long)c->p.value);
			else
				say("error receive: %s", strerror(-ret));
			return ret;
		}
		ret = on_event(c, &ev, was_ready);
		/* The last own eventfd ends the setup; without vectors, the memory does. */
		if (!ret && !was_ready && ivshm_session_ready(c->p.sess) && !c->quiet)
			print_ready(c);
		if (ret)
			return ret;
	}
}

int conn_wait_ready(struct conn *c, int64_t deadline_ms)
{
	while (!ivshm_session_ready(c->p.sess)) {
		int ret = ivshm_pump_poll(&c->p, deadline_ms);

		if (ret < 0)
			return ret;
		if (ret == 0)
			return -ETIMEDOUT;
		ret = conn_pump(c);
		if (ret)
			return ret;
	}
	return 0;
}

int conn_own_fd(const struct conn *c, unsigned v)
{
	int id = ivshm_session_id(c->p.sess);

	if (id < 0)
		return -1;
	return ivshm_session_peer_fd(c->p.sess, (unsigned)id, v);
}

int conn_ring(struct conn *c, unsigned peer, unsigned v)
{
	uint64_t one = 1;
	int fd = ivshm_session_peer_fd(c->p.sess, peer, v);

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
	uint64_t n;
	int ret;

	if (fd < 0)
		return -ENOENT;
	ret = ivshm_eventfd_take(fd, &n);
	if (ret <= 0)
		return ret;
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
