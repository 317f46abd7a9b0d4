// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "handover.h"
#include "log.h"
#include "pidfile.h"
#include "store.h"
#include "supervise.h"

/* Restarts allowed within the window before the supervisor gives up (systemd: StartLimitBurst). */
#define MAX_RESTARTS 5
#define RESTART_WINDOW_MS 10000
#define RESTART_DELAY_MS 100
/* How long a server may take to stop after SIGTERM before it gets SIGKILL. */
#define STOP_TIMEOUT_MS 15000
#define MAX_FDS_PER_MSG 16

struct kept {
	int fd;
	char name[IVSHMD_STORE_NAME_MAX];
};

struct sup {
	char *self;
	char **argv;
	int sock;			/* the server's $NOTIFY_SOCKET */
	char notify_env[64];
	int sfd;			/* signalfd */
	int cwd;			/* where relative paths in argv are resolved */
	pid_t worker;			/* 0: none running */
	int report;			/* to the waiting parent; -1 once told */
	bool detached;
	bool stopping;
	int64_t stop_deadline;
	int64_t restart_at;		/* 0: no restart pending */
	int64_t restarts[MAX_RESTARTS];	/* when the last ones happened, oldest first */
	struct kept *kept;
	size_t nkept, cap;
};

static void kept_remove(struct sup *s, const char *name)
{
	size_t o = 0;

	for (size_t i = 0; i < s->nkept; i++) {
		if (!strcmp(s->kept[i].name, name))
			close(s->kept[i].fd);
		else
			s->kept[o++] = s->kept[i];
	}
	s->nkept = o;
}

/* Like systemd, the store keeps what it is given; a name given again replaces its fds. */
static void kept_add(struct sup *s, const char *name, const int *fds, size_t n)
{
	kept_remove(s, name);
	for (size_t i = 0; i < n; i++) {
		if (s->nkept == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 64;
			struct kept *k = realloc(s->kept, cap * sizeof(*k));

			if (!k) {
				ivshmd_log(LOG_WARNING, "fd store: out of memory; %s not kept", name);
				close(fds[i]);
				continue;
			}
			s->kept = k;
			s->cap = cap;
		}
		s->kept[s->nkept].fd = fds[i];
		snprintf(s->kept[s->nkept].name, sizeof(s->kept[0].name), "%s", name);
		s->nkept++;
	}
}

static void kept_close_all(struct sup *s)
{
	for (size_t i = 0; i < s->nkept; i++)
		close(s->kept[i].fd);
	free(s->kept);
	s->kept = NULL;
	s->nkept = s->cap = 0;
}

/* An abstract socket only the server may talk to: every message's sender is checked. */
static int open_notify(struct sup *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t nonce;
	int on = 1;
	socklen_t len;

	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
		return -EIO;
	s->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->sock < 0)
		return -errno;
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "ivshmd-%d-%016llx", (int)getpid(),
		 (unsigned long long)nonce);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1));
	if (setsockopt(s->sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0 ||
	    bind(s->sock, (struct sockaddr *)&sa, len) < 0)
		return -errno;
	snprintf(s->notify_env, sizeof(s->notify_env), "@%s", sa.sun_path + 1);
	return 0;
}

static void spawn(struct sup *s)
{
	char **names = calloc(s->nkept ? s->nkept : 1, sizeof(*names));
	int *fds = calloc(s->nkept ? s->nkept : 1, sizeof(*fds));
	pid_t pid;

	if (!names || !fds) {
		ivshmd_log(LOG_ERR, "starting the server: out of memory");
		goto out_free;
	}
	for (size_t i = 0; i < s->nkept; i++) {
		names[i] = s->kept[i].name;
		fds[i] = s->kept[i].fd;
	}
	pid = fork();
	if (pid < 0) {
		ivshmd_log(LOG_ERR, "starting the server: fork: %s", strerror(errno));
		goto out_free;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* The supervisor sits in / once detached; the server's relative paths do not. */
		if (fchdir(s->cwd) == 0 && setenv("NOTIFY_SOCKET", s->notify_env, 1) == 0 &&
		    setenv(IVSHMD_SUPERVISED_ENV, s->detached ? "2" : "1", 1) == 0)
			ivshmd_handover_exec(s->self, s->argv, fds, names, s->nkept);
		_exit(127);
	}
	s->worker = pid;
out_free:
	free(names);
	free(fds);
}

