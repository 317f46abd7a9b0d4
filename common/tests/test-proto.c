// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * common/proto.c: the doorbell protocol's framing. Messages are written to
 * a socketpair the way a server (or a hostile one) could write them, and
 * read back with ivshm_proto_read(): whole, in pieces, with fds, with too
 * many fds, with foreign control messages, cut off by EOF.
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
#include "unit.h"

struct fixture {
	int tx;		/* the server's end */
	int rx;		/* the reader's end, non-blocking */
	struct ivshm_proto_reader r;
	int fds_before;
};

static int setup(void **state)
{
	static struct fixture f;

	f.fds_before = open_fds();
	if (unit_stream_pair(&f.tx, &f.rx, false))
		return -1;
	ivshm_proto_reader_init(&f.r);
	*state = &f;
	return 0;
}

/* Also the leak check: whatever a case received, it closed. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	ivshm_proto_reader_reset(&f->r);
	close(f->tx);
	close(f->rx);
	return open_fds() == f->fds_before ? 0 : -1;
}

/* One sendmsg of len bytes of buf carrying nfds fds (0: none). */
static void send_raw(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nfds <= 16);
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

static void send_msg(int sock, int64_t value, int fd)
{
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE];

	ivshm_proto_encode(value, b);
	send_raw(sock, b, sizeof(b), &fd, fd >= 0 ? 1 : 0);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Reads one message that must be there; returns its fd. */
static int expect_msg(struct fixture *f, int64_t want)
{
	int64_t v = 0;
	int fd = -2;

	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), 1);
	assert_true(v == want);
	return fd;
}

static void encoding_is_little_endian(void **state)
{
	static const int64_t values[] = { 0, 1, -1, 65535, INT64_MAX, INT64_MIN };
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE];

	(void)state;
	ivshm_proto_encode(0x0102030405060708, b);
	for (int i = 0; i < 8; i++)
		assert_int_equal(b[i], 8 - i);
	ivshm_proto_encode(IVSHMEM_SERVER_MSG_SHM, b);
	for (int i = 0; i < 8; i++)
		assert_int_equal(b[i], 0xff);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		ivshm_proto_encode(values[i], b);
		assert_true(ivshm_proto_decode(b) == values[i]);
	}
}

static void message_without_fd(void **state)
{
	struct fixture *f = *state;

	send_msg(f->tx, 42, -1);
	assert_int_equal(expect_msg(f, 42), -1);
}

static void message_with_fd(void **state)
{
	struct fixture *f = *state;
	int mine = new_memfd(), got;

	send_msg(f->tx, IVSHMEM_SERVER_MSG_SHM, mine);
	got = expect_msg(f, IVSHMEM_SERVER_MSG_SHM);
	assert_true(fd_open(got));
	assert_true(same_file(got, mine));
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	close(got);
	close(mine);
}

static void nothing_to_read(void **state)
{
	struct fixture *f = *state;
	int64_t v;
	int fd;

	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EAGAIN);
}

/* The fd rides with the first piece; the message completes with the last. */
static void partial_reads(void **state)
{
	struct fixture *f = *state;
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE];
	int mine = new_memfd(), got, fd;
	int64_t v;

	ivshm_proto_encode(7, b);
	send_raw(f->tx, b, 3, &mine, 1);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EAGAIN);
	send_raw(f->tx, b + 3, 5, NULL, 0);
	got = expect_msg(f, 7);
	assert_true(same_file(got, mine));
	close(got);
	close(mine);
}

static void one_byte_at_a_time(void **state)
{
	struct fixture *f = *state;
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE];
	int64_t v;
	int fd;

	ivshm_proto_encode(-123456789, b);
	for (int i = 0; i < 7; i++) {
		send_raw(f->tx, b + i, 1, NULL, 0);
		assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EAGAIN);
	}
	send_raw(f->tx, b + 7, 1, NULL, 0);
	assert_int_equal(expect_msg(f, -123456789), -1);
}

/* Several messages in one write are read one at a time. */
static void messages_in_one_write(void **state)
{
	struct fixture *f = *state;
	unsigned char b[3 * IVSHMEM_SERVER_MSG_SIZE];
	int64_t v;
	int fd;

	for (int i = 0; i < 3; i++)
		ivshm_proto_encode(100 + i, b + i * IVSHMEM_SERVER_MSG_SIZE);
	send_raw(f->tx, b, sizeof(b), NULL, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(expect_msg(f, 100 + i), -1);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EAGAIN);
}

