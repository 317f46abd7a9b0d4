// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "proto.h"
#include "session.h"

enum state { WANT_VERSION, WANT_ID, WANT_SHM, SETUP, READY };

struct peer {
	unsigned n;
	int *fds;	/* vectors entries when keep_fds */
};

struct ivshm_session {
	enum state state;
	unsigned vectors;
	bool known;		/* vectors is the server's count */
	int group;		/* learning: the peer whose eventfds came last, -1 none */
	bool keep_fds;
	int id;
	int shm_fd;
	struct peer *peers;
	unsigned npeers;	/* allocated entries of peers */
	const char *error;
};

int ivshm_session_new(unsigned vectors, bool keep_fds, struct ivshm_session **out)
{
	struct ivshm_session *s;

	if (vectors > UIO_IVSHMEM_MAX_VECTORS && vectors != IVSHM_SESSION_ANY_VECTORS)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->state = WANT_VERSION;
	s->known = vectors != IVSHM_SESSION_ANY_VECTORS;
	s->vectors = s->known ? vectors : 0;
	s->group = -1;
	s->keep_fds = keep_fds;
	s->id = -1;
	s->shm_fd = -1;
	*out = s;
	return 0;
}

static void peer_clear(struct peer *p)
{
	if (p->fds) {
		for (unsigned i = 0; i < p->n; i++)
			close(p->fds[i]);
		free(p->fds);
		p->fds = NULL;
	}
	p->n = 0;
}

void ivshm_session_free(struct ivshm_session *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->npeers; i++)
		peer_clear(&s->peers[i]);
	free(s->peers);
	if (s->shm_fd >= 0)
		close(s->shm_fd);
	free(s);
}

static int fail(struct ivshm_session *s, int fd, const char *why)
{
	if (fd >= 0)
		close(fd);
	s->error = why;
	return -EPROTO;
}

static struct peer *peer_get(struct ivshm_session *s, unsigned id)
{
	if (id >= s->npeers) {
		unsigned n = s->npeers ? s->npeers : 16;
		struct peer *p;

		while (n <= id)
			n *= 2;
		p = realloc(s->peers, n * sizeof(*p));
		if (!p)
			return NULL;
		for (unsigned i = s->npeers; i < n; i++)
			p[i] = (struct peer){ 0 };
		s->peers = p;
		s->npeers = n;
	}
	return &s->peers[id];
}

/* Whether some peer holds more eventfds than vectors. */
static bool overfull(const struct ivshm_session *s, unsigned vectors)
{
	for (unsigned i = 0; i < s->npeers; i++)
		if (s->peers[i].n > vectors)
			return true;
	return false;
}

static void fix_vectors(struct ivshm_session *s, unsigned vectors)
{
	s->vectors = vectors;
	s->known = true;
	if (s->state == SETUP && s->peers && (unsigned)s->id < s->npeers &&
	    s->peers[s->id].n == vectors)
		s->state = READY;
}

int ivshm_session_set_vectors(struct ivshm_session *s, unsigned vectors)
{
	if (s->known)
		return -EALREADY;
	if (vectors > UIO_IVSHMEM_MAX_VECTORS || overfull(s, vectors)) {
		s->error = "more eventfds for one peer than vectors";
		return -EPROTO;
	}
	fix_vectors(s, vectors);
	/* No own eventfd at all: the memory was the end of the setup. */
	if (s->state == SETUP && !vectors)
		s->state = READY;
	return 0;
}

bool ivshm_session_vectors_known(const struct ivshm_session *s)
{
	return s->known;
}

static int feed_vector(struct ivshm_session *s, unsigned id, int fd, struct ivshm_event *ev)
{
	struct peer *p = peer_get(s, id);
	unsigned cap;

	if (!p)
		return fail(s, fd, "out of memory");
	/* The setup sends whole groups in turn: another peer's ended with this fd's peer. */
	if (!s->known && s->group >= 0 && (unsigned)s->group != id && s->group != s->id)
		fix_vectors(s, s->peers[s->group].n);
	s->group = (int)id;
	/* While learning, a group has at most the device's maximum. */
	cap = s->known ? s->vectors : UIO_IVSHMEM_MAX_VECTORS;
	if (p->n >= cap)
		return fail(s, fd, "more eventfds for one peer than vectors");
	if (s->keep_fds) {
		if (!p->fds) {
			p->fds = malloc(UIO_IVSHMEM_MAX_VECTORS * sizeof(int));
			if (!p->fds)
				return fail(s, fd, "out of memory");
		}
		p->fds[p->n] = fd;
	} else {
		close(fd);
	}
	ev->type = IVSHM_EV_VECTOR;
	ev->peer = id;
	ev->vector = p->n++;
	ev->complete = s->known && p->n == s->vectors;
	if (ev->complete && (int)id == s->id)
		s->state = READY;
	return 0;
}

