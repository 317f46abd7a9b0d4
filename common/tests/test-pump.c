// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * common/pump.c: the one client of the doorbell-server protocol. A fake
 * server listens on a socket in a private directory and writes what a server
 * (or a broken one) writes; the pump must hand out the events in order,
 * never block on a read, and tell a hang-up, a timeout and a broken
 * protocol apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "pump.h"
#include "unit.h"

struct fixture {
	char dir[64];
	char path[96];
	int lsock;
	int srv;		/* the server's end of the accepted connection */
	struct ivshm_pump p;
	int fds_before;
};

static int setup(void **state)
{
	static struct fixture f;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f.fds_before = open_fds();
	strcpy(f.dir, "/tmp/ivshm-pump-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/sock", f.dir);
	strcpy(sa.sun_path, f.path);
	f.lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f.lsock < 0 || bind(f.lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f.lsock, 4) < 0)
		return -1;
	f.srv = -1;
	*state = &f;
	return 0;
}

/* Also the leak check: whatever a case received, the pump closed. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	ivshm_pump_close(&f->p);
	if (f->srv >= 0)
		close(f->srv);
	close(f->lsock);
	unlink(f->path);
	rmdir(f->dir);
	return open_fds() == f->fds_before ? 0 : -1;
}

static void connect_pump(struct fixture *f, unsigned vectors)
{
	assert_int_equal(ivshm_pump_open(&f->p, f->path, vectors, true), 0);
	f->srv = accept4(f->lsock, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f->srv >= 0);
}

/* One message as a server sends it, with an fd (closed here once sent) or none. */
static void send_msg(int sock, int64_t value, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	unsigned char buf[IVSHMEM_SERVER_MSG_SIZE];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	ivshm_proto_encode(value, buf);
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)sizeof(buf));
	if (fd >= 0)
		close(fd);
}

static int efd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* Version, own ID, memory, then each peer's vectors eventfds (own ID last). */
static void send_setup(int sock, unsigned id, const unsigned *peers, unsigned npeers,
		       unsigned vectors)
{
	send_msg(sock, 0, -1);
	send_msg(sock, id, -1);
	send_msg(sock, IVSHMEM_SERVER_MSG_SHM, new_memfd());
	for (unsigned i = 0; i < npeers; i++)
		for (unsigned v = 0; v < vectors; v++)
			send_msg(sock, peers[i], efd());
	for (unsigned v = 0; v < vectors; v++)
		send_msg(sock, id, efd());
}

static int next(struct fixture *f, struct ivshm_event *ev)
{
	return ivshm_pump_next(&f->p, ev);
}

/* Events in the order the server sent them; nothing waiting is 0 at once, not a wait. */
static void events_in_order(void **state)
{
	struct fixture *f = *state;
	static const unsigned others[] = { 1 };
	struct ivshm_event ev;
	int64_t t0;

	connect_pump(f, 2);
	assert_true(fcntl(f->p.sock, F_GETFL) & O_NONBLOCK);
	t0 = ivshm_clock_ms();
	assert_int_equal(next(f, &ev), 0);
	assert_true(ivshm_clock_ms() - t0 < 100);
	send_setup(f->srv, 4, others, 1, 2);
	assert_int_equal(next(f, &ev), 1);
	assert_int_equal(ev.type, IVSHM_EV_VERSION);
	assert_int_equal(next(f, &ev), 1);
	assert_int_equal(ev.type, IVSHM_EV_ID);
	assert_int_equal(ev.peer, 4);
	assert_int_equal(next(f, &ev), 1);
	assert_int_equal(ev.type, IVSHM_EV_SHM);
	assert_true(f->p.with_fd);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(next(f, &ev), 1);
		assert_int_equal(ev.type, IVSHM_EV_VECTOR);
		assert_int_equal(ev.peer, i < 2 ? 1 : 4);
		assert_int_equal(ev.vector, i % 2);
	}
	assert_true(ivshm_session_ready(f->p.sess));
	assert_int_equal(next(f, &ev), 0);
	send_msg(f->srv, 1, -1);
	assert_int_equal(next(f, &ev), 1);
	assert_int_equal(ev.type, IVSHM_EV_LEAVE);
	assert_int_equal(ev.peer, 1);
	assert_false(f->p.with_fd);
	assert_int_equal(f->p.value, 1);
	close(f->srv);
	f->srv = -1;
	assert_int_equal(next(f, &ev), -EPIPE);
	assert_string_equal(ivshm_pump_error(&f->p), "the server closed the connection");
}

