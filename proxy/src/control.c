// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "unix.h"

#define MAX_CLIENTS 8
#define CLIENT_MS 5000

struct control {
	struct watch w;
	int fd;
	struct proxy_addr addr;
	struct list clients;
	unsigned int n;
};

struct client {
	struct watch w;
	struct list node;
	int fd;
	char in[128];
	size_t in_len;
	char *out;
	size_t out_len, out_pos;
	int64_t deadline_ms;
};

static const char *const wait_names[] = { "interrupt", "poll", "hybrid" };

static void status_conn(FILE *f, const struct conn *c)
{
	fprintf(f, "conn id=%u peer=%u service=%s side=%s kind=%s state=%s tx=%llu rx=%llu "
		"buffered=%u credit=%u\n", c->id, c->link->peer_id, conn_service(c),
		c->opener ? "import" : "export", c->seqpacket ? "seqpacket" : "stream",
		conn_state_name(c), (unsigned long long)c->tx_bytes,
		(unsigned long long)c->rx_bytes, c->buf.used, credit_avail(&c->cr));
}

/* Links the peer answered: a connecting one carries nothing yet. */
static unsigned int links_up(struct proxy *px)
{
	struct list *pos, *tmp;
	unsigned int n = 0;

	list_for_each_safe(pos, tmp, &px->links) {
		const struct link *l = list_entry(pos, struct link, node);

		n += !l->dead && !l->connect_deadline;
	}
	return n;
}

void control_status(struct proxy *px, FILE *f)
{
	const struct proxy_config *cfg = px->cfg;
	struct list *pos, *tmp;
	unsigned int i, j;

	fprintf(f, "proxy role=%s peer=%d wait=%s device=%s links=%u published=%s conns_total=%llu "
		"bad_frames=%llu\n", cfg->role, px->dev ? (int)px->self_id : -1, wait_names[cfg->wait],
		cfg->server[0] ? cfg->server : cfg->device[0] ? cfg->device : "first",
		links_up(px), px->published ? "yes" : "no", (unsigned long long)px->conns_total,
		(unsigned long long)px->bad_frames);
	for (i = 0; i < cfg->n_exports; i++) {
		const struct export_cfg *e = &cfg->exports[i];

		fprintf(f, "export service=%s target=%s allow=", e->service, e->target.text);
		if (e->allow_any)
			fputc('*', f);
		for (j = 0; j < e->n_allow; j++)
			fprintf(f, "%s%s", j ? "," : "", e->allow[j]);
		fprintf(f, " conns=%u opened=%llu refused=%llu\n", px->exports[i].conns,
			(unsigned long long)px->exports[i].opened,
			(unsigned long long)px->exports[i].refused);
	}
	for (i = 0; i < cfg->n_imports; i++) {
		const struct listener *lst = &px->listeners[i];

		fprintf(f, "import service=%s peer=%s listen=%s conns=%u accepted=%llu refused=%llu\n",
			lst->imp->service, lst->imp->role, lst->local, lst->conns,
			(unsigned long long)lst->accepted, (unsigned long long)lst->refused);
	}
	list_for_each_safe(pos, tmp, &px->links) {
		const struct link *l = list_entry(pos, struct link, node);
		struct ivshm_chan_stats cs = { 0 };
		struct ivshm_chan_info ci = { 0 };

		(void)ivshm_chan_get_stats(l->ch, &cs);
		(void)ivshm_chan_get_info(l->ch, &ci);
		fprintf(f, "link peer=%u role=%s conns=%u ring=%u peer_ring=%u records_out=%llu "
			"records_in=%llu frames_out=%llu frames_in=%llu bytes_out=%llu bytes_in=%llu "
			"bad_frames=%llu doorbells=%llu sleeps=%llu publishes=%llu batches=%llu state=%s\n",
			l->peer_id, l->role, l->n_mine + l->n_theirs, ci.tx_ring, ci.rx_ring,
			(unsigned long long)l->st.records_out, (unsigned long long)l->st.records_in,
			(unsigned long long)l->st.frames_out, (unsigned long long)l->st.frames_in,
			(unsigned long long)l->st.bytes_out, (unsigned long long)l->st.bytes_in,
			(unsigned long long)l->st.bad_frames, (unsigned long long)cs.doorbells,
			(unsigned long long)cs.sleeps, (unsigned long long)cs.publishes,
			(unsigned long long)l->st.batches, l->connect_deadline ? "connecting" : "up");
	}
	list_for_each_safe(pos, tmp, &px->links) {
		const struct link *l = list_entry(pos, struct link, node);

		for (i = 0; i < cfg->max_conns; i++) {
			if (l->mine[i])
				status_conn(f, l->mine[i]);
			if (l->theirs[i])
				status_conn(f, l->theirs[i]);
		}
	}
	fputs("end\n", f);
}

/* mkdir of the control socket's directory, one level (under systemd: the RuntimeDirectory). */
static void make_dir(const char *path)
{
	char copy[sizeof(((struct proxy_config *)0)->control)];

	snprintf(copy, sizeof(copy), "%s", path);
	if (mkdir(dirname(copy), 0755) < 0 && errno != EEXIST)
		proxy_log(LOG_DEBUG, "mkdir %s: %s", copy, strerror(errno));
}

