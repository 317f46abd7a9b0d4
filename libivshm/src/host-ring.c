// SPDX-License-Identifier: LGPL-2.1-or-later
/* Doorbells and counts of a host handle that no other host peer can block (host-ring.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "clock.h"
#include "host-ring.h"
#include "internal.h"

/* Our own copies (dup) of one peer's eventfds, so the ringer never writes a closed fd. */
struct rpeer {
	uint64_t pending;		/* doorbells to ring, bit v = vector v */
	uint64_t dropped;		/* eventfds a stuck ringer was cancelled on */
	int fds[UIO_IVSHMEM_MAX_VECTORS];
};

struct ivshm_ringer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned int refs;		/* the handle's, and one per thread not yet gone */
	unsigned int gen;		/* the current thread's; a thread of another one exits */
	bool running;			/* a thread of generation gen exists */
	struct rpeer **peers;		/* by peer ID, NULL: none */
	unsigned int npeers;
	/* The write in progress: its fd is ours until it returns. */
	int busy_fd;			/* -1: none */
	unsigned int busy_peer, busy_vector;
	int64_t busy_since;
	pthread_t busy_thread;
	bool busy_orphan;		/* its peer left: the thread closes the fd */
};

struct thread_arg {
	struct ivshm_ringer *r;
	unsigned int gen;
};

/* What a cancelled write leaves: its fd, and the thread's reference. */
struct cancel_ctx {
	struct ivshm_ringer *r;
	int fd;
};

/*
 * Restore O_NONBLOCK if another peer cleared it. Returns 1 if it had, 0 if
 * not, -1 when the counter is full (the peer is already signalled: nothing
 * to write), -errno.
 */
static int check_flag(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (fl & O_NONBLOCK)
		return 0;
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (poll(&p, 1, 0) < 0)
		return -errno;
	return p.revents & POLLOUT ? 1 : -1;
}