static int count_events(void *arg, const struct ivshm_event *ev)
{
	(void)ev;
	++*(int *)arg;
	return 0;
}

/* The setup loop: every event through the callback, done when our own group is whole. */
static void setup_completes(void **state)
{
	struct fixture *f = *state;
	static const unsigned others[] = { 0, 2 };
	int n = 0;

	connect_pump(f, 3);
	send_setup(f->srv, 1, others, 2, 3);
	assert_int_equal(ivshm_pump_setup(&f->p, ivshm_clock_ms() + 5000, count_events, &n), 0);
	assert_int_equal(n, 3 + 3 * 3);
	assert_int_equal(ivshm_session_id(f->p.sess), 1);
}

/* A setup that stops half-way times out at the deadline, not later. */
static void setup_times_out(void **state)
{
	struct fixture *f = *state;
	int64_t t0;

	connect_pump(f, 2);
	send_msg(f->srv, 0, -1);
	send_msg(f->srv, 1, -1);
	t0 = ivshm_clock_ms();
	assert_int_equal(ivshm_pump_setup(&f->p, t0 + 200, NULL, NULL), -ETIMEDOUT);
	assert_true(ivshm_clock_ms() - t0 >= 200);
	assert_true(ivshm_clock_ms() - t0 < 1000);
}

static void hangup_during_setup(void **state)
{
	struct fixture *f = *state;

	connect_pump(f, 2);
	send_msg(f->srv, 0, -1);
	close(f->srv);
	f->srv = -1;
	assert_int_equal(ivshm_pump_setup(&f->p, ivshm_clock_ms() + 5000, NULL, NULL),
			 -ECONNRESET);
}

static int refuse(void *arg, const struct ivshm_event *ev)
{
	(void)arg;
	return ev->type == IVSHM_EV_SHM ? -EPERM : 0;
}

/* The callback's error ends the setup: a client refuses the memory the moment it comes. */
static void callback_stops_the_setup(void **state)
{
	struct fixture *f = *state;

	connect_pump(f, 1);
	send_setup(f->srv, 0, NULL, 0, 1);
	assert_int_equal(ivshm_pump_setup(&f->p, ivshm_clock_ms() + 5000, refuse, NULL), -EPERM);
}

/* A broken stream and a broken sequence are -EPROTO, with the reason. */
static void protocol_errors(void **state)
{
	struct fixture *f = *state;
	struct ivshm_event ev;

	connect_pump(f, 1);
	send_msg(f->srv, 7, -1);
	assert_int_equal(next(f, &ev), -EPROTO);
	assert_string_equal(ivshm_pump_error(&f->p), "unsupported protocol version");
	assert_int_equal(f->p.value, 7);
	assert_true(f->p.refused);
	ivshm_pump_close(&f->p);
	close(f->srv);

	connect_pump(f, 1);
	assert_int_equal(write(f->srv, "abc", 3), 3);
	close(f->srv);
	f->srv = -1;
	assert_int_equal(next(f, &ev), -EPROTO);
	assert_string_equal(ivshm_pump_error(&f->p), "a malformed message");
	assert_false(f->p.refused);
}

static void connect_fails(void **state)
{
	struct fixture *f = *state;
	char path[200];

	snprintf(path, sizeof(path), "%s/none", f->dir);
	assert_int_equal(ivshm_pump_open(&f->p, path, 1, true), -ENOENT);
	assert_int_equal(f->p.sock, -1);
	assert_null(f->p.sess);
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(ivshm_pump_open(&f->p, path, 1, true), -ENAMETOOLONG);
	assert_int_equal(ivshm_pump_open(&f->p, f->path, 65, true), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(events_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(setup_completes, setup, teardown),
		cmocka_unit_test_setup_teardown(setup_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(hangup_during_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(callback_stops_the_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(protocol_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(connect_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
