// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd's daemonizing (daemon.c): the parent that waits for the daemon's
 * readiness exits 0 when told it is ready and 1 when told it failed, and
 * answers SIGINT and SIGTERM even when the caller had blocked them: it
 * passes SIGTERM on to the daemon, which runs in a session of its own,
 * reaps it and dies of the signal it got. This process is a child
 * subreaper, so a daemon the parent leaves behind is reaped here.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "daemon.h"

#define DEADLINE_MS 5000

enum daemon_does { READY, FAILS, WAITS };

struct started {
	pid_t parent;
	pid_t daemon;
};

/* waitpid() with a deadline; the status, or -1 if pid is still running. */
static int wait_status(pid_t pid)
{
	int64_t end = ivshm_clock_ms() + DEADLINE_MS;
	int st;

	while (ivshm_clock_ms() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0)
			return -1;
		poll(NULL, 0, 10);
	}
	return -1;
}

/*
 * Fork a process that blocks SIGTERM and SIGINT, as a server about to make
 * a signalfd would, and daemonizes; the daemon tells its pid, then does what.
 */
static void start(enum daemon_does what, struct started *out)
{
	struct pollfd p;
	int pfd[2], report;
	sigset_t mask;

	assert_int_equal(pipe(pfd), 0);
	out->parent = fork();
	assert_true(out->parent >= 0);
	if (out->parent == 0) {
		pid_t me;

		close(pfd[0]);
		sigemptyset(&mask);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGINT);
		sigprocmask(SIG_BLOCK, &mask, NULL);
		if (ivshmd_daemonize(&report))
			_exit(2);
		sigprocmask(SIG_UNBLOCK, &mask, NULL);
		me = getpid();
		if (write(pfd[1], &me, sizeof(me)) != sizeof(me))
			_exit(3);
		if (what == READY) {
			ivshmd_daemon_ready(report);
			_exit(0);
		}
		if (what == FAILS) {
			ivshmd_daemon_failed(report);
			_exit(0);
		}
		/* Waits for a signal that never comes from here; SIGTERM ends it. */
		for (int i = 0; i < DEADLINE_MS / 10; i++)
			poll(NULL, 0, 10);
		_exit(5);
	}
	close(pfd[1]);
	p = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
	assert_int_equal(read(pfd[0], &out->daemon, sizeof(out->daemon)), sizeof(out->daemon));
	close(pfd[0]);
}

static int subreaper(void **state)
{
	(void)state;
	return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void ready_is_status_0(void **state)
{
	struct started s;
	int st;

	(void)state;
	start(READY, &s);
	st = wait_status(s.parent);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* Ours to reap unless the parent did. */
	wait_status(s.daemon);
}

static void failure_is_status_1(void **state)
{
	struct started s;
	int st;

	(void)state;
	start(FAILS, &s);
	st = wait_status(s.parent);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	wait_status(s.daemon);
}

static void signal_passed_on(int sig)
{
	struct started s;
	int st;

	start(WAITS, &s);
	assert_int_equal(kill(s.parent, sig), 0);
	st = wait_status(s.parent);
	if (st == -1) {
		kill(s.parent, SIGKILL);
		kill(s.daemon, SIGKILL);
		wait_status(s.parent);
		wait_status(s.daemon);
		fail_msg("the waiting parent ignored signal %d", sig);
	}
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), sig);
	/* The parent reaped it before dying. */
	assert_int_equal(kill(s.daemon, 0), -1);
	assert_int_equal(errno, ESRCH);
}

static void sigint_stops_parent_and_daemon(void **state)
{
	(void)state;
	signal_passed_on(SIGINT);
}

static void sigterm_stops_parent_and_daemon(void **state)
{
	(void)state;
	signal_passed_on(SIGTERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ready_is_status_0),
		cmocka_unit_test(failure_is_status_1),
		cmocka_unit_test(sigint_stops_parent_and_daemon),
		cmocka_unit_test(sigterm_stops_parent_and_daemon),
	};

	return cmocka_run_group_tests(tests, subreaper, NULL);
}