/* An eventfd write is all 8 bytes or nothing; EAGAIN is a full counter: dropped. */
static int write_one(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static void ringer_destroy(struct ivshm_ringer *r)
{
	for (unsigned int i = 0; i < r->npeers; i++) {
		if (!r->peers[i])
			continue;
		for (unsigned int v = 0; v < UIO_IVSHMEM_MAX_VECTORS; v++)
			if (r->peers[i]->fds[v] >= 0)
				close(r->peers[i]->fds[v]);
		free(r->peers[i]);
	}
	free(r->peers);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

/* Drop one reference, the mutex held; frees @r after the last. */
static void put_locked(struct ivshm_ringer *r)
{
	bool last = --r->refs == 0;

	pthread_mutex_unlock(&r->mu);
	if (last)
		ringer_destroy(r);
}

static void on_cancel(void *arg)
{
	struct cancel_ctx *c = arg;

	close(c->fd);
	pthread_mutex_lock(&c->r->mu);
	put_locked(c->r);
}

/* The next pending doorbell, taken off the table: 1 with *fd, *peer, *vector, or 0. */
static int take_pending(struct ivshm_ringer *r, int *fd, unsigned int *peer, unsigned int *vector)
{
	for (unsigned int i = 0; i < r->npeers; i++) {
		struct rpeer *rp = r->peers[i];
		unsigned int v;

		if (!rp || !rp->pending)
			continue;
		v = (unsigned int)__builtin_ctzll(rp->pending);
		rp->pending &= ~(UINT64_C(1) << v);
		if (rp->fds[v] < 0 || (rp->dropped >> v & 1))
			return take_pending(r, fd, peer, vector);
		*fd = rp->fds[v];
		*peer = i;
		*vector = v;
		return 1;
	}
	return 0;
}

static void *ringer_main(void *p)
{
	struct thread_arg a = *(struct thread_arg *)p;
	struct ivshm_ringer *r = a.r;
	struct cancel_ctx c = { .r = r };
	unsigned int peer, vector;

	free(p);
	/* Cancellable only inside write(): nowhere else can it leave the state half-changed. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&r->mu);
	while (r->gen == a.gen) {
		if (!take_pending(r, &c.fd, &peer, &vector)) {
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		r->busy_fd = c.fd;
		r->busy_peer = peer;
		r->busy_vector = vector;
		r->busy_since = ivshm_clock_ms();
		r->busy_thread = pthread_self();
		pthread_mutex_unlock(&r->mu);
		if (check_flag(c.fd) >= 0) {
			pthread_cleanup_push(on_cancel, &c);
			pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
			write_one(c.fd);
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
			pthread_cleanup_pop(0);
		}
		pthread_mutex_lock(&r->mu);
		/* Fired while the write was returning anyway, or its peer left: the fd is ours. */
		if (r->gen != a.gen || r->busy_orphan)
			close(c.fd);
		if (r->gen == a.gen) {
			r->busy_fd = -1;
			r->busy_orphan = false;
		}
	}
	put_locked(r);
	return NULL;
}

/* Give up on a ringer stuck in write(): the eventfd it is on is dropped. The mutex is held. */
static void cancel_stuck(struct ivshm_ringer *r)
{
	struct rpeer *rp;

	if (r->busy_fd < 0 || ivshm_clock_ms() - r->busy_since < IVSHM_RINGER_STUCK_MS)
		return;
	ivshm__log(LOG_WARNING, "the doorbell of peer %u vector %u is blocked by another host peer "
		   "(a full eventfd without O_NONBLOCK): dropping that doorbell from now on",
		   r->busy_peer, r->busy_vector);
	rp = r->peers[r->busy_peer];
	if (!r->busy_orphan) {
		rp->fds[r->busy_vector] = -1;	/* the cancelled thread closes it */
		rp->dropped |= UINT64_C(1) << r->busy_vector;
	}
	pthread_cancel(r->busy_thread);
	r->gen++;
	r->running = false;
	r->busy_fd = -1;
	r->busy_orphan = false;
}

static int start_thread(struct ivshm_ringer *r)
{
	struct thread_arg *a = malloc(sizeof(*a));
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int err;

	if (!a)
		return -ENOMEM;
	a->r = r;
	a->gen = r->gen;
	/* The application's signals are for its own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_attr_init(&attr);
	if (!err) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		err = pthread_create(&t, &attr, ringer_main, a);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(a);
		return -err;
	}
	r->refs++;
	r->running = true;
	return 0;
}

static struct rpeer *peer_slot(struct ivshm_ringer *r, unsigned int peer)
{
	if (peer >= r->npeers) {
		unsigned int n = r->npeers ? r->npeers : 16;
		struct rpeer **p;

		while (n <= peer)
			n *= 2;
		p = realloc(r->peers, n * sizeof(*p));
		if (!p)
			return NULL;
		for (unsigned int i = r->npeers; i < n; i++)
			p[i] = NULL;
		r->peers = p;
		r->npeers = n;
	}
	if (!r->peers[peer]) {
		struct rpeer *rp = calloc(1, sizeof(*rp));

		if (!rp)
			return NULL;
		for (unsigned int v = 0; v < UIO_IVSHMEM_MAX_VECTORS; v++)
			rp->fds[v] = -1;
		r->peers[peer] = rp;
	}
	return r->peers[peer];
}

static int queue(struct ivshm_ringer *r, int fd, unsigned int peer, unsigned int vector)
{
	uint64_t bit = UINT64_C(1) << vector;
	struct rpeer *rp;
	int err = 0;

	pthread_mutex_lock(&r->mu);
	cancel_stuck(r);
	rp = peer_slot(r, peer);
	if (!rp) {
		err = -ENOMEM;
		goto out;
	}
	if (rp->dropped & bit)
		goto out;
	if (rp->fds[vector] < 0) {
		rp->fds[vector] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (rp->fds[vector] < 0) {
			err = -errno;
			goto out;
		}
	}
	rp->pending |= bit;
	if (!r->running)
		err = start_thread(r);
	pthread_cond_signal(&r->cv);
out:
	pthread_mutex_unlock(&r->mu);
	return err;
}

static struct ivshm_ringer *ringer_new(void)
{
	struct ivshm_ringer *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->mu, NULL)) {
		free(r);
		return NULL;
	}
	if (pthread_cond_init(&r->cv, NULL)) {
		pthread_mutex_destroy(&r->mu);
		free(r);
		return NULL;
	}
	r->refs = 1;
	r->busy_fd = -1;
	return r;
}

int ivshm__ring_eventfd(struct ivshm_ringer **r, int fd, unsigned int peer, unsigned int vector)
{
	int fl, ret;

	if (*r)
		return queue(*r, fd, peer, vector);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (fl & O_NONBLOCK)
		return write_one(fd);
	/*
	 * Tampering: this doorbell is safe once the flag is back and the counter
	 * has room, but the peer that cleared the flag may race the next write.
	 */
	ivshm__log(LOG_WARNING, "another host peer cleared O_NONBLOCK on the eventfd of peer %u "
		   "vector %u: this handle's doorbells go through a ringer thread from now on",
		   peer, vector);
	*r = ringer_new();
	if (!*r)
		return -ENOMEM;
	ret = check_flag(fd);
	if (ret < 0)
		return ret == -1 ? 0 : ret;
	return queue(*r, fd, peer, vector);
}

void ivshm__ringer_forget(struct ivshm_ringer *r, unsigned int peer)
{
	struct rpeer *rp;

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	rp = peer < r->npeers ? r->peers[peer] : NULL;
	if (rp) {
		for (unsigned int v = 0; v < UIO_IVSHMEM_MAX_VECTORS; v++) {
			if (rp->fds[v] < 0)
				continue;
			if (r->busy_fd == rp->fds[v])
				r->busy_orphan = true;
			else
				close(rp->fds[v]);
			rp->fds[v] = -1;
		}
		rp->pending = 0;
		rp->dropped = 0;
	}
	pthread_mutex_unlock(&r->mu);
}

void ivshm__ringer_free(struct ivshm_ringer *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	/* Whatever the ringer is writing, stuck or not, is abandoned with it. */
	if (r->busy_fd >= 0) {
		if (!r->busy_orphan)
			r->peers[r->busy_peer]->fds[r->busy_vector] = -1;
		pthread_cancel(r->busy_thread);
		r->busy_fd = -1;
	}
	r->gen++;
	pthread_cond_broadcast(&r->cv);
	put_locked(r);
}
