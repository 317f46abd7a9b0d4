// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket, <socket>.ctl: every connection gets the table of
 * connected peers and EOF. Nothing is read from it, so there is no request
 * to parse; the file mode and group guard it like the peer sockets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "server-priv.h"

/* Listings in flight at once; more connections are closed unanswered. */
#define CTL_MAX_CLIENTS 8

/*
 * STALL_MS: how long a peer's queue has been stuck on its full socket (0:
 * not stuck); it is dropped for good at --send-timeout.
 */
static char *listing(const struct ivshmd_server *s, size_t *len)
{
	int64_t now = ivshm_clock_ms();
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int bad;

	if (!f)
		return NULL;
	bad = fprintf(f, "%-6s %-8s %-6s %-6s %-7s %-7s %-8s %s\n",
		      "ID", "PID", "UID", "GID", "VECTORS", "QUEUED", "STALL_MS", "NAME") < 0;
	for (unsigned id = 0; !bad && id < s->id_hi; id++) {
		const struct ivshmd_peer *p = s->by_id[id];

		if (!ivshmd_peer_alive(p))
			continue;
		bad = fprintf(f, "%-6u %-8d %-6u %-6u %-7u %-7zu %-8lld %s\n", p->id,
			      (int)p->cred.pid, (unsigned)p->cred.uid, (unsigned)p->cred.gid,
			      s->vectors, p->q.len,
			      p->want_out ? (long long)(now - p->progress_ms) : 0LL,
			      p->pin >= 0 ? s->pins[p->pin].name : "-") < 0;
	}
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void write_out(struct ivshmd_ctl_client *c)
{
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->done = true;
			return;
		}
		c->off += (size_t)n;
		c->progress_ms = ivshm_clock_ms();
	}
	c->done = true;
}

static int start_listing(struct ivshmd_server *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	struct ivshmd_ctl_client *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->watch = WATCH_CTL_CLIENT;
	c->fd = fd;
	c->progress_ms = ivshm_clock_ms();
	c->buf = listing(s, &c->len);
	if (!c->buf) {
		err = -ENOMEM;
		goto out_free;
	}
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		goto out_free_buf;
	}
	c->next = s->ctls;
	s->ctls = c;
	s->nctls++;
	write_out(c);
	return 0;

out_free_buf:
	free(c->buf);
out_free:
	free(c);
	return err;
}

void ivshmd_ctl_accept(struct ivshmd_server *s)
{
	for (;;) {
		int fd, ret;

		fd = accept4(s->ctl.l.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			ivshmd_log_limited(&s->accept_log, LOG_WARNING,
					       "accept on %s: %s; pausing accepts",
					       s->ctl.l.path.path, strerror(errno));
			ivshmd_server_pause_accept(s);
			return;
		}
		if (s->nctls >= CTL_MAX_CLIENTS) {
			ivshmd_log_limited(&s->accept_log, LOG_WARNING,
					       "too many listings in flight; dropped one");
			close(fd);
			continue;
		}
		ret = start_listing(s, fd);
		if (ret) {
			ivshmd_log(LOG_WARNING, "listing peers on %s: %s", s->ctl.l.path.path,
				   strerror(-ret));
			close(fd);
		}
	}
}

void ivshmd_ctl_event(struct ivshmd_server *s, struct ivshmd_ctl_client *c, uint32_t events)
{
	(void)s;
	if (c->done)
		return;
	if (events & (EPOLLERR | EPOLLHUP))
		c->done = true;
	else if (events & EPOLLOUT)
		write_out(c);
}

void ivshmd_ctl_check_deadlines(struct ivshmd_server *s, int64_t now)
{
	for (struct ivshmd_ctl_client *c = s->ctls; c; c = c->next)
		if (!c->done && now - c->progress_ms >= s->send_timeout_ms)
			c->done = true;
}

int64_t ivshmd_ctl_next_deadline(const struct ivshmd_server *s)
{
	int64_t next = 0;

	for (const struct ivshmd_ctl_client *c = s->ctls; c; c = c->next) {
		int64_t d = c->progress_ms + s->send_timeout_ms;

		if (!c->done && (!next || d < next))
			next = d;
	}
	return next;
}

static void close_client(struct ivshmd_ctl_client *c)
{
	close(c->fd);
	free(c->buf);
	free(c);
}

void ivshmd_ctl_reap(struct ivshmd_server *s)
{
	struct ivshmd_ctl_client **pp = &s->ctls;

	while (*pp) {
		struct ivshmd_ctl_client *c = *pp;

		if (!c->done) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		s->nctls--;
		close_client(c);
	}
}

void ivshmd_ctl_close_all(struct ivshmd_server *s)
{
	while (s->ctls) {
		struct ivshmd_ctl_client *c = s->ctls;

		s->ctls = c->next;
		close_client(c);
	}
	s->nctls = 0;
}
