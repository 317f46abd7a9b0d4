// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Imports: a listening socket per imported service. Each client it accepts
 * becomes a connection on the link to the exporting proxy, opened then if
 * need be; with no such proxy the client is reset at once, never left hanging.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "import.h"

/* Clients accepted per event: the loop then looks at everything else. */
#define ACCEPT_BURST 64
/* Out of file descriptors: stop accepting this long (the pending client stays queued). */
#define PAUSE_MS 100

int listeners_open(struct proxy *px)
{
	unsigned int i;

	px->listeners = calloc(px->cfg->n_imports ? px->cfg->n_imports : 1, sizeof(*px->listeners));
	if (!px->listeners)
		return -ENOMEM;
	for (i = 0; i < px->cfg->n_imports; i++)
		px->listeners[i].fd = -1;
	for (i = 0; i < px->cfg->n_imports; i++) {
		struct listener *lst = &px->listeners[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lst->w };

		lst->w.kind = W_LISTEN;
		lst->imp = &px->cfg->imports[i];
		lst->fd = addr_listen(&lst->imp->listen);
		if (lst->fd < 0) {
			proxy_log(LOG_ERR, "import %s: listening on %s: %s", lst->imp->service,
				  lst->imp->listen.text, strerror(-lst->fd));
			return lst->fd;
		}
		if (epoll_ctl(px->ep, EPOLL_CTL_ADD, lst->fd, &ev) < 0)
			return -errno;
		addr_local(lst->fd, &lst->imp->listen, lst->local, sizeof(lst->local));
		proxy_log(LOG_INFO, "import %s from %s on %s", lst->imp->service, lst->imp->role,
			  lst->local);
	}
	return 0;
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

		if (lst->fd >= 0) {
			close(lst->fd);
			addr_unlink(&lst->imp->listen);
		}
	}
	free(px->listeners);
	px->listeners = NULL;
}