/* An fd belongs to its own message, never to the one before or after. */
static void fd_stays_with_its_message(void **state)
{
	struct fixture *f = *state;
	int a = new_memfd(), c = new_memfd(), got;

	send_msg(f->tx, 1, -1);
	send_msg(f->tx, 2, a);
	send_msg(f->tx, 3, -1);
	send_msg(f->tx, 4, c);
	assert_int_equal(expect_msg(f, 1), -1);
	got = expect_msg(f, 2);
	assert_true(same_file(got, a));
	close(got);
	assert_int_equal(expect_msg(f, 3), -1);
	got = expect_msg(f, 4);
	assert_true(same_file(got, c));
	close(got);
	close(a);
	close(c);
}

static void eof_at_a_boundary(void **state)
{
	struct fixture *f = *state;
	int64_t v;
	int fd;

	send_msg(f->tx, 5, -1);
	shutdown(f->tx, SHUT_WR);
	assert_int_equal(expect_msg(f, 5), -1);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), 0);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), 0);
}

/* A message cut off by EOF is a protocol error, and the fd it carried is not leaked. */
static void eof_inside_a_message(void **state)
{
	struct fixture *f = *state;
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE] = { 0 };
	int mine = new_memfd();
	int64_t v;
	int fd;

	send_raw(f->tx, b, 5, &mine, 1);
	close(mine);
	shutdown(f->tx, SHUT_WR);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EPROTO);
}

static void second_fd_for_one_message(void **state)
{
	struct fixture *f = *state;
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE] = { 0 };
	int a = new_memfd(), c = new_memfd();
	int64_t v;
	int fd;

	send_raw(f->tx, b, 4, &a, 1);
	send_raw(f->tx, b + 4, 4, &c, 1);
	close(a);
	close(c);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EPROTO);
}

static void two_fds_in_one_control_message(void **state)
{
	struct fixture *f = *state;
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE] = { 0 };
	int two[2] = { new_memfd(), new_memfd() };
	int64_t v;
	int fd;

	send_raw(f->tx, b, sizeof(b), two, 2);
	close(two[0]);
	close(two[1]);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EPROTO);
}

/* More fds than the reader makes room for: truncated (MSG_CTRUNC), refused, none leaked. */
static void too_many_fds(void **state)
{
	struct fixture *f = *state;
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE] = { 0 };
	int many[16];
	int64_t v;
	int fd;

	for (int i = 0; i < 16; i++)
		many[i] = new_memfd();
	send_raw(f->tx, b, sizeof(b), many, 16);
	for (int i = 0; i < 16; i++)
		close(many[i]);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EPROTO);
}

/* SO_PASSCRED makes every read carry SCM_CREDENTIALS: not part of the protocol. */
static void foreign_control_message(void **state)
{
	struct fixture *f = *state;
	int one = 1, mine = new_memfd();
	int64_t v;
	int fd;

	assert_int_equal(setsockopt(f->rx, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	send_msg(f->tx, 9, mine);
	close(mine);
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EPROTO);
}

static void reset_closes_a_held_fd(void **state)
{
	struct fixture *f = *state;
	unsigned char b[IVSHMEM_SERVER_MSG_SIZE] = { 0 };
	int mine = new_memfd(), before;
	int64_t v;
	int fd;

	send_raw(f->tx, b, 2, &mine, 1);
	close(mine);
	before = open_fds();
	assert_int_equal(ivshm_proto_read(&f->r, f->rx, &v, &fd), -EAGAIN);
	assert_int_equal(open_fds(), before + 1);
	ivshm_proto_reader_reset(&f->r);
	assert_int_equal(open_fds(), before);
}

static void not_a_socket(void **state)
{
	struct fixture *f = *state;
	int p[2];
	int64_t v;
	int fd;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(ivshm_proto_read(&f->r, p[0], &v, &fd), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encoding_is_little_endian),
		T(message_without_fd),
		T(message_with_fd),
		T(nothing_to_read),
		T(partial_reads),
		T(one_byte_at_a_time),
		T(messages_in_one_write),
		T(fd_stays_with_its_message),
		T(eof_at_a_boundary),
		T(eof_inside_a_message),
		T(second_fd_for_one_message),
		T(two_fds_in_one_control_message),
		T(too_many_fds),
		T(foreign_control_message),
		T(reset_closes_a_held_fd),
		T(not_a_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
