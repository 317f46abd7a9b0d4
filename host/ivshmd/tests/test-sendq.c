// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd's send queue (sendq.c) and fd references (fdref.c): messages leave
 * in order with their fds, a full socket keeps the rest queued, a queue at
 * its limit refuses, and every fd reference a queue took is dropped once
 * the message is sent or the queue cleared.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "proto.h"
#include "sendq.h"
#include "unit.h"

struct fixture {
	int tx;		/* the server's end, non-blocking like ivshmd's */
	int rx;		/* the peer's end, non-blocking */
	struct ivshmd_sendq q;
	struct ivshm_proto_reader r;
	int fds_before;
};

static int setup(void **state)
{
	static struct fixture f;

	f.fds_before = open_fds();
	if (unit_stream_pair(&f.tx, &f.rx, true))
		return -1;
	ivshmd_sendq_init(&f.q, 100000);
	ivshm_proto_reader_init(&f.r);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ivshmd_sendq_clear(&f->q);
	ivshm_proto_reader_reset(&f->r);
	close(f->tx);
	close(f->rx);
	return open_fds() == f->fds_before ? 0 : -1;
}

/* A reference to a fresh memfd; the test keeps no fd of its own. */
static struct ivshmd_fdref *new_ref(void)
{
	struct ivshmd_fdref *r = NULL;
	int fd = new_memfd();

	assert_true(fd >= 0);
	assert_int_equal(ivshmd_fdref_new(fd, &r), 0);
	return r;
}

static ino_t inode(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* Reads the next message; checks its value and that it carries the file of want_ino (0: none). */
static void expect(struct fixture *f, int64_t value, ino_t want_ino)
{
	int64_t v;
	int fd;

	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), 1);
	assert_true(v == value);
	if (!want_ino) {
		assert_int_equal(fd, -1);
		return;
	}
	assert_true(fd >= 0);
	assert_int_equal(inode(fd), want_ino);
	close(fd);
}

static void expect_nothing_more(struct fixture *f)
{
	int64_t v;
	int fd;

	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EAGAIN);
}

static void empty_flush(void **state)
{
	struct fixture *f = *state;
	int progress = -1;

	assert_int_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), 0);
	assert_int_equal(progress, 0);
	expect_nothing_more(f);
}

/* A setup sequence: values in order, each fd on its own message. */
static void order_and_fds(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_fdref *shm = new_ref(), *v0 = new_ref(), *v1 = new_ref();
	ino_t shm_ino = inode(ivshmd_fdref_fd(shm));
	ino_t v0_ino = inode(ivshmd_fdref_fd(v0)), v1_ino = inode(ivshmd_fdref_fd(v1));
	int progress;

	assert_int_equal(ivshmd_sendq_push(&f->q, 0, NULL), 0);
	assert_int_equal(ivshmd_sendq_push(&f->q, 3, NULL), 0);
	assert_int_equal(ivshmd_sendq_push(&f->q, IVSHMEM_SERVER_MSG_SHM, shm), 0);
	assert_int_equal(ivshmd_sendq_push(&f->q, 3, v0), 0);
	assert_int_equal(ivshmd_sendq_push(&f->q, 3, v1), 0);
	assert_int_equal(ivshmd_sendq_push(&f->q, 9, NULL), 0);
	assert_int_equal(f->q.len, 6);
	assert_int_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), 0);
	assert_int_equal(progress, 1);
	assert_int_equal(f->q.len, 0);
	expect(f, 0, 0);
	expect(f, 3, 0);
	expect(f, IVSHMEM_SERVER_MSG_SHM, shm_ino);
	expect(f, 3, v0_ino);
	expect(f, 3, v1_ino);
	expect(f, 9, 0);
	expect_nothing_more(f);
	ivshmd_fdref_put(shm);
	ivshmd_fdref_put(v0);
	ivshmd_fdref_put(v1);
}

static void limit_refuses(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_fdref *r = new_ref();
	int fd = ivshmd_fdref_fd(r);

	ivshmd_sendq_init(&f->q, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ivshmd_sendq_push(&f->q, i, r), 0);
	assert_int_equal(ivshmd_sendq_push(&f->q, 3, NULL), -ENOBUFS);
	assert_int_equal(ivshmd_sendq_push(&f->q, 3, r), -ENOBUFS);
	assert_int_equal(f->q.len, 3);
	/* The refused pushes took no reference: three queued ones and ours. */
	ivshmd_sendq_clear(&f->q);
	assert_true(fd_open(fd));
	ivshmd_fdref_put(r);
	assert_false(fd_open(fd));
	/* A cleared queue keeps its limit. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ivshmd_sendq_push(&f->q, i, NULL), 0);
	assert_int_equal(ivshmd_sendq_push(&f->q, 3, NULL), -ENOBUFS);
}

/* A departed peer's eventfd stays open while a queue still announces it. */
static void reference_outlives_its_owner(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_fdref *r = new_ref();
	int fd = ivshmd_fdref_fd(r);
	ino_t ino = inode(fd);
	int progress;

	assert_int_equal(ivshmd_sendq_push(&f->q, 1, r), 0);
	assert_int_equal(ivshmd_sendq_push(&f->q, 1, r), 0);
	ivshmd_fdref_put(r);
	assert_true(fd_open(fd));
	assert_int_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), 0);
	/* Sent: the queue's references are gone, and with them the fd. */
	assert_false(fd_open(fd));
	expect(f, 1, ino);
	expect(f, 1, ino);
}