static bool line_is(const char *msg, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = msg; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* The value of KEY= in msg, copied into buf; false if absent. */
static bool line_value(const char *msg, const char *key, char *buf, size_t len)
{
	size_t n = strlen(key);

	for (const char *p = msg; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, n)) {
			size_t v = strcspn(p + n, "\n");

			if (v >= len)
				return false;
			memcpy(buf, p + n, v);
			buf[v] = '\0';
			return true;
		}
	}
	return false;
}

static void server_ready(struct sup *s)
{
	if (s->report < 0)
		return;
	if (ivshmd_daemon_ready(s->report) == 0)
		s->detached = true;
	s->report = -1;
}

static void handle_msg(struct sup *s, const char *msg, int *fds, size_t nfds)
{
	char name[IVSHMD_STORE_NAME_MAX];

	if (line_is(msg, "READY=1"))
		server_ready(s);
	if (!line_value(msg, "FDNAME=", name, sizeof(name)))
		snprintf(name, sizeof(name), "stored");
	if (line_is(msg, "FDSTORE=1") && nfds) {
		kept_add(s, name, fds, nfds);
		return;
	}
	if (line_is(msg, "FDSTOREREMOVE=1"))
		kept_remove(s, name);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
}

static void on_notify(struct sup *s)
{
	for (;;) {
		char buf[4096];
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred)) +
			       CMSG_SPACE(MAX_FDS_PER_MSG * sizeof(int))];
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
		};
		struct ucred *cred = NULL;
		int fds[MAX_FDS_PER_MSG];
		size_t nfds = 0;
		ssize_t n;

		n = recvmsg(s->sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
				cred = (struct ucred *)CMSG_DATA(c);
			} else if (c->cmsg_type == SCM_RIGHTS) {
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (size_t i = 0; i < k && nfds < MAX_FDS_PER_MSG; i++)
					memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int),
					       sizeof(int));
			}
		}
		buf[n] = '\0';
		/* Only the server may store fds or say it is ready. */
		if (!cred || cred->pid != s->worker || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]);
			continue;
		}
		handle_msg(s, buf, fds, nfds);
	}
}

/* Whether one more restart now stays within MAX_RESTARTS per RESTART_WINDOW_MS. */
static bool may_restart(struct sup *s, int64_t now)
{
	if (s->restarts[0] && now - s->restarts[0] < RESTART_WINDOW_MS)
		return false;
	memmove(s->restarts, s->restarts + 1, sizeof(s->restarts) - sizeof(s->restarts[0]));
	s->restarts[MAX_RESTARTS - 1] = now;
	return true;
}

/* Returns -1 to keep supervising, or the supervisor's exit status. */
static int on_child(struct sup *s)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != s->worker)
			continue;
		s->worker = 0;
		if (s->stopping || (WIFEXITED(st) && WEXITSTATUS(st) == 0))
			return WIFEXITED(st) ? WEXITSTATUS(st) : 0;
		if (s->report >= 0) {
			/* It never became ready: a start-up error, already on stderr. */
			ivshmd_daemon_failed(s->report);
			s->report = -1;
			return 1;
		}
		if (WIFSIGNALED(st))
			ivshmd_log(LOG_ERR, "server (pid %d) killed by %s", (int)pid,
				   strsignal(WTERMSIG(st)));
		else
			ivshmd_log(LOG_ERR, "server (pid %d) exited with status %d", (int)pid,
				   WEXITSTATUS(st));
		if (!may_restart(s, ivshm_clock_ms())) {
			ivshmd_log(LOG_ERR, "%d restarts in %d s: giving up; peers are disconnected",
				   MAX_RESTARTS, RESTART_WINDOW_MS / 1000);
			return 1;
		}
		ivshmd_log(LOG_WARNING, "restarting the server with the kept memory, sockets and "
			   "%zu fds", s->nkept);
		s->restart_at = ivshm_clock_ms() + RESTART_DELAY_MS;
	}
	return -1;
}

