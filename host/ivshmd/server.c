// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Server life cycle: configuration checks, shared memory, listening sockets
 * and the event dispatch. Peers are in peer.c, the listing in ctl.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "server-priv.h"

#define EVENTS_PER_WAIT 64
/* How long listeners stay deaf after accept() fails with no way to shed the connection. */
#define ACCEPT_PAUSE_MS 100

size_t ivshmd_queue_min(unsigned vectors, unsigned max_peers)
{
	return 3 + (size_t)vectors * max_peers;
}

size_t ivshmd_queue_default(unsigned vectors, unsigned max_peers)
{
	/* Without vectors a join costs the others nothing, a departure still one message. */
	size_t per_round = (size_t)(vectors ? vectors : 1) * max_peers;

	return ivshmd_queue_min(vectors, max_peers) + 2 * per_round;
}

static bool pin_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > IVSHMD_PIN_NAME_MAX || !strcmp(name, IVSHMD_CTL_SUFFIX))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

static int check_pins(const struct ivshmd_config *cfg)
{
	if (cfg->npins > IVSHMD_MAX_PINS || cfg->npins > cfg->max_peers) {
		ivshmd_log(LOG_ERR, "%u pinned peers: at most %u, and no more than --max-peers",
			   cfg->npins, IVSHMD_MAX_PINS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->npins; i++) {
		const struct ivshmd_pin *p = &cfg->pins[i];

		if (!pin_name_valid(p->name)) {
			ivshmd_log(LOG_ERR, "pinned peer name '%s': use 1 to %u of [A-Za-z0-9_-], not '%s'",
				   p->name, IVSHMD_PIN_NAME_MAX, IVSHMD_CTL_SUFFIX);
			return -EINVAL;
		}
		if (p->id > IVSHMEM_MAX_PEER_ID) {
			ivshmd_log(LOG_ERR, "pinned peer '%s': ID %u is above %u", p->name, p->id,
				   IVSHMEM_MAX_PEER_ID);
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++) {
			if (!strcmp(p->name, cfg->pins[j].name) || p->id == cfg->pins[j].id) {
				ivshmd_log(LOG_ERR, "pinned peers '%s' and '%s' share a name or an ID",
					   cfg->pins[j].name, p->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int check_config(const struct ivshmd_config *cfg)
{
	if (!cfg->socket_path || !cfg->socket_path[0]) {
		ivshmd_log(LOG_ERR, "no socket path");
		return -EINVAL;
	}
	if (cfg->vectors > UIO_IVSHMEM_MAX_VECTORS) {
		ivshmd_log(LOG_ERR, "%u vectors: must be 0 to %u", cfg->vectors,
			   UIO_IVSHMEM_MAX_VECTORS);
		return -EINVAL;
	}
	if (cfg->max_peers < 1 || cfg->max_peers > IVSHMD_MAX_PEERS) {
		ivshmd_log(LOG_ERR, "maximum of %u peers: must be 1 to %u", cfg->max_peers,
			   IVSHMD_MAX_PEERS);
		return -EINVAL;
	}
	if (cfg->sock_mode & ~(mode_t)0770) {
		ivshmd_log(LOG_ERR, "socket mode %04o: only owner and group bits are allowed",
			   (unsigned)cfg->sock_mode);
		return -EINVAL;
	}
	if (cfg->queue_limit && cfg->queue_limit < ivshmd_queue_min(cfg->vectors, cfg->max_peers)) {
		ivshmd_log(LOG_ERR, "queue limit %zu: a full setup needs %zu messages", cfg->queue_limit,
			   ivshmd_queue_min(cfg->vectors, cfg->max_peers));
		return -EINVAL;
	}
	if (cfg->send_timeout_ms < 1) {
		ivshmd_log(LOG_ERR, "send timeout must be at least 1 ms");
		return -EINVAL;
	}
	return check_pins(cfg);
}

int ivshmd_server_new(const struct ivshmd_config *cfg, struct ivshmd_server **out)
{
	struct ivshmd_server *s;
	int ret;

	ret = check_config(cfg);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->epfd = -1;
	s->reserve_fd = -1;
	s->shm.fd = -1;
	s->ctl.l.fd = -1;
	s->ctl.l.path.dirfd = -1;
	s->vectors = cfg->vectors;
	s->max_peers = cfg->max_peers;
	s->queue_limit = cfg->queue_limit ? cfg->queue_limit :
			 ivshmd_queue_default(cfg->vectors, cfg->max_peers);
	s->send_timeout_ms = cfg->send_timeout_ms;
	s->sock_mode = cfg->sock_mode;
	s->sock_gid = cfg->sock_gid;
	s->npins = cfg->npins;
	s->socket_path = strdup(cfg->socket_path);
	s->pins = calloc(cfg->npins ? cfg->npins : 1, sizeof(*s->pins));
	s->pinned_ids = calloc(IVSHMD_MAX_PEERS / 8, 1);
	s->by_id = calloc(IVSHMD_MAX_PEERS, sizeof(*s->by_id));
	if (!s->socket_path || !s->pins || !s->pinned_ids || !s->by_id) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (unsigned i = 0; i < cfg->npins; i++) {
		s->pins[i] = cfg->pins[i];
		s->pinned_ids[cfg->pins[i].id / 8] |= 1u << (cfg->pins[i].id % 8);
	}

	ret = ivshmd_shm_open(&s->shm, cfg->shm_kind, cfg->shm_where, cfg->shm_size);
	if (ret)
		goto out_free;
	ret = ivshmd_fdref_new(s->shm.fd, &s->shm_ref);
	if (ret)
		goto out_free;
	/* From here the reference owns the fd; ivshmd_shm_close() only unlinks the name. */
	s->shm.fd = -1;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "epoll_create1: %s", strerror(errno));
		goto out_free;
	}
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->reserve_fd < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "/dev/null: %s", strerror(errno));
		goto out_free;
	}
	*out = s;
	return 0;

out_free:
	ivshmd_server_free(s);
	return ret;
}

static int watch(struct ivshmd_server *s, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		ivshmd_log(LOG_ERR, "epoll_ctl: %s", strerror(errno));
		return err;
	}
	return 0;
}

static int open_listener(struct ivshmd_server *s, struct ivshmd_listener *l, const char *suffix,
			 void *ptr)
{
	char *path;
	int ret;

	if (asprintf(&path, "%s%s%s", s->socket_path, suffix ? "." : "", suffix ? suffix : "") < 0)
		return -ENOMEM;
	ret = ivshmd_listen_open(l, path, s->sock_mode, s->sock_gid);
	free(path);
	if (ret)
		return ret;
	ret = watch(s, l->fd, ptr);
	if (ret)
		ivshmd_listen_close(l);
	return ret;
}

/*
 * A live ivshmd answers on its control socket: asking there first keeps a
 * probe off the peer sockets, where it would join and leave as a phantom peer.
 */
static int check_ctl(struct ivshmd_server *s)
{
	char *path;
	int ret;

	if (asprintf(&path, "%s." IVSHMD_CTL_SUFFIX, s->socket_path) < 0)
		return -ENOMEM;
	ret = ivshmd_listen_probe(path);
	if (ret == -EADDRINUSE)
		ivshmd_log(LOG_ERR, "%s: another server is listening there (%s answers)",
			   s->socket_path, path);
	free(path);
	return ret == -EADDRINUSE ? ret : 0;
}

int ivshmd_server_start(struct ivshmd_server *s)
{
	unsigned n = 1 + s->npins;
	int ret;

	ret = check_ctl(s);
	if (ret)
		return ret;
	s->listeners = calloc(n, sizeof(*s->listeners));
	if (!s->listeners)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct ivshmd_peer_listener *pl = &s->listeners[i];

		pl->watch = WATCH_PEER_LISTENER;
		pl->pin = (int)i - 1;
		ret = open_listener(s, &pl->l, i ? s->pins[i - 1].name : NULL, pl);
		if (ret)
			goto out_close;
		s->nlisteners++;
	}
	s->ctl.watch = WATCH_CTL_LISTENER;
	ret = open_listener(s, &s->ctl.l, IVSHMD_CTL_SUFFIX, &s->ctl);
	if (ret)
		goto out_close;
	ivshmd_log(LOG_INFO, "listening on %s (%llu bytes of %s, %u vectors, up to %u peers)",
		   s->socket_path, (unsigned long long)s->shm.size,
		   s->shm.kind == IVSHMD_SHM_MEMFD ? "sealed memfd" :
		   s->shm.kind == IVSHMD_SHM_POSIX ? "POSIX shm" : "file", s->vectors, s->max_peers);
	for (unsigned i = 0; i < s->npins; i++)
		ivshmd_log(LOG_INFO, "peer '%s' is pinned to ID %u on %s", s->pins[i].name,
			   s->pins[i].id, s->listeners[i + 1].l.path.path);
	if (!s->vectors)
		ivshmd_log(LOG_WARNING, "0 vectors: peers get the memory but no doorbells; QEMU's "
			   "ivshmem-doorbell (vectors=1 at least) connects no interrupts");
	return 0;

out_close:
	while (s->nlisteners)
		ivshmd_listen_close(&s->listeners[--s->nlisteners].l);
	free(s->listeners);
	s->listeners = NULL;
	return ret;
}