int ivshm_session_feed(struct ivshm_session *s, int64_t value, int fd, struct ivshm_event *ev)
{
	*ev = (struct ivshm_event){ .value = value };

	switch (s->state) {
	case WANT_VERSION:
		if (fd >= 0)
			return fail(s, fd, "version message carries an fd");
		if (value != IVSHMEM_SERVER_PROTO_VERSION)
			return fail(s, fd, "unsupported protocol version");
		ev->type = IVSHM_EV_VERSION;
		s->state = WANT_ID;
		return 0;
	case WANT_ID:
		if (fd >= 0 || value < 0 || value > IVSHMEM_MAX_PEER_ID)
			return fail(s, fd, "invalid ID message");
		s->id = (int)value;
		ev->type = IVSHM_EV_ID;
		ev->peer = (unsigned)value;
		s->state = WANT_SHM;
		return 0;
	case WANT_SHM:
		/* QEMU accepts peer messages before the memory; we follow the spec's order. */
		if (value != IVSHMEM_SERVER_MSG_SHM || fd < 0)
			return fail(s, fd, "expected the shared memory message");
		s->shm_fd = fd;
		ev->type = IVSHM_EV_SHM;
		/* Without vectors there is no own eventfd to wait for: the memory ends the setup. */
		s->state = s->vectors || !s->known ? SETUP : READY;
		return 0;
	case SETUP:
	case READY:
		break;
	}

	if (value == IVSHMEM_SERVER_MSG_SHM)
		return fail(s, fd, "second shared memory message");
	if (value < 0 || value > IVSHMEM_MAX_PEER_ID)
		return fail(s, fd, "peer ID out of range");
	if (fd >= 0) {
		if (s->state == READY && value == s->id)
			return fail(s, fd, "own eventfd after the setup");
		return feed_vector(s, (unsigned)value, fd, ev);
	}
	if (value == s->id)
		return fail(s, fd, "server announced our own departure");
	/* With vectors, a peer is known by its eventfds; without, joins are silent. */
	if ((s->vectors || !s->known) && ((unsigned)value >= s->npeers || !s->peers[value].n))
		return fail(s, fd, "departure of an unknown peer");
	if ((unsigned)value < s->npeers)
		peer_clear(&s->peers[value]);
	/* Its group ended with its departure, not with the next peer's first eventfd. */
	if (value == s->group)
		s->group = -1;
	ev->type = IVSHM_EV_LEAVE;
	ev->peer = (unsigned)value;
	return 0;
}

const char *ivshm_session_error(const struct ivshm_session *s)
{
	return s->error ? s->error : "no error";
}

bool ivshm_session_ready(const struct ivshm_session *s)
{
	return s->state == READY;
}

int ivshm_session_id(const struct ivshm_session *s)
{
	return s->id;
}

int ivshm_session_shm_fd(const struct ivshm_session *s)
{
	return s->shm_fd;
}

unsigned ivshm_session_vectors(const struct ivshm_session *s)
{
	return s->vectors;
}

bool ivshm_session_peer_present(const struct ivshm_session *s, unsigned peer)
{
	return s->known && s->vectors && peer < s->npeers && s->peers[peer].n == s->vectors;
}

unsigned ivshm_session_peer_vectors(const struct ivshm_session *s, unsigned peer)
{
	return peer < s->npeers ? s->peers[peer].n : 0;
}

unsigned ivshm_session_peer_limit(const struct ivshm_session *s)
{
	return s->npeers;
}

int ivshm_session_peer_fd(const struct ivshm_session *s, unsigned peer, unsigned vector)
{
	if (peer >= s->npeers || vector >= s->peers[peer].n || !s->peers[peer].fds)
		return -ENOENT;
	return s->peers[peer].fds[vector];
}
