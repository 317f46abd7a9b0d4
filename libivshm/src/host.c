// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host backend: a process that joins a doorbell server the way QEMU's
 * ivshmem-doorbell device does (contracts/ivshmem-server.h), through the
 * protocol client of common/pump.c. It maps the memory fd, rings a peer by
 * writing its eventfd, and counts its own vectors by reading its own
 * eventfds, whose counters merge doorbells exactly as the device's
 * interrupts do. Joins and leaves arrive on the socket and are read whenever
 * the handle counts; the end of the connection is the end of the server's
 * world for this handle (-ENOLINK). Eventfds are shared with every other
 * host peer: no syscall on them may block (host-ring.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "clock.h"
#include "eventfd.h"
#include "host-ring.h"
#include "internal.h"
#include "pump.h"
#include "barrier.h"

/* Without the server page or another peer, our own group ends after this much quiet. */
#define QUIET_MS 50
/* How often the link check reads the socket at most. */
#define LINK_PUMP_MS 1

struct host {
	struct ivshm_pump pump;
	bool lost;			/* the server went away: -ENOLINK */
	unsigned int want;		/* the vectors the caller asked for, 0: any */
	unsigned int flags;
	int64_t last_pump_ms;
	void *map;
	size_t map_len;
	struct ivshm_ringer *ringer;	/* after tampering was seen */
	uint64_t counts[UIO_IVSHMEM_MAX_VECTORS];
};

static void lose(struct ivshm_dev *dev, struct host *h, int why)
{
	if (h->lost)
		return;
	h->lost = true;
	if (why == -EPIPE)
		ivshm__log(LOG_WARNING, "%s: the doorbell server closed the connection: peers that "
			   "join later get other memory, this handle cannot reach them", dev->path);
	else
		ivshm__log(LOG_ERR, "%s: the connection to the doorbell server failed: %s",
			   dev->path, ivshm_pump_error(&h->pump));
}

/* Everything the server sent so far. Returns 0, or -ENOLINK once it went away. */
static int drain(struct ivshm_dev *dev, struct host *h)
{
	struct ivshm_event ev;
	int n;

	h->last_pump_ms = ivshm_clock_ms();
	while (!h->lost) {
		n = ivshm_pump_next(&h->pump, &ev);
		if (n == 0)
			return 0;
		if (n < 0) {
			lose(dev, h, n);
			break;
		}
		/* The session closed the leaver's eventfds; the ringer drops its copies. */
		if (ev.type == IVSHM_EV_LEAVE)
			ivshm__ringer_forget(h->ringer, ev.peer);
	}
	return -ENOLINK;
}

static int host_link(struct ivshm_dev *dev)
{
	struct host *h = dev->priv;

	/* Cheap enough for every call: the socket is read at most once a millisecond. */
	if (!h->lost && ivshm_clock_ms() - h->last_pump_ms >= LINK_PUMP_MS)
		drain(dev, h);
	return h->lost ? -ENOLINK : 0;
}

static int host_peer_present(struct ivshm_dev *dev, unsigned int id)
{
	struct host *h = dev->priv;

	if (drain(dev, h) || !dev->nr_vectors)
		return -1;
	if ((int)id == dev->peer_id)
		return 1;
	return ivshm_session_peer_present(h->pump.sess, id) ? 1 : 0;
}

static int host_ring(struct ivshm_dev *dev, unsigned int peer, unsigned int vector)
{
	struct host *h = dev->priv;
	int fd;

	if (h->lost)
		return -ENOLINK;
	fd = ivshm_session_peer_fd(h->pump.sess, peer, vector);
	/* Like the device: a doorbell to an absent peer or vector goes nowhere. */
	if (fd < 0)
		return 0;
	return ivshm__ring_eventfd(&h->ringer, fd, peer, vector);
}

static int host_counts(struct ivshm_dev *dev, uint64_t *now)
{
	struct host *h = dev->priv;
	unsigned int v;
	uint64_t n;
	int fd, err;

	err = drain(dev, h);
	if (err)
		return err;
	for (v = 0; v < dev->nr_vectors; v++) {
		fd = ivshm_session_peer_fd(h->pump.sess, (unsigned int)dev->peer_id, v);
		err = fd >= 0 ? ivshm_eventfd_take(fd, &n) : 0;
		if (err < 0)
			return err;
		if (err)
			h->counts[v] += n;
		now[v] = h->counts[v];
	}
	return 0;
}

static int host_block(struct ivshm_dev *dev, int timeout_ms)
{
	struct epoll_event ev[UIO_IVSHMEM_MAX_VECTORS + 1];
	struct host *h = dev->priv;

	if (h->lost)
		return -ENOLINK;
	if (epoll_wait(dev->fd, ev, UIO_IVSHMEM_MAX_VECTORS + 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

static void host_release(struct ivshm_dev *dev)
{
	struct host *h = dev->priv;

	if (dev->fd >= 0)
		close(dev->fd);
	if (h) {
		ivshm__ringer_free(h->ringer);
		if (h->map)
			munmap(h->map, h->map_len);
		ivshm_pump_close(&h->pump);
		free(h);
	}
}

static const struct ivshm_ops host_ops = {
	.ring = host_ring,
	.counts = host_counts,
	.block = host_block,
	.release = host_release,
	.link = host_link,
	.peer_present = host_peer_present,
};

/* The count is known and differs from what the caller asked for: refused at once. */
static int check_count(struct ivshm_dev *dev, struct host *h)
{
	unsigned int have = ivshm_session_vectors(h->pump.sess);

	if (!ivshm_session_vectors_known(h->pump.sess) || !h->want || have == h->want)
		return 0;
	ivshm__log(LOG_ERR, "%s: the server has %u vectors, you asked for %u", dev->path, have,
		   h->want);
	return -EINVAL;
}

/*
 * The vector count in the server page (contracts/ivshm-shm.h) of a server
 * that publishes it: 0 when there is none, or it is being rewritten.
 */
static unsigned int page_vectors(const struct host *h)
{
	const struct ivshm_shm_server *sp;
	uint32_t seq, magic, vectors;

	if (h->map_len < IVSHM_SHM_SERVER_OFF + sizeof(*sp))
		return 0;
	sp = (const struct ivshm_shm_server *)((const char *)h->map + IVSHM_SHM_SERVER_OFF);
	seq = ivshm_load_acquire(&sp->seq);
	magic = ivshm_load_relaxed(&sp->magic);
	vectors = ivshm_load_relaxed(&sp->vectors);
	/* The fields before the second load of seq: equal and even, they belong together. */
	ivshm_fence_acquire();
	if ((seq & 1) || ivshm_load_relaxed(&sp->seq) != seq || magic != IVSHM_SHM_SERVER_MAGIC ||
	    vectors > UIO_IVSHMEM_MAX_VECTORS)
		return 0;
	return vectors;
}

/* A server that publishes its page tells the count before any eventfd arrives. */
static int learn_from_page(struct ivshm_dev *dev, struct host *h)
{
	unsigned int vectors = page_vectors(h);

	if (!vectors)
		return 0;
	if (ivshm_session_set_vectors(h->pump.sess, vectors) == -EPROTO) {
		ivshm__log(LOG_ERR, "%s: %s", dev->path, ivshm_session_error(h->pump.sess));
		return -EPROTO;
	}
	return check_count(dev, h);
}

/* Refuse memory another process could shrink under us (SIGBUS), unless told to take it. */
static int check_seals(struct ivshm_dev *dev, struct host *h, int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals >= 0 && (seals & F_SEAL_SHRINK))
		return 0;
	if (h->flags & IVSHM_OPEN_UNSEALED)
		return 0;
	ivshm__log(LOG_ERR, "%s: the shared memory is not sealed with F_SEAL_SHRINK (ivshmd -M or "
		   "-m on a plain file system): another process could shrink it and kill this one "
		   "with SIGBUS; IVSHM_OPEN_UNSEALED accepts it", dev->path);
	return -EPERM;
}

/* The memory the server sent, mapped shared as soon as it arrives. */
static int map_shm(struct ivshm_dev *dev, struct host *h)
{
	int fd = ivshm_session_shm_fd(h->pump.sess);
	struct stat st;
	void *p;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0) {
		ivshm__log(LOG_ERR, "%s: the server sent empty shared memory", dev->path);
		return -EPROTO;
	}
	err = check_seals(dev, h, fd);
	if (err)
		return err;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	h->map = p;
	h->map_len = (size_t)st.st_size;
	return learn_from_page(dev, h);
}

static int on_setup_event(struct ivshm_dev *dev, struct host *h, const struct ivshm_event *ev)
{
	if (ev->type == IVSHM_EV_SHM)
		return map_shm(dev, h);
	/* Another peer's group may just have told the count. */
	return check_count(dev, h);
}

/*
 * With neither the server page nor another peer to tell the count, our own
 * group is whole when nothing more came for QUIET_MS: fix the count.
 */
static int quiet_gap(struct ivshm_dev *dev, struct host *h)
{
	struct ivshm_session *s = h->pump.sess;
	int err;

	err = ivshm_session_set_vectors(s, ivshm_session_peer_vectors(s,
						(unsigned int)ivshm_session_id(s)));
	if (err) {
		ivshm__log(LOG_ERR, "%s: %s", dev->path, ivshm_session_error(s));
		return -EPROTO;
	}
	return check_count(dev, h);
}

/*
 * The server greets with the others' eventfds first and ours last: news of
 * another peer after ours began means our group is whole. Without this, peers
 * joining and leaving more often than QUIET_MS would keep the gap from coming.
 */
static bool group_over(struct ivshm_session *s, const struct ivshm_event *ev)
{
	int own = ivshm_session_id(s);

	if (own < 0 || ivshm_session_shm_fd(s) < 0 || ivshm_session_vectors_known(s))
		return false;
	if (ev->type != IVSHM_EV_VECTOR && ev->type != IVSHM_EV_LEAVE)
		return false;
	return ev->peer != (unsigned int)own &&
	       ivshm_session_peer_vectors(s, (unsigned int)own) > 0;
}

/* Read the setup until our own last eventfd arrived, within @deadline. */
static int setup(struct ivshm_dev *dev, struct host *h, int64_t deadline)
{
	struct ivshm_session *s = h->pump.sess;
	int64_t last_msg = ivshm_clock_ms(), until;
	struct ivshm_event ev;
	bool learning;
	int n, err;

	while (!ivshm_session_ready(s)) {
		n = ivshm_pump_next(&h->pump, &ev);
		if (n > 0) {
			last_msg = ivshm_clock_ms();
			err = on_setup_event(dev, h, &ev);
			if (!err && group_over(s, &ev))
				err = quiet_gap(dev, h);
			if (err)
				return err;
			continue;
		}
		if (n == -EPIPE) {
			ivshm__log(LOG_DEBUG, "%s: the server hung up during the setup", dev->path);
			return -ECONNRESET;
		}
		if (n < 0) {
			ivshm__log(LOG_ERR, "%s: %s", dev->path, ivshm_pump_error(&h->pump));
			return n;
		}
		learning = ivshm_session_shm_fd(s) >= 0 && !ivshm_session_vectors_known(s);
		until = learning && last_msg + QUIET_MS < deadline ? last_msg + QUIET_MS : deadline;
		n = ivshm_pump_poll(&h->pump, until);
		if (n < 0)
			return n;
		if (n > 0)
			continue;
		if (ivshm_clock_ms() >= deadline) {
			ivshm__log(LOG_DEBUG, "%s: the setup did not complete in time", dev->path);
			return -ETIMEDOUT;
		}
		err = learning ? quiet_gap(dev, h) : 0;
		if (err)
			return err;
	}
	return 0;
}

/* Our eventfds and the socket in one epoll set: the handle's pollable fd. */
static int watch_all(struct ivshm_dev *dev, struct host *h)
{
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int v;
	int fd;

	dev->fd = epoll_create1(EPOLL_CLOEXEC);
	if (dev->fd < 0)
		return -errno;
	for (v = 0; v < dev->nr_vectors; v++) {
		fd = ivshm_session_peer_fd(h->pump.sess, (unsigned int)dev->peer_id, v);
		if (fd < 0)
			return -EPROTO;
		ev.data.u32 = v;
		if (epoll_ctl(dev->fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	/* The server's hang-up stays readable: the fd tells of the loss until the close. */
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = UIO_IVSHMEM_MAX_VECTORS;
	if (epoll_ctl(dev->fd, EPOLL_CTL_ADD, h->pump.sock, &ev) < 0)
		return -errno;
	return 0;
}

int ivshm_open_host(const char *socket_path, unsigned int vectors, int timeout_ms,
		    struct ivshm_dev **devp)
{
	return ivshm_open_server(socket_path, vectors, 0, timeout_ms, devp);
}

int ivshm_open_server(const char *socket_path, unsigned int vectors, unsigned int flags,
		      int timeout_ms, struct ivshm_dev **devp)
{
	int64_t deadline = ivshm_clock_ms() + timeout_ms;
	struct ivshm_dev *dev;
	struct host *h;
	int err;

	if (!socket_path || !devp || timeout_ms < 0 || vectors > UIO_IVSHMEM_MAX_VECTORS ||
	    (flags & ~IVSHM_OPEN_UNSEALED))
		return ivshm__bad_arg(__func__, "unknown flags, a NULL pointer, a negative timeout or too many vectors");
	if (strlen(socket_path) >= sizeof(dev->path))
		return -ENAMETOOLONG;
	dev = ivshm__dev_new(&host_ops, NULL, 0, -1, 0);
	h = calloc(1, sizeof(*h));
	if (!dev || !h) {
		free(dev);
		free(h);
		return -ENOMEM;
	}
	dev->priv = h;
	strcpy(dev->path, socket_path);
	h->want = vectors;
	h->flags = flags;
	/* The count comes from the server; ours is only compared with it. */
	err = ivshm_pump_open(&h->pump, socket_path, IVSHM_SESSION_ANY_VECTORS, true);
	if (err)
		goto out_release;
	err = setup(dev, h, deadline);
	if (err)
		goto out_release;
	dev->peer_id = ivshm_session_id(h->pump.sess);
	dev->nr_vectors = ivshm_session_vectors(h->pump.sess);
	dev->mode = dev->nr_vectors ? IVSHM_MODE_DOORBELL : IVSHM_MODE_PLAIN;
	ivshm__dev_set_memory(dev, h->map, h->map_len);
	err = watch_all(dev, h);
	if (!err)
		err = ivshm__dev_baseline(dev);
	if (err)
		goto out_release;
	*devp = dev;
	return 0;

out_release:
	host_release(dev);
	free(dev);
	return err;
}