/* Returns -1 to keep supervising, or the supervisor's exit status. */
static int on_signal(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD: {
			int ret = on_child(s);

			if (ret >= 0)
				return ret;
			break;
		}
		case SIGUSR2:
			if (s->worker)
				kill(s->worker, SIGUSR2);
			break;
		default:
			if (!s->worker)
				return 0;
			if (!s->stopping)
				kill(s->worker, SIGTERM);
			s->stopping = true;
			s->stop_deadline = ivshm_clock_ms() + STOP_TIMEOUT_MS;
			break;
		}
	}
	return -1;
}

static int timeout_ms(const struct sup *s)
{
	int64_t next = s->stopping ? s->stop_deadline : s->restart_at;
	int64_t left;

	if (!next)
		return -1;
	left = next - ivshm_clock_ms();
	return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

static int loop(struct sup *s)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = s->sfd, .events = POLLIN },
			{ .fd = s->sock, .events = POLLIN },
		};
		int64_t now;
		int ret;

		if (poll(p, 2, timeout_ms(s)) < 0 && errno != EINTR) {
			ivshmd_log(LOG_ERR, "supervisor: poll: %s", strerror(errno));
			return 1;
		}
		/* Messages first: a server's last FDSTORE must be in before its death is handled. */
		if (p[1].revents)
			on_notify(s);
		if (p[0].revents) {
			ret = on_signal(s);
			if (ret >= 0)
				return ret;
		}
		now = ivshm_clock_ms();
		if (s->stopping && s->worker && now >= s->stop_deadline) {
			ivshmd_log(LOG_ERR, "server (pid %d) did not stop in %d s: SIGKILL",
				   (int)s->worker, STOP_TIMEOUT_MS / 1000);
			kill(s->worker, SIGKILL);
			s->stop_deadline = now + STOP_TIMEOUT_MS;
		}
		if (!s->stopping && s->restart_at && now >= s->restart_at) {
			s->restart_at = 0;
			spawn(s);
			if (!s->worker)
				return 1;
		}
	}
}

int ivshmd_supervise(const char *pidfile, char *argv[])
{
	struct ivshmd_pidfile pf = { .fd = -1 };
	struct sup s = { .sock = -1, .sfd = -1, .cwd = -1, .report = -1, .argv = argv };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t mask;
	int ret;

	s.self = ivshmd_self_path();
	if (!s.self)
		return 1;
	s.cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* A parent gone before we report must cost an EPIPE; a hang-up is nothing to us. */
	if (s.cwd < 0 || sigaction(SIGPIPE, &ign, NULL) < 0 || sigaction(SIGHUP, &ign, NULL) < 0) {
		ivshmd_log(LOG_ERR, "supervisor: %s", strerror(errno));
		if (s.cwd >= 0)
			close(s.cwd);
		free(s.self);
		return 1;
	}
	ret = ivshmd_daemonize(&s.report);
	if (ret) {
		ivshmd_log(LOG_ERR, "daemonizing: %s", strerror(-ret));
		close(s.cwd);
		free(s.self);
		return 1;
	}
	ret = 1;
	if (pidfile && ivshmd_pidfile_create(&pf, pidfile))
		goto out;
	if (open_notify(&s)) {
		ivshmd_log(LOG_ERR, "supervisor socket: %s", strerror(errno));
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (s.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		ivshmd_log(LOG_ERR, "supervisor signals: %s", strerror(errno));
		goto out;
	}
	spawn(&s);
	if (s.worker)
		ret = loop(&s);
out:
	if (s.report >= 0)
		ivshmd_daemon_failed(s.report);
	kept_close_all(&s);
	if (s.sfd >= 0)
		close(s.sfd);
	if (s.sock >= 0)
		close(s.sock);
	close(s.cwd);
	ivshmd_pidfile_remove(&pf);
	free(s.self);
	return ret;
}
