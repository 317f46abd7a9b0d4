// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd: the ivshmem doorbell server. This file is the process around the
 * server core: options, signals, daemonizing, pidfile, systemd readiness and
 * the event loop. See README.md beside it for usage.
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

#include "daemon.h"
#include "list-client.h"
#include "log.h"
#include "msg.h"
#include "opts.h"
#include "pidfile.h"
#include "server.h"

#define LIST_TIMEOUT_MS 5000

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
	if (sigprocmask(SIG_BLOCK, mask, NULL) < 0)
		return -errno;
	return 0;
}

static int run(struct ivshmd_server *srv, int sfd)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = ivshmd_server_fd(srv), .events = POLLIN },
		};
		int ret;

		ret = poll(p, 2, ivshmd_server_timeout(srv));
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			ivshmd_log(LOG_ERR, "poll: %s", strerror(errno));
			return -errno;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				ivshmd_log(LOG_INFO, "%s: shutting down", strsignal((int)si.ssi_signo));
			return 0;
		}
		ret = ivshmd_server_handle(srv);
		if (ret) {
			ivshmd_log(LOG_ERR, "event loop: %s", strerror(-ret));
			return ret;
		}
	}
}

int main(int argc, char **argv)
{
	struct ivshmd_pidfile pf = { .fd = -1 };
	struct ivshmd_server *srv = NULL;
	struct ivshmd_opts o;
	int report = -1, sfd = -1, ret;
	sigset_t mask;

	ivshm_msg_init("ivshmd");
	ret = ivshmd_opts_parse(&o, argc, argv);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	if (o.list) {
		ret = ivshmd_list_peers(o.cfg.socket_path, LIST_TIMEOUT_MS);
		return ret ? EXIT_FAILURE : EXIT_SUCCESS;
	}

	ivshmd_log_setup(o.verbose);
	raise_nofile();
	ret = setup_signals(&mask);
	if (ret) {
		ivshmd_log(LOG_ERR, "signals: %s", strerror(-ret));
		return EXIT_FAILURE;
	}
	ret = ivshmd_server_new(&o.cfg, &srv);
	if (ret)
		return EXIT_FAILURE;
	ret = ivshmd_server_start(srv);
	if (ret)
		goto out_free;
	if (!o.foreground) {
		ret = ivshmd_daemonize(&report);
		if (ret) {
			ivshmd_log(LOG_ERR, "daemonizing: %s", strerror(-ret));
			goto out_free;
		}
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		ret = -errno;
		ivshmd_log(LOG_ERR, "signalfd: %s", strerror(errno));
		goto out_free;
	}
	if (o.pidfile) {
		ret = ivshmd_pidfile_create(&pf, o.pidfile);
		if (ret)
			goto out_signal;
	}
	if (report >= 0) {
		ret = ivshmd_daemon_ready(report);
		report = -1;
		if (ret)
			goto out_pidfile;
	}
	ret = sd_notifyf(0, "READY=1\nSTATUS=Serving %llu bytes, %u vectors on %s",
			 (unsigned long long)o.cfg.shm_size, o.cfg.vectors, o.cfg.socket_path);
	if (ret < 0)
		ivshmd_log(LOG_WARNING, "sd_notify: %s", strerror(-ret));

	ret = run(srv, sfd);
	if (sd_notify(0, "STOPPING=1") < 0)
		ivshmd_log(LOG_DEBUG, "sd_notify STOPPING failed");

out_pidfile:
	ivshmd_pidfile_remove(&pf);
out_signal:
	close(sfd);
out_free:
	ivshmd_server_free(srv);
	/* After the clean-up, so the waiting parent returns only once the sockets are gone. */
	if (report >= 0)
		ivshmd_daemon_failed(report);
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
