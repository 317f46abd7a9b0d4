// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host backend: a process that joins a doorbell server the way QEMU's
 * ivshmem-doorbell device does (contracts/ivshmem-server.h). It maps the
 * memory fd, rings a peer by writing its eventfd, and counts its own vectors
 * by reading its own eventfds, whose counters merge doorbells exactly as the
 * device's interrupts do. Joins and leaves arrive on the socket and are read
 * whenever the handle counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "clock.h"
#include "internal.h"
#include "proto.h"
#include "session.h"
#include "unix.h"

struct host {
	int sock;			/* -1 once the server went away: peers keep their fds */
	struct ivshm_proto_reader rd;
	struct ivshm_session *sess;
	void *map;
	size_t map_len;
	uint64_t counts[UIO_IVSHMEM_MAX_VECTORS];
};

/* Everything the server sent so far, fed to the session. Returns 0 or -EPROTO. */
static int pump(struct ivshm_dev *dev, struct host *h)
{
	struct ivshm_event ev;
	int64_t value;
	int fd, n, err;

	while (h->sock >= 0) {
		n = ivshm_proto_read(&h->rd, h->sock, &value, &fd);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			/* A restarted or stopped server: our memory and eventfds stay valid. */
			ivshm__log(LOG_DEBUG, "%s: the doorbell server closed the connection (%d)",
				   dev->path, n);
			close(h->sock);
			h->sock = -1;
			return 0;
		}
		err = ivshm_session_feed(h->sess, value, fd, &ev);
		if (err) {
			ivshm__log(LOG_ERR, "%s: %s", dev->path, ivshm_session_error(h->sess));
			return err;
		}
	}
	return 0;
}

static int host_ring(struct ivshm_dev *dev, unsigned int peer, unsigned int vector)
{
	struct host *h = dev->priv;
	uint64_t one = 1;
	int fd;

	fd = ivshm_session_peer_fd(h->sess, peer, vector);
	/* Like the device: a doorbell to an absent peer or vector goes nowhere. */
	if (fd < 0)
		return 0;
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int host_counts(struct ivshm_dev *dev, uint64_t *now)
{
	struct host *h = dev->priv;
	unsigned int v;
	uint64_t n;
	int fd, err;

	err = pump(dev, h);
	if (err)
		return err;
	for (v = 0; v < dev->nr_vectors; v++) {
		fd = ivshm_session_peer_fd(h->sess, (unsigned int)dev->peer_id, v);
		if (fd >= 0 && read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
			h->counts[v] += n;
		now[v] = h->counts[v];
	}
	return 0;
}

static int host_block(struct ivshm_dev *dev, int timeout_ms)
{
	struct epoll_event ev[UIO_IVSHMEM_MAX_VECTORS + 1];

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
		if (h->map)
			munmap(h->map, h->map_len);
		if (h->sock >= 0)
			close(h->sock);
		ivshm_proto_reader_reset(&h->rd);
		ivshm_session_free(h->sess);
		free(h);
	}
}

static const struct ivshm_ops host_ops = {
	.ring = host_ring,
	.counts = host_counts,
	.block = host_block,
	.release = host_release,
};

/* Read the setup until our own last eventfd arrived, within @deadline. */
static int setup(struct ivshm_dev *dev, struct host *h, int64_t deadline)
{
	struct pollfd pfd = { .fd = h->sock, .events = POLLIN };
	int64_t left;
	int err;

	while (!ivshm_session_ready(h->sess)) {
		err = pump(dev, h);
		if (err)
			return err;
		if (h->sock < 0) {
			ivshm__log(LOG_DEBUG, "%s: the server hung up during the setup", dev->path);
			return -ECONNRESET;
		}
		if (ivshm_session_ready(h->sess))
			break;
		left = deadline - ivshm_clock_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* The memory the server sent, mapped shared. */
static int map_shm(struct host *h)
{
	struct stat st;
	int fd = ivshm_session_shm_fd(h->sess);
	void *p;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0)
		return -EBADMSG;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	h->map = p;
	h->map_len = (size_t)st.st_size;
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
	for (v = 0; v <= dev->nr_vectors; v++) {
		fd = v < dev->nr_vectors ?
			ivshm_session_peer_fd(h->sess, (unsigned int)dev->peer_id, v) : h->sock;
		/* The socket may be gone already: the eventfds are what counts. */
		if (fd < 0 && v == dev->nr_vectors)
			break;
		if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
			return fd < 0 ? -EBADMSG : -errno;
		ev.data.fd = fd;
		if (epoll_ctl(dev->fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
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

	if (!socket_path || !devp || timeout_ms < 0 || vectors == 0 ||
	    vectors > UIO_IVSHMEM_MAX_VECTORS || (flags & ~IVSHM_OPEN_UNSEALED))
		return -EINVAL;
	dev = ivshm__dev_new(&host_ops, NULL, 0, -1, vectors);
	h = calloc(1, sizeof(*h));
	if (!dev || !h) {
		free(dev);
		free(h);
		return -ENOMEM;
	}
	dev->priv = h;
	h->sock = -1;
	ivshm_proto_reader_init(&h->rd);
	if (strlen(socket_path) >= sizeof(dev->path)) {
		err = -ENAMETOOLONG;
		goto out_release;
	}
	strcpy(dev->path, socket_path);
	err = ivshm_session_new(vectors, true, &h->sess);
	if (err)
		goto out_release;
	h->sock = ivshm_unix_connect(socket_path);
	if (h->sock < 0) {
		err = h->sock;
		goto out_release;
	}
	err = setup(dev, h, deadline);
	if (!err)
		err = map_shm(h);
	if (err)
		goto out_release;
	dev->peer_id = ivshm_session_id(h->sess);
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
