// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A hostile peer against the proxy's real dispatcher and connections: a link
 * over fake-ivshm.c's channel, whose records are the fuzz input (an odd first
 * byte puts a valid HELLO before them), with two
 * connections we opened (socket pairs) and exports whose targets are real
 * Unix listeners here (stream and seqpacket), one refused by role, one with
 * nobody listening. The harness pumps the link and the sockets as the loop
 * would, then tears it all down: ASan and LeakSanitizer see every path the
 * peer can steer, and fake-ivshm.c checks every frame the proxy sends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake-ivshm.h"
#include "proxy.h"

#define CLIENTS 2
#define MAX_ACCEPTED 64
#define ROUNDS 64

static struct proxy_config cfg;
static int targets[2] = { -1, -1 }, ep = -1;

static void setup(void)
{
	char err[256], v[160];
	int i;

	config_init(&cfg);
	cfg.conn_buffer = 4096;
	cfg.max_conns = 16;
	if (config_set(&cfg, "name", "fuzz", err, sizeof(err)))
		abort();
	snprintf(v, sizeof(v), "echo unix:@ivshm-proxy-fuzz-%d-s allow proxy-peer", (int)getpid());
	config_set(&cfg, "export", v, err, sizeof(err));
	snprintf(v, sizeof(v), "seq seqpacket:@ivshm-proxy-fuzz-%d-q allow *", (int)getpid());
	config_set(&cfg, "export", v, err, sizeof(err));
	config_set(&cfg, "export", "deny unix:@ivshm-proxy-fuzz-deny allow proxy-other", err, sizeof(err));
	config_set(&cfg, "export", "dead unix:@ivshm-proxy-fuzz-nobody allow *", err, sizeof(err));
	if (config_set(&cfg, "import", "echo@proxy-peer unix:@ivshm-proxy-fuzz-unused", err, sizeof(err)) ||
	    cfg.n_exports != 4)
		abort();
	for (i = 0; i < 2; i++)
		targets[i] = addr_listen(&cfg.exports[i].target);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (targets[0] < 0 || targets[1] < 0 || ep < 0)
		abort();
	/* The proxy's warnings about the peer: thousands a second here. */
	proxy_log_setup(-1);
}

/* What the targets and clients do: take connections, read a little, write a little. */
static void play(int *accepted, unsigned int *n_acc, const int *clients, unsigned int round)
{
	char buf[512];
	unsigned int i;
	int t, fd;

	for (t = 0; t < 2; t++)
		while (*n_acc < MAX_ACCEPTED &&
		       (fd = accept4(targets[t], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
			accepted[(*n_acc)++] = fd;
	for (i = 0; i < *n_acc; i++) {
		if ((round + i) % 3 == 0)
			(void)!read(accepted[i], buf, sizeof(buf));
		if ((round + i) % 4 == 0)
			(void)!send(accepted[i], buf, 1 + (round * 37 + i) % sizeof(buf), MSG_NOSIGNAL);
		if (round == ROUNDS / 2 && i % 5 == 0)
			shutdown(accepted[i], SHUT_WR);
	}
	for (i = 0; i < CLIENTS; i++) {
		if (round % 2 == 0)
			(void)!send(clients[i], buf, 100 + round, MSG_NOSIGNAL);
		(void)!read(clients[i], buf, sizeof(buf));
		if (round == ROUNDS - 8)
			shutdown(clients[i], SHUT_WR);
	}
}

static void reap(struct proxy *px)
{
	while (!list_empty(&px->graveyard)) {
		struct list *n = px->graveyard.next;

		list_del(n);
		free(list_entry(n, struct conn, timer_node));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ivshm_peer peer = { .id = 1, .epoch = 1, .role = "proxy-peer" };
	struct epoll_event evs[64];
	struct export_stats stats[4] = { 0 };
	struct listener lst = { .w.kind = W_LISTEN, .fd = -1 };
	struct proxy px = { .cfg = &cfg, .published = 1, .exports = stats, .listeners = &lst };
	int accepted[MAX_ACCEPTED], clients[CLIENTS], sv[2], n, i;
	unsigned int n_acc = 0, round;
	struct link *l;

	if (ep < 0)
		setup();
	px.ep = ep;
	lst.imp = &cfg.imports[0];
	list_init(&px.links);
	list_init(&px.connecting);
	list_init(&px.graveyard);
	/* The first byte: whether the peer says HELLO first (past the gate at once). */
	if (!size)
		return 0;
	fake_hello = data[0] & 1;
	fake_in = data + 1;
	fake_in_len = size - 1;
	l = link_new(&px, &fake_chan, &peer, 0);
	if (!l)
		abort();
	for (i = 0; i < CLIENTS; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
			abort();
		clients[i] = sv[1];
		if (conn_import(l, &lst, sv[0]))
			abort();
	}
	for (round = 0; round < ROUNDS && !l->dead; round++) {
		link_input(l);
		link_output(l);
		play(accepted, &n_acc, clients, round);
		n = epoll_wait(ep, evs, 64, 0);
		for (i = 0; i < n; i++)
			conn_event((struct conn *)evs[i].data.ptr, evs[i].events);
		reap(&px);
	}
	links_free_all(&px, "the input ended");
	reap(&px);
	for (i = 0; i < (int)n_acc; i++)
		close(accepted[i]);
	for (i = 0; i < CLIENTS; i++)
		close(clients[i]);
	return 0;
}
