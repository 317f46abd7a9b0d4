// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The default mode: connect like QEMU's device, run the actions of the
 * command line in order, print the vector counts, disconnect.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "modes.h"
#include "output.h"

int peer_status(int err)
{
	return err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE;
}

int peer_write(struct conn *c, uint64_t off, const char *text)
{
	int ret = conn_write(c, off, text, strlen(text));

	if (ret) {
		say("error write offset=%llu: %s", (unsigned long long)off, strerror(-ret));
		return ret;
	}
	say("wrote offset=%llu len=%zu", (unsigned long long)off, strlen(text));
	return 0;
}

int peer_read(struct conn *c, uint64_t off, uint64_t len)
{
	static unsigned char buf[PEER_MAX_IO];
	int ret;

	if (len == 0 || len > PEER_MAX_IO) {
		say("error read: length must be 1 to %u", PEER_MAX_IO);
		return -EINVAL;
	}
	ret = conn_read(c, off, buf, len);
	if (ret) {
		say("error read offset=%llu: %s", (unsigned long long)off, strerror(-ret));
		return ret;
	}
	printf("read offset=%llu hex=", (unsigned long long)off);
	for (uint64_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
	say("%s", "");
	return 0;
}

int peer_ring(struct conn *c, uint64_t peer, uint64_t v)
{
	int ret = -ENOENT;

	if (peer <= IVSHMEM_MAX_PEER_ID && v < UIO_IVSHMEM_MAX_VECTORS)
		ret = conn_ring(c, (unsigned)peer, (unsigned)v);
	if (ret) {
		say("error ring peer=%llu vector=%llu: %s", (unsigned long long)peer,
		    (unsigned long long)v, ret == -ENOENT ? "no such peer or vector" : strerror(-ret));
		return ret;
	}
	say("rang peer=%llu vector=%llu", (unsigned long long)peer, (unsigned long long)v);
	return 0;
}

/* Sealed memfds refuse; the result is printed either way, it is what a test checks. */
static void try_truncate(struct conn *c, uint64_t size)
{
	int fd = ivshm_session_shm_fd(c->p.sess);

	if (ftruncate(fd, (off_t)size) < 0)
		say("truncate size=%llu result=%s", (unsigned long long)size, strerrorname_np(errno));
	else
		say("truncate size=%llu result=ok", (unsigned long long)size);
}

/* Wait for own vector v, still serving the socket so joins and leaves are seen. */
static int wait_vector(struct conn *c, unsigned v, int timeout_ms)
{
	int64_t deadline = ivshm_clock_ms() + timeout_ms;
	int fd = conn_own_fd(c, v);

	if (fd < 0) {
		say("error wait: no own vector %u", v);
		return -ENOENT;
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = c->p.sock, .events = POLLIN },
		};
		int64_t left = deadline - ivshm_clock_ms();
		long long got;
		int ret;

		if (left <= 0) {
			say("timeout vector=%u", v);
			return -ETIMEDOUT;
		}
		ret = poll(p, 2, (int)left);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret > 0 && p[1].revents) {
			ret = conn_pump(c);
			if (ret)
				return ret > 0 ? -EPIPE : ret;
		}
		got = conn_take(c, v);
		if (got < 0)
			return (int)got;
		if (got > 0)
			return 0;
	}
}

static int run_actions(struct conn *c, const struct peer_opts *o)
{
	for (unsigned i = 0; i < o->nact; i++) {
		const struct action *a = &o->act[i];
		int ret = 0;

		switch (a->kind) {
		case ACT_WRITE:
			ret = peer_write(c, a->a, a->text);
			break;
		case ACT_READ:
			ret = peer_read(c, a->a, a->b);
			break;
		case ACT_RING:
			ret = peer_ring(c, a->a, a->b);
			break;
		case ACT_WAIT:
			ret = wait_vector(c, (unsigned)a->a, o->timeout_ms);
			break;
		case ACT_TRUNCATE:
			try_truncate(c, a->a);
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static void print_counts(struct conn *c)
{
	unsigned nvec = ivshm_session_vectors(c->p.sess);
	char buf[UIO_IVSHMEM_MAX_VECTORS * 21 + 2] = "-";
	size_t used = 0;

	/* Firings that arrived but were never waited for count too. */
	for (unsigned v = 0; v < nvec; v++)
		conn_take(c, v);
	for (unsigned v = 0; v < nvec; v++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%llu", v ? "," : "",
					 (unsigned long long)c->counts[v]);
	say("counts %s", buf);
}

int peer_connected(const struct peer_opts *o, int sfd, int (*then)(struct conn *c, int sfd))
{
	struct conn c = { .trace = o->trace, .quiet = o->quiet };
	int ret;

	ret = conn_open(&c, o->socket, o->vectors, true);
	if (ret)
		return EXIT_FAILURE;
	ret = conn_wait_ready(&c, ivshm_clock_ms() + o->timeout_ms);
	if (ret) {
		if (ret == -ETIMEDOUT)
			say("error timeout waiting for the setup");
		else if (ret > 0)
			say("error server closed the connection during the setup");
		conn_close(&c);
		return ret > 0 ? EXIT_FAILURE : peer_status(ret);
	}
	ret = run_actions(&c, o);
	if (!ret && then)
		ret = then(&c, sfd);
	print_counts(&c);
	conn_close(&c);
	return ret ? peer_status(ret) : EXIT_SUCCESS;
}

int mode_actions(const struct peer_opts *o, int sfd)
{
	return peer_connected(o, sfd, NULL);
}