static void get_and_put(void **state)
{
	struct ivshmd_fdref *r = new_ref();
	int fd = ivshmd_fdref_fd(r);

	(void)state;
	assert_ptr_equal(ivshmd_fdref_get(r), r);
	ivshmd_fdref_put(r);
	assert_true(fd_open(fd));
	ivshmd_fdref_put(r);
	assert_false(fd_open(fd));
	ivshmd_fdref_put(NULL);
}

/*
 * A peer that does not read: the socket fills, the rest stays queued
 * (-EAGAIN), and once the peer reads, everything arrives in order.
 */
static void full_socket(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_fdref *r = new_ref();
	ino_t ino = inode(ivshmd_fdref_fd(r));
	int small = 4096, progress, ret, rounds = 0;
	const int n = 5000;
	int64_t next = 0;

	assert_int_equal(setsockopt(f->tx, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(ivshmd_sendq_push(&f->q, i, i % 7 ? NULL : r), 0);
	ivshmd_fdref_put(r);
	ret = ivshmd_sendq_flush(&f->q, f->tx, &progress);
	assert_int_equal(ret, -EAGAIN);
	assert_int_equal(progress, 1);
	assert_true(f->q.len > 0 && f->q.len < (size_t)n);
	while (next < n) {
		int64_t v;
		int fd;

		ret = ivshm_proto_read(&f->r, f->rx, &v, &fd);
		if (ret == -EAGAIN) {
			assert_int_not_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), -EPIPE);
			assert_true(++rounds < n);
			continue;
		}
		assert_int_equal(ret, 1);
		assert_true(v == next);
		if (next % 7) {
			assert_int_equal(fd, -1);
		} else {
			assert_int_equal(inode(fd), ino);
			close(fd);
		}
		next++;
	}
	assert_int_equal(f->q.len, 0);
	assert_true(rounds > 0);
	expect_nothing_more(f);
}

/*
 * The rest of a message cut by a short send goes out without its fd, which
 * rode with its first byte. A unix socket never sends short, so the cut is
 * made by hand.
 */
static void rest_of_a_short_send(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_fdref *r = new_ref();
	unsigned char want[IVSHMEM_SERVER_MSG_SIZE], got[32];
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = got, .iov_len = sizeof(got) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	int progress;

	assert_int_equal(ivshmd_sendq_push(&f->q, 0x1122334455667788, r), 0);
	ivshmd_fdref_put(r);
	f->q.partial = 3;
	assert_int_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), 0);
	assert_int_equal(recvmsg(f->rx, &mh, 0), IVSHMEM_SERVER_MSG_SIZE - 3);
	assert_int_equal(mh.msg_controllen, 0);
	ivshm_proto_encode(0x1122334455667788, want);
	assert_memory_equal(got, want + 3, IVSHMEM_SERVER_MSG_SIZE - 3);
}

static void peer_gone(void **state)
{
	struct fixture *f = *state;
	int progress;

	assert_int_equal(ivshmd_sendq_push(&f->q, 1, NULL), 0);
	close(f->rx);
	f->rx = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), -EPIPE);
	assert_int_equal(progress, 0);
	assert_int_equal(f->q.len, 1);
}

/* The ring wraps and grows; a large drained ring is freed, a small one kept. */
static void ring_wraps_grows_and_shrinks(void **state)
{
	struct fixture *f = *state;
	int progress;

	for (int i = 0; i < 10; i++)
		assert_int_equal(ivshmd_sendq_push(&f->q, i, NULL), 0);
	assert_int_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), 0);
	for (int i = 0; i < 10; i++)
		expect(f, i, 0);
	assert_true(f->q.cap > 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(ivshmd_sendq_push(&f->q, 100 + i, NULL), 0);
	assert_int_equal(f->q.len, 40);
	assert_int_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), 0);
	for (int i = 0; i < 40; i++)
		expect(f, 100 + i, 0);
	assert_int_equal(f->q.cap, 64);
	for (int i = 0; i < 100; i++)
		assert_int_equal(ivshmd_sendq_push(&f->q, i, NULL), 0);
	assert_int_equal(ivshmd_sendq_flush(&f->q, f->tx, &progress), 0);
	assert_int_equal(f->q.cap, 0);
	assert_null(f->q.ring);
	for (int i = 0; i < 100; i++)
		expect(f, i, 0);
	expect_nothing_more(f);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(empty_flush),
		T(order_and_fds),
		T(limit_refuses),
		T(reference_outlives_its_owner),
		T(get_and_put),
		T(full_socket),
		T(rest_of_a_short_send),
		T(peer_gone),
		T(ring_wraps_grows_and_shrinks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
