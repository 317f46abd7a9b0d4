// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "msg.h"

#define READY_TIMEOUT_MS 30000

static void parent_wait(int rfd, pid_t child)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	char verdict = 1;
	int ret;

	do
		ret = poll(&p, 1, READY_TIMEOUT_MS);
	while (ret < 0 && errno == EINTR);
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

int ivshmd_daemon_ready(int report)
{
	int null, err;

	if (chdir("/") < 0)
		goto out_errno;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		goto out_errno;
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) {
		err = -errno;
		close(null);
		goto out_fail;
	}
	close(null);
	ivshmd_log_to_syslog();
	tell(report, 0);
	return 0;

out_errno:
	err = -errno;
out_fail:
	ivshmd_log(LOG_ERR, "detaching from the terminal: %s", strerror(-err));
	tell(report, 1);
	return err;
}

void ivshmd_daemon_failed(int report)
{
	tell(report, 1);
}
