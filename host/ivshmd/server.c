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
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "server-priv.h"
#include "store.h"

#define EVENTS_PER_WAIT 64
/* Refusals logged per second at most; the rest are counted. */
#define IVSHMD_REFUSE_LOG_BURST 5
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

unsigned ivshmd_uid_quota_default(unsigned max_peers, unsigned npins)
{
	unsigned unpinned = max_peers > npins ? max_peers - npins : 0;

	return unpinned > 1 ? unpinned / 2 : 1;
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
		if (p->nallow > IVSHMD_MAX_ALLOW) {
			ivshmd_log(LOG_ERR, "pinned peer '%s': more than %u allowed users and groups",
				   p->name, IVSHMD_MAX_ALLOW);
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

/*
 * Zeroed memory, every page in place: IDs are handed out upward through the
 * whole range, and the table must not grow the RSS as they go.
 */
static void *populated(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The header a record of this configuration carries. */
static struct ivshmd_record_hdr record_hdr(const struct ivshmd_server *s)
{
	return (struct ivshmd_record_hdr){
		.shm_size = s->shm.size,
		.shm_kind = (uint32_t)s->shm.kind,
		.shm_created = s->shm.name != NULL,
		.vectors = s->vectors,
	};
}

/*
 * The record and the memory an earlier ivshmd kept, if it served the same
 * memory: same backing, size and vectors. Otherwise both start afresh (and
 * no kept peer survives: the record is empty).
 */
static int open_state(struct ivshmd_server *s, const struct ivshmd_config *cfg,
		      struct ivshmd_inherited *in)
{
	int rfd = in ? ivshmd_inherit_take(in, "record") : -1;
	int sfd = in ? ivshmd_inherit_take(in, "shm") : -1;
	struct ivshmd_record_hdr h;
	bool kept = false;
	int ret;

	if (rfd >= 0 && ivshmd_record_adopt(&s->rec, rfd) == 0) {
		const struct ivshmd_record_hdr *h = s->rec.hdr;

		rfd = -1;
		kept = sfd >= 0 && h->shm_size == cfg->shm_size && h->vectors == cfg->vectors &&
		       h->shm_kind == (uint32_t)cfg->shm_kind &&
		       ivshmd_shm_adopt(&s->shm, cfg->shm_kind, cfg->shm_where, cfg->shm_size, sfd,
					h->shm_created) == 0;
		if (kept)
			sfd = -1;
		else
			ivshmd_log(LOG_WARNING, "restart: the kept memory does not fit this "
				   "configuration; serving new memory to peers that connect now");
	}
	if (rfd >= 0)
		close(rfd);
	if (sfd >= 0)
		close(sfd);
	if (!s->rec.hdr) {
		ret = ivshmd_record_create(&s->rec);
		if (ret) {
			ivshmd_log(LOG_ERR, "creating the restart record: %s", strerror(-ret));
			return ret;
		}
	}
	if (kept) {
		ivshmd_log(LOG_INFO, "restart: serving the memory kept from before (%llu bytes)",
			   (unsigned long long)s->shm.size);
		return 0;
	}
	ret = ivshmd_shm_open(&s->shm, cfg->shm_kind, cfg->shm_where, cfg->shm_size,
			      cfg->shm_reuse);
	if (ret)
		return ret;
	h = record_hdr(s);
	ivshmd_record_reset(&s->rec, &h);
	return 0;
}

int ivshmd_server_new(const struct ivshmd_config *cfg, struct ivshmd_inherited *in,
		      struct ivshmd_server **out)
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
	s->tick.fd = -1;
	s->tick.watch = WATCH_TICK;
	s->shm.fd = -1;
	s->rec.fd = -1;
	s->ctl.l.fd = -1;
	s->ctl.l.path.dirfd = -1;
	s->inherited = in;
	s->vectors = cfg->vectors;
	s->max_peers = cfg->max_peers;
	s->queue_limit = cfg->queue_limit ? cfg->queue_limit :
			 ivshmd_queue_default(cfg->vectors, cfg->max_peers);
	s->send_timeout_ms = cfg->send_timeout_ms;
	s->sock_mode = cfg->sock_mode;
	s->sock_gid = cfg->sock_gid;
	s->npins = cfg->npins;
	s->uid_quota = cfg->uid_quota ? cfg->uid_quota :
		       ivshmd_uid_quota_default(cfg->max_peers, cfg->npins);
	s->accept_log.burst = 1;
	s->refuse_log.burst = IVSHMD_REFUSE_LOG_BURST;
	s->publish_peers = cfg->publish_peers;
	s->socket_path = strdup(cfg->socket_path);
	s->pins = calloc(cfg->npins ? cfg->npins : 1, sizeof(*s->pins));
	s->pinned_ids = calloc(IVSHMD_MAX_PEERS / 8, 1);
	s->by_id = populated(IVSHMD_MAX_PEERS * sizeof(*s->by_id));
	if (!s->socket_path || !s->pins || !s->pinned_ids || !s->by_id) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (unsigned i = 0; i < cfg->npins; i++) {
		s->pins[i] = cfg->pins[i];
		s->pinned_ids[cfg->pins[i].id / 8] |= 1u << (cfg->pins[i].id % 8);
	}

	ret = open_state(s, cfg, in);
	if (ret)
		goto out_free;
	if (s->publish_peers) {
		ret = ivshmd_publish_start(&s->pub, s->shm.fd, s->shm.page, s->vectors,
					   s->inherited != NULL);
		if (ret)
			goto out_free;
	}
	ret = ivshmd_fdref_new(s->shm.fd, &s->shm_ref);
	if (ret)
		goto out_free;
	/* From here the reference owns the fd; ivshmd_shm_close() only unlinks the name. */
	s->shm.fd = -1;
	ivshmd_store_add(s->rec.fd, "record");
	ivshmd_store_add(ivshmd_fdref_fd(s->shm_ref), "shm");

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

/* The store name of a listener: "listen", "listen.NAME" or "ctl". */
static void listener_name(char *buf, size_t len, const char *suffix)
{
	if (!suffix)
		snprintf(buf, len, "listen");
	else if (!strcmp(suffix, IVSHMD_CTL_SUFFIX))
		snprintf(buf, len, IVSHMD_CTL_SUFFIX);
	else
		snprintf(buf, len, "listen.%s", suffix);
}

static int open_listener(struct ivshmd_server *s, struct ivshmd_listener *l, const char *suffix,
			 void *ptr)
{
	char name[IVSHMD_STORE_NAME_MAX];
	char *path;
	int fd = -1, ret;

	if (asprintf(&path, "%s%s%s", s->socket_path, suffix ? "." : "", suffix ? suffix : "") < 0)
		return -ENOMEM;
	listener_name(name, sizeof(name), suffix);
	if (s->inherited)
		fd = ivshmd_inherit_take(s->inherited, name);
	if (fd >= 0 && ivshmd_listen_adopt(l, path, fd) == 0) {
		ivshmd_log(LOG_DEBUG, "kept listening on %s", path);
	} else {
		if (fd >= 0) {
			ivshmd_log(LOG_WARNING, "restart: the kept socket for %s is no longer usable; "
				   "making a new one", path);
			close(fd);
		}
		ret = ivshmd_listen_open(l, path, s->sock_mode, s->sock_gid);
		if (ret) {
			free(path);
			return ret;
		}
	}
	free(path);
	ret = watch(s, l->fd, ptr);
	if (ret) {
		ivshmd_listen_close(l);
		return ret;
	}
	ivshmd_store_add(l->fd, "%s", name);
	return 0;
}

/*
 * A live ivshmd answers on its control socket: asking there first keeps a
 * probe off the peer sockets, where it would join and leave as a phantom peer.
 * A control socket kept across a restart is our own.
 */
static int check_ctl(struct ivshmd_server *s)
{
	char *path;
	int ret;

	if (s->inherited && ivshmd_inherit_has(s->inherited, IVSHMD_CTL_SUFFIX))
		return 0;
	if (asprintf(&path, "%s." IVSHMD_CTL_SUFFIX, s->socket_path) < 0)
		return -ENOMEM;
	ret = ivshmd_listen_probe(path);
	if (ret == -EADDRINUSE)
		ivshmd_log(LOG_ERR, "%s: another server is listening there (%s answers)",
			   s->socket_path, path);
	free(path);
	return ret == -EADDRINUSE ? ret : 0;
}

/* The server page's tick: a timerfd in the loop, so a busy loop cannot stretch it. */
static int start_tick(struct ivshmd_server *s)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = IVSHM_SHM_TICK_MS * 1000000L },
		.it_value = { .tv_nsec = IVSHM_SHM_TICK_MS * 1000000L },
	};

	if (!s->publish_peers)
		return 0;
	s->tick.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tick.fd < 0 || timerfd_settime(s->tick.fd, 0, &its, NULL) < 0) {
		int err = -errno;

		ivshmd_log(LOG_ERR, "the server page's tick: timerfd: %s", strerror(errno));
		return err;
	}
	return watch(s, s->tick.fd, &s->tick);
}

