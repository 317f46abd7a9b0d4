// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd: the ivshmem doorbell server. This file is the process around the
 * server core: fds, options, signals, the supervisor (without -F), pidfile,
 * systemd readiness, the event loop and re-executing in place (SIGUSR2).
 * See README.md beside it for usage.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "handover.h"
#include "inherit.h"
#include "list-client.h"
#include "log.h"
#include "msg.h"
#include "opts.h"
#include "pidfile.h"
#include "server.h"
#include "supervise.h"

#define LIST_TIMEOUT_MS 5000
/* How long a re-exec waits for every peer's queue to drain; a peer still busy is dropped. */
#define REEXEC_DRAIN_MS 2000

enum run_end {
	RUN_STOP,
	RUN_REEXEC,
	RUN_FAILED,
};

/* Every peer costs `vectors` eventfds plus a socket: use all the fds we are allowed. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		ivshmd_log(LOG_WARNING, "raising the fd limit: %s", strerror(errno));
}

static int setup_signals(sigset_t *mask)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	/* A peer that vanishes mid-send must cost an EPIPE, not the server. */
	if (sigaction(SIGPIPE, &ign, NULL) < 0 || sigaction(SIGHUP, &ign, NULL) < 0)
		return -errno;
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, mask, NULL) < 0)
		return -errno;
	return 0;
}

static enum run_end run(struct ivshmd_server *srv, int sfd)
{
	int64_t drain_until = 0;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = ivshmd_server_fd(srv), .events = POLLIN },
		};
		int timeout = ivshmd_server_timeout(srv), ret;

		if (drain_until) {
			int64_t left = drain_until - ivshm_clock_ms();

			if (ivshmd_server_settled(srv) || left <= 0)
				return RUN_REEXEC;
			if (timeout < 0 || timeout > left)
				timeout = (int)left;
		}
		ret = poll(p, 2, drain_until ? (timeout < 20 ? timeout : 20) : timeout);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			ivshmd_log(LOG_ERR, "poll: %s", strerror(errno));
			return RUN_FAILED;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGUSR2) {
				ivshmd_log(LOG_INFO, "%s: shutting down", strsignal((int)si.ssi_signo));
				return RUN_STOP;
			}
			ivshmd_log(LOG_INFO, "SIGUSR2: re-executing in place once every peer's queue "
				   "is drained");
			drain_until = ivshm_clock_ms() + REEXEC_DRAIN_MS;
		}
		ret = ivshmd_server_handle(srv);
		if (ret) {
			ivshmd_log(LOG_ERR, "event loop: %s", strerror(-ret));
			return RUN_FAILED;
		}
	}
}

/* Collects the fds for a re-exec. */
struct handover {
	int *fds;
	char **names;
	size_t n, cap;
};

static int collect(void *ctx, int fd, const char *name)
{
	struct handover *h = ctx;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		int *fds = realloc(h->fds, cap * sizeof(*fds));
		char **names;

		if (!fds)
			return -ENOMEM;
		h->fds = fds;
		names = realloc(h->names, cap * sizeof(*names));
		if (!names)
			return -ENOMEM;
		h->names = names;
		h->cap = cap;
	}
	h->names[h->n] = strdup(name);
	if (!h->names[h->n])
		return -ENOMEM;
	h->fds[h->n++] = fd;
	return 0;
}

/*
 * Execute the binary at self again (an upgrade takes effect) with the
 * memory, the sockets and the peers; it takes them back as after a crash.
 * Returns only if that failed before anything was given up.
 */
static void reexec(struct ivshmd_server *srv, const char *self, char **argv)
{
	struct handover h = { 0 };
	int ret;

	if (!self || access(self, X_OK) < 0) {
		ivshmd_log(LOG_ERR, "re-executing: %s: %s; still serving", self ? self : "?",
			   strerror(self ? errno : ENOENT));
		return;
	}
	ret = ivshmd_server_foreach_fd(srv, collect, &h);
	if (!ret) {
		if (sd_notify(0, "RELOADING=1") < 0)
			ivshmd_log(LOG_DEBUG, "sd_notify RELOADING failed");
		ivshmd_log(LOG_INFO, "re-executing %s with %zu fds", self, h.n);
		ivshmd_handover_exec(self, argv, h.fds, h.names, h.n);
		/* The fds have been moved: nothing is left to serve with. */
		_exit(EXIT_FAILURE);
	}
	ivshmd_log(LOG_ERR, "re-executing: %s; still serving", strerror(-ret));
	for (size_t i = 0; i < h.n; i++)
		free(h.names[i]);
	free(h.names);
	free(h.fds);
}

