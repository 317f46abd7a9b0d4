// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "msg.h"

#define READY_TIMEOUT_MS 30000
/* After passing on SIGTERM or SIGINT, how long the parent waits for the daemon to clean up. */
#define STOP_TIMEOUT_MS 15000

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/*
 * The parent must answer SIGTERM and SIGINT (^C at the terminal, a service
 * manager's stop) while it waits: it passes SIGTERM on to the daemon, which
 * is in a session of its own, waits for it to clean up, then dies of the
 * signal it got.
 */
static void parent_stop(pid_t child, int sig)
{
	int64_t deadline = ivshm_clock_ms() + STOP_TIMEOUT_MS;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t mask;

	ivshm_msg_err("%s while starting: stopping the daemon (pid %d)", strsignal(sig),
		      (int)child);
	sigemptyset(&mask);
	sigaddset(&mask, sig);
	kill(child, SIGTERM);
	while (waitpid(child, NULL, WNOHANG) == 0 && ivshm_clock_ms() < deadline)
		poll(NULL, 0, 20);
	sigaction(sig, &dfl, NULL);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	raise(sig);
	_exit(1);
}

static void parent_wait(int rfd, pid_t child)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	int64_t deadline = ivshm_clock_ms() + READY_TIMEOUT_MS;
	sigset_t mask, during;
	char verdict = 1;
	int ret;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	/* Held only between checks; ppoll() takes them while it waits, so none is missed. */
	sigprocmask(SIG_BLOCK, &mask, &during);
	sigdelset(&during, SIGTERM);
	sigdelset(&during, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		int64_t left = deadline - ivshm_clock_ms();
		struct timespec ts = { .tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000 };

		if (got_signal)
			parent_stop(child, got_signal);
		ret = left > 0 ? ppoll(&p, 1, &ts, &during) : 0;
		if (ret >= 0 || errno != EINTR)
			break;
	}
	if (ret == 0) {
		ivshm_msg_err("daemon (pid %d) did not report readiness in %d s", (int)child,
			      READY_TIMEOUT_MS / 1000);
		_exit(1);
	}
	if (ret > 0 && read(rfd, &verdict, 1) == 1 && verdict == 0)
		_exit(0);
	/* The child wrote its reason to our shared stderr; reap it if it already died. */
	waitpid(child, NULL, WNOHANG);
	_exit(1);
}

int ivshmd_daemonize(int *report)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid > 0) {
		close(fds[1]);
		parent_wait(fds[0], pid);
	}
	close(fds[0]);
	if (setsid() < 0) {
		int err = -errno;

		close(fds[1]);
		return err;
	}
	*report = fds[1];
	return 0;
}

static void tell(int report, char verdict)
{
	if (write(report, &verdict, 1) != 1)
		ivshmd_log(LOG_WARNING, "telling the parent process: %s", strerror(errno));
	close(report);
}

int ivshmd_detach(void)
{
	int null;

	if (chdir("/") < 0)
		return -errno;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) {
		int err = -errno;

		close(null);
		return err;
	}
	close(null);
	ivshmd_log_to_syslog();
	return 0;
}

int ivshmd_daemon_ready(int report)
{
	int err = ivshmd_detach();

	if (err) {
		ivshmd_log(LOG_ERR, "detaching from the terminal: %s", strerror(-err));
		tell(report, 1);
		return err;
	}
	tell(report, 0);
	return 0;
}

void ivshmd_daemon_failed(int report)
{
	tell(report, 1);
}
