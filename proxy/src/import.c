// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Imports: a listening socket per imported service. Each client it accepts
 * becomes a connection on the link to the exporting proxy, opened then if
 * need be; with no such proxy the client is reset at once, never left hanging.
 * The sockets may come from systemd (activate.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "activate.h"
#include "clock.h"
#include "import.h"

/* Clients accepted per event: the loop then looks at everything else. */
#define ACCEPT_BURST 64
/* Out of file descriptors: stop accepting this long (the pending client stays queued). */
#define PAUSE_MS 100

/*
 * The socket systemd passed for @a (socket activation), taken out of @fds;
 * -ENOENT for none. A port 0 import wants a port of its own and takes none.
 */
static int take_inherited(int *fds, int n, const struct proxy_addr *a)
{
	struct proxy_addr got;
	int i, fd, flags;

	for (i = 0; i < n && !addr_any_port(a); i++) {
		if (fds[i] < 0 || addr_of_fd(fds[i], &got) || !addr_equal(&got, a))
			continue;
		fd = fds[i];
		fds[i] = -1;
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
			return -errno;
		return fd;
	}
	return -ENOENT;
}

int listeners_open(struct proxy *px)
{
	struct proxy_addr got;
	int *fds, n, i, err = 0;

	n = activate_fds(&fds);
	if (n < 0) {
		proxy_log(LOG_ERR, "socket activation: %s", n == -EINVAL ?
			  "LISTEN_PID or LISTEN_FDS is not a number" : strerror(-n));
		return n;
	}
	px->listeners = calloc(px->cfg->n_imports ? px->cfg->n_imports : 1, sizeof(*px->listeners));
	if (!px->listeners) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < (int)px->cfg->n_imports; i++)
		px->listeners[i].fd = -1;
	for (i = 0; i < (int)px->cfg->n_imports; i++) {
		struct listener *lst = &px->listeners[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lst->w };

		lst->w.kind = W_LISTEN;
		lst->imp = &px->cfg->imports[i];
		lst->fd = take_inherited(fds, n, &lst->imp->listen);
		lst->inherited = lst->fd >= 0;
		if (lst->fd == -ENOENT)
			lst->fd = addr_listen(&lst->imp->listen);
		if (lst->fd < 0) {
			proxy_log(LOG_ERR, "import %s: listening on %s: %s", lst->imp->service,
				  lst->imp->listen.text, strerror(-lst->fd));
			err = lst->fd;
			goto out;
		}
		if (epoll_ctl(px->ep, EPOLL_CTL_ADD, lst->fd, &ev) < 0) {
			err = -errno;
			goto out;
		}
		addr_local(lst->fd, &lst->imp->listen, lst->local, sizeof(lst->local));
		proxy_log(LOG_INFO, "import %s from %s on %s%s", lst->imp->service, lst->imp->role,
			  lst->local, lst->inherited ? " (socket activation)" : "");
	}
	/* A socket unit and a configuration that disagree: say so rather than ignore a socket. */
	for (i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		if (addr_of_fd(fds[i], &got))
			snprintf(got.text, sizeof(got.text), "not a TCP or Unix socket");
		proxy_log(LOG_ERR, "socket activation: fd %d (%s) is no import's address", fds[i],
			  got.text);
		err = -EINVAL;
	}
out:
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return err;
}

static void pause_listener(struct proxy *px, struct listener *lst)
{
	struct epoll_event ev = { .events = 0, .data.ptr = &lst->w };

	if (epoll_ctl(px->ep, EPOLL_CTL_MOD, lst->fd, &ev) == 0)
		lst->paused_until = ivshm_clock_ms() + PAUSE_MS;
}

void listeners_resume(struct proxy *px, int64_t now)
{
	unsigned int i;

	for (i = 0; i < px->cfg->n_imports; i++) {
		struct listener *lst = &px->listeners[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lst->w };

		if (lst->paused_until && now >= lst->paused_until &&
		    epoll_ctl(px->ep, EPOLL_CTL_MOD, lst->fd, &ev) == 0)
			lst->paused_until = 0;
	}
}

void listener_event(struct proxy *px, struct listener *lst)
{
	int one = 1, i, fd, err;
	struct link *l;

	for (i = 0; i < ACCEPT_BURST; i++) {
		fd = accept4(lst->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				proxy_log_limited(&px->rl_refused, LOG_WARNING, "import %s: %s; not "
						  "accepting for %d ms", lst->imp->service,
						  strerror(errno), PAUSE_MS);
				pause_listener(px, lst);
			}
			return;
		}
		if (lst->imp->listen.kind == ADDR_TCP)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		lst->accepted++;
		l = link_for_role(px, lst);
		if (!l) {
			lst->refused++;
			proxy_log_limited(&px->rl_refused, LOG_INFO, "import %s: no link to %s; client "
					  "reset", lst->imp->service, lst->imp->role);
			addr_close_reset(fd);
			continue;
		}
		err = conn_import(l, lst, fd);
		if (err) {
			lst->refused++;
			proxy_log_limited(&px->rl_refused, LOG_WARNING, "import %s: %s; client reset",
					  lst->imp->service, err == -EBUSY ?
					  "every connection ID to the peer is in use" : strerror(-err));
		}
	}
}

void listeners_close(struct proxy *px)
{
	unsigned int i;

	if (!px->listeners)
		return;
	for (i = 0; i < px->cfg->n_imports; i++) {
		struct listener *lst = &px->listeners[i];

		if (lst->fd < 0)
			continue;
		close(lst->fd);
		/* systemd's socket unit owns the file of a socket it passed. */
		if (!lst->inherited)
			addr_unlink(&lst->imp->listen);
	}
	free(px->listeners);
	px->listeners = NULL;
}