/* Under the supervisor: "1" until the first readiness detaches us, then "2". */
static int supervised(void)
{
	const char *v = getenv(IVSHMD_SUPERVISED_ENV);

	return v ? atoi(v) : 0;
}

static int serve(struct ivshmd_opts *o, struct ivshmd_inherited *inh, char **argv)
{
	struct ivshmd_pidfile pf = { .fd = -1 };
	struct ivshmd_server *srv = NULL;
	int sfd = -1, ret, sup = supervised();
	enum run_end end = RUN_FAILED;
	char *self = NULL;
	sigset_t mask;

	if (sup == 2)
		ivshmd_log_to_syslog();
	raise_nofile();
	ret = setup_signals(&mask);
	if (ret) {
		ivshmd_log(LOG_ERR, "signals: %s", strerror(-ret));
		return EXIT_FAILURE;
	}
	self = ivshmd_self_path();
	ret = ivshmd_server_new(&o->cfg, inh, &srv);
	if (ret)
		goto out_free;
	ret = ivshmd_server_start(srv);
	if (ret)
		goto out_free;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "signalfd: %s", strerror(errno));
		goto out_free;
	}
	/* The supervisor holds the pidfile of a daemon. */
	if (o->pidfile && !sup) {
		ret = ivshmd_pidfile_create(&pf, o->pidfile);
		if (ret)
			goto out_signal;
	}
	ret = sd_notifyf(0, "READY=1\nSTATUS=Serving %llu bytes, %u vectors on %s",
			 (unsigned long long)o->cfg.shm_size, o->cfg.vectors, o->cfg.socket_path);
	if (ret < 0)
		ivshmd_log(LOG_WARNING, "sd_notify: %s", strerror(-ret));
	/* Started where the daemon was (relative paths), then out of the way like it. */
	if (sup == 1) {
		ret = ivshmd_detach();
		if (ret)
			ivshmd_log(LOG_WARNING, "detaching from the terminal: %s", strerror(-ret));
		setenv(IVSHMD_SUPERVISED_ENV, "2", 1);
	} else if (sup == 2 && chdir("/") < 0) {
		ivshmd_log(LOG_WARNING, "chdir /: %s", strerror(errno));
	}

	/* A re-exec that could not start goes on serving. */
	while ((end = run(srv, sfd)) == RUN_REEXEC)
		reexec(srv, self, argv);
	if (sd_notify(0, "STOPPING=1") < 0)
		ivshmd_log(LOG_DEBUG, "sd_notify STOPPING failed");

	ivshmd_pidfile_remove(&pf);
out_signal:
	close(sfd);
out_free:
	ivshmd_server_free(srv);
	free(self);
	return end == RUN_STOP ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	struct ivshmd_inherited inh;
	struct ivshmd_opts o;
	int ret;

	/* Before anything opens an fd: none may land on 0-2 or next to a stray one. */
	if (ivshmd_inherit_collect(&inh))
		return EXIT_FAILURE;
	ivshm_msg_init("ivshmd");
	ret = ivshmd_opts_parse(&o, argc, argv);
	if (ret) {
		ivshmd_inherit_release(&inh);
		return ret > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	if (o.list) {
		ivshmd_inherit_release(&inh);
		ret = ivshmd_list_peers(o.cfg.socket_path, LIST_TIMEOUT_MS);
		return ret ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	ivshmd_log_setup(o.verbose);
	if (!o.foreground && !supervised()) {
		ivshmd_inherit_release(&inh);
		return ivshmd_supervise(o.pidfile, argv);
	}
	ret = serve(&o, &inh, argv);
	ivshmd_inherit_release(&inh);
	return ret;
}