int ivshmd_server_fd(const struct ivshmd_server *s)
{
	return s->epfd;
}

static void set_accepting(struct ivshmd_server *s, bool on)
{
	for (unsigned i = 0; i <= s->nlisteners; i++) {
		struct ivshmd_listener *l = i < s->nlisteners ? &s->listeners[i].l : &s->ctl.l;
		void *ptr = i < s->nlisteners ? (void *)&s->listeners[i] : (void *)&s->ctl;
		struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = ptr };

		if (l->fd >= 0 && epoll_ctl(s->epfd, EPOLL_CTL_MOD, l->fd, &ev) < 0)
			ivshmd_log(LOG_WARNING, "epoll_ctl on %s: %s", l->path.path, strerror(errno));
	}
}

void ivshmd_server_pause_accept(struct ivshmd_server *s)
{
	if (s->accept_resume_ms)
		return;
	set_accepting(s, false);
	s->accept_resume_ms = ivshm_clock_ms() + ACCEPT_PAUSE_MS;
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

int ivshmd_server_timeout(const struct ivshmd_server *s)
{
	int64_t next, now;

	next = earliest(ivshmd_peer_next_deadline(s), ivshmd_ctl_next_deadline(s));
	next = earliest(next, s->accept_resume_ms);
	if (!next)
		return -1;
	now = ivshm_clock_ms();
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void dispatch(struct ivshmd_server *s, const struct epoll_event *ev)
{
	enum ivshmd_watch *w = ev->data.ptr;

	switch (*w) {
	case WATCH_PEER_LISTENER:
		ivshmd_peer_accept(s, (struct ivshmd_peer_listener *)w);
		break;
	case WATCH_CTL_LISTENER:
		ivshmd_ctl_accept(s);
		break;
	case WATCH_PEER:
		ivshmd_peer_event(s, (struct ivshmd_peer *)w, ev->events);
		break;
	case WATCH_CTL_CLIENT:
		ivshmd_ctl_event(s, (struct ivshmd_ctl_client *)w, ev->events);
		break;
	}
}

int ivshmd_server_handle(struct ivshmd_server *s)
{
	struct epoll_event ev[EVENTS_PER_WAIT];
	int64_t now;
	int n;

	n = epoll_wait(s->epfd, ev, EVENTS_PER_WAIT, 0);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	for (int i = 0; i < n; i++)
		dispatch(s, &ev[i]);

	now = ivshm_clock_ms();
	if (s->accept_resume_ms && now >= s->accept_resume_ms) {
		s->accept_resume_ms = 0;
		set_accepting(s, true);
	}
	ivshmd_peer_check_deadlines(s, now);
	ivshmd_ctl_check_deadlines(s, now);
	ivshmd_peer_reap(s);
	/* Only now is no event of this batch left to point at a removed peer. */
	ivshmd_peer_bury(s);
	ivshmd_ctl_reap(s);
	return 0;
}

void ivshmd_server_free(struct ivshmd_server *s)
{
	if (!s)
		return;
	if (s->by_id)
		ivshmd_peer_disconnect_all(s);
	ivshmd_ctl_close_all(s);
	ivshmd_listen_close(&s->ctl.l);
	for (unsigned i = 0; i < s->nlisteners; i++)
		ivshmd_listen_close(&s->listeners[i].l);
	free(s->listeners);
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	ivshmd_fdref_put(s->shm_ref);
	ivshmd_shm_close(&s->shm);
	free(s->by_id);
	free(s->pinned_ids);
	free(s->pins);
	free(s->socket_path);
	free(s);
}