static void on_tick(struct ivshmd_server *s)
{
	uint64_t expired;

	/* Missed expirations (a stopped process) count as one: readers look for movement. */
	if (read(s->tick.fd, &expired, sizeof(expired)) == (ssize_t)sizeof(expired))
		ivshmd_publish_tick(&s->pub);
}

int ivshmd_server_start(struct ivshmd_server *s)
{
	unsigned n = 1 + s->npins;
	int ret;

	ret = ivshmd_pathref_check_dirs(s->socket_path, "socket");
	if (ret)
		return ret;
	ret = check_ctl(s);
	if (ret)
		return ret;
	ret = start_tick(s);
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
	if (s->inherited) {
		ivshmd_peer_restore(s, s->inherited);
		ivshmd_inherit_release(s->inherited);
		s->inherited = NULL;
		ivshmd_peer_settle(s);
	}
	ivshmd_publish_release(&s->pub);
	ivshmd_log(LOG_INFO, "listening on %s (%llu bytes of %s, %u vectors, up to %u peers)",
		   s->socket_path, (unsigned long long)s->shm.size,
		   s->shm.huge ? "sealed memfd of huge pages" :
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
	case WATCH_TICK:
		on_tick(s);
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
	ivshmd_peer_settle(s);
	/* Only now is no event of this batch left to point at a removed peer. */
	ivshmd_peer_bury(s);
	ivshmd_ctl_reap(s);
	return 0;
}

bool ivshmd_server_settled(const struct ivshmd_server *s)
{
	return ivshmd_peer_all_clean(s);
}

int ivshmd_server_foreach_fd(const struct ivshmd_server *s,
			     int (*fn)(void *ctx, int fd, const char *name), void *ctx)
{
	char name[IVSHMD_STORE_NAME_MAX];
	int ret;

	ret = fn(ctx, s->rec.fd, "record");
	if (!ret)
		ret = fn(ctx, ivshmd_fdref_fd(s->shm_ref), "shm");
	for (unsigned i = 0; !ret && i < s->nlisteners; i++) {
		listener_name(name, sizeof(name), i ? s->pins[i - 1].name : NULL);
		ret = fn(ctx, s->listeners[i].l.fd, name);
	}
	if (!ret)
		ret = fn(ctx, s->ctl.l.fd, IVSHMD_CTL_SUFFIX);
	return ret ? ret : ivshmd_peer_foreach_fd(s, fn, ctx);
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
	if (s->tick.fd >= 0)
		close(s->tick.fd);
	ivshmd_publish_stop(&s->pub);
	ivshmd_fdref_put(s->shm_ref);
	ivshmd_shm_close(&s->shm);
	ivshmd_record_close(&s->rec);
	if (s->by_id)
		munmap(s->by_id, IVSHMD_MAX_PEERS * sizeof(*s->by_id));
	free(s->pinned_ids);
	free(s->pins);
	free(s->socket_path);
	free(s);
}