int control_open(struct proxy *px)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	struct epoll_event ev = { .events = EPOLLIN };
	char path[sizeof(px->cfg->control) + 8];
	const char *why;
	int err;

	if (!ctl)
		return -ENOMEM;
	ctl->w.kind = W_CONTROL;
	ctl->fd = -1;
	list_init(&ctl->clients);
	px->control = ctl;
	snprintf(path, sizeof(path), "unix:%s", px->cfg->control);
	if (addr_parse(path, &ctl->addr, &why)) {
		proxy_log(LOG_ERR, "control %s: %s", px->cfg->control, why);
		return -EINVAL;
	}
	make_dir(px->cfg->control);
	ctl->fd = addr_listen(&ctl->addr);
	if (ctl->fd < 0) {
		err = ctl->fd;
		proxy_log(LOG_ERR, "control socket %s: %s", px->cfg->control, strerror(-err));
		return err;
	}
	/* Who may ask: the proxy's user and group. */
	if (px->cfg->control[0] != '@')
		(void)chmod(px->cfg->control, 0660);
	ev.data.ptr = &ctl->w;
	if (epoll_ctl(px->ep, EPOLL_CTL_ADD, ctl->fd, &ev) < 0)
		return -errno;
	return 0;
}

static void client_free(struct control *ctl, struct client *cl)
{
	close(cl->fd);
	list_del(&cl->node);
	ctl->n--;
	free(cl->out);
	free(cl);
}

static void client_accept(struct proxy *px, struct control *ctl)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	struct client *cl;
	int fd;

	fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	cl = ctl->n < MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
	if (!cl) {
		close(fd);
		return;
	}
	cl->w.kind = W_CONTROL_CLIENT;
	cl->fd = fd;
	cl->deadline_ms = ivshm_clock_ms() + CLIENT_MS;
	ev.data.ptr = &cl->w;
	if (epoll_ctl(px->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(cl);
		return;
	}
	list_add_tail(&ctl->clients, &cl->node);
	ctl->n++;
}

/* The answer to the command line in cl->in. */
static void answer(struct proxy *px, struct client *cl)
{
	FILE *f = open_memstream(&cl->out, &cl->out_len);

	if (!f)
		return;
	if (!strcmp(cl->in, "status"))
		control_status(px, f);
	else
		fprintf(f, "error unknown command '%s' (status)\n", cl->in);
	fclose(f);
}

/* Returns 1 when the client is done (answered, or gone). */
static int client_io(struct proxy *px, struct client *cl)
{
	ssize_t n;
	char *nl;

	while (!cl->out) {
		n = read(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - 1 - cl->in_len);
		if (n < 0)
			return errno != EAGAIN && errno != EINTR;
		if (n == 0)
			return 1;
		cl->in_len += (size_t)n;
		cl->in[cl->in_len] = '\0';
		nl = strchr(cl->in, '\n');
		if (!nl && cl->in_len < sizeof(cl->in) - 1)
			continue;
		if (nl)
			*nl = '\0';
		answer(px, cl);
		if (!cl->out)
			return 1;
	}
	while (cl->out_pos < cl->out_len) {
		n = send(cl->fd, cl->out + cl->out_pos, cl->out_len - cl->out_pos, MSG_NOSIGNAL);
		if (n < 0)
			return errno != EAGAIN && errno != EINTR;
		cl->out_pos += (size_t)n;
	}
	return 1;
}

void control_event(struct proxy *px, struct watch *w, uint32_t events)
{
	struct control *ctl = px->control;
	struct client *cl;

	(void)events;
	if (w->kind == W_CONTROL) {
		client_accept(px, ctl);
		return;
	}
	cl = (struct client *)w;
	if (client_io(px, cl))
		client_free(ctl, cl);
}

void control_expire(struct proxy *px, int64_t now)
{
	struct control *ctl = px->control;
	struct list *pos, *tmp;

	if (!ctl)
		return;
	list_for_each_safe(pos, tmp, &ctl->clients) {
		struct client *cl = list_entry(pos, struct client, node);

		if (now >= cl->deadline_ms)
			client_free(ctl, cl);
	}
}

void control_close(struct proxy *px)
{
	struct control *ctl = px->control;
	struct list *pos, *tmp;

	if (!ctl)
		return;
	list_for_each_safe(pos, tmp, &ctl->clients)
		client_free(ctl, list_entry(pos, struct client, node));
	if (ctl->fd >= 0) {
		close(ctl->fd);
		addr_unlink(&ctl->addr);
	}
	free(ctl);
	px->control = NULL;
}

int control_query(const char *path, const char *cmd, FILE *out, int timeout_ms)
{
	int64_t deadline = ivshm_clock_ms() + timeout_ms;
	struct pollfd pfd = { .events = POLLIN };
	char buf[4096];
	size_t len = strlen(cmd);
	ssize_t n;
	int err = 0, left;

	pfd.fd = ivshm_unix_connect(path);
	if (pfd.fd < 0)
		return pfd.fd;
	/* A short command into an empty socket buffer: it fits at once. */
	if (send(pfd.fd, cmd, len, MSG_NOSIGNAL) != (ssize_t)len || send(pfd.fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		err = -errno;
		goto out;
	}
	for (;;) {
		left = (int)(deadline - ivshm_clock_ms());
		if (left <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		n = read(pfd.fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		fwrite(buf, 1, (size_t)n, out);
	}
out:
	close(pfd.fd);
	return err;
}
