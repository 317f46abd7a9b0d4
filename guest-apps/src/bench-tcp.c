// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-bench over TCP, the baseline: the same ping-pong (TCP_NODELAY) and
 * the same one-way stream (Nagle left on, TCP's best case for small
 * messages) between the same two peers. Blocking sockets with SO_RCVTIMEO and
 * SO_SNDTIMEO: every call has a deadline without a poll() per message, which
 * would cost TCP a system call channels do not pay.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "parse.h"

static char rx_buf[IVSHM_BENCH_MAX_MSG], tx_buf[IVSHM_BENCH_MAX_MSG];

int bench_tcp_listen(const char *port, int *lfd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	uint64_t p;
	int one = 1, fd;

	if (app_parse_opt("--tcp-listen", port, 65535, &p) || !p)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)p);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ivshm_msg_err("socket: %s", strerror(errno));
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		ivshm_msg_err("listen on TCP port %s: %s", port, strerror(errno));
		close(fd);
		return -errno;
	}
	*lfd = fd;
	return 0;
}

/* Deadlines on a blocking socket, and TCP_NODELAY if @nodelay. Returns 0 or -errno. */
static int setup(int fd, int timeout_ms, int nodelay)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)) {
		ivshm_msg_err("socket options: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The client's connection, within the timeout. Returns the fd or -errno. */
static int connect_to(const struct bench_conn *c, int nodelay)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	char host[64];
	uint16_t port;
	int fd, err = 0, n;

	if (parse_host_port(c->o->tcp, host, sizeof(host), &port) ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto out_close;
		}
		pfd.fd = fd;
		n = poll(&pfd, 1, c->o->timeout_ms);
		if (n <= 0) {
			err = n < 0 ? -errno : -ETIMEDOUT;
			goto out_close;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			err = err ? -err : -errno;
			goto out_close;
		}
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {
		err = -errno;
		goto out_close;
	}
	err = setup(fd, c->o->timeout_ms, nodelay);
	if (!err)
		return fd;
out_close:
	close(fd);
	ivshm_msg_err("TCP connection to %s: %s", c->o->tcp, strerror(-err));
	return err;
}

/* The server's side of the connection, once READY told the client to connect. */
static int accept_from(struct bench_conn *c, int nodelay)
{
	struct pollfd pfd = { .fd = c->lfd, .events = POLLIN };
	int fd, n, err;

	if (c->lfd < 0) {
		ivshm_msg_err("a TCP test, but the server has no --tcp-listen");
		return -EINVAL;
	}
	err = bench_ctl_ready(c);
	if (err)
		return err;
	n = poll(&pfd, 1, c->o->timeout_ms);
	if (n <= 0) {
		err = n < 0 ? -errno : -ETIMEDOUT;
		ivshm_msg_err("no TCP connection: %s", strerror(-err));
		return err;
	}
	fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		ivshm_msg_err("accept: %s", strerror(errno));
		return -errno;
	}
	err = setup(fd, c->o->timeout_ms, nodelay);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* Move exactly @len bytes. Returns 0, -EPIPE at the peer's end before any byte, or -errno. */
static int xfer(int fd, char *buf, size_t len, int out)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = out ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
			: recv(fd, buf + done, len - done, 0);
		if (n == 0)
			return done ? -ECONNRESET : -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int bench_tcp_rtt_client(struct bench_conn *c, const struct bench_spec *s, struct bench_result *r,
			 struct ivshm_bench_ctl *done)
{
	uint64_t i, t0, t1, limit;
	int64_t *lat;
	int fd = -1, err, derr;

	lat = calloc(s->count, sizeof(*lat));
	if (lat)
		fd = connect_to(c, 1);
	err = !lat ? -ENOMEM : fd < 0 ? fd : 0;
	memset(tx_buf, 0x5a, s->msg_bytes);
	limit = bench_ticks() + bench_ns_ticks((int64_t)c->o->max_ms * 1000000);
	for (i = 0; !err && i < s->count && (i < 10 || bench_ticks() < limit); i++) {
		bench_alive(c);
		bench_seq_put(tx_buf, i);
		t0 = bench_ticks();
		err = xfer(fd, tx_buf, s->msg_bytes, 1);
		if (!err)
			err = xfer(fd, rx_buf, s->msg_bytes, 0);
		t1 = bench_ticks();
		if (!err && bench_seq_get(rx_buf) != i) {
			ivshm_msg_err("TCP round %llu: the echo carries %llu", (unsigned long long)i,
				      (unsigned long long)bench_seq_get(rx_buf));
			err = -EBADMSG;
		}
		if (!err)
			lat[i] = (int64_t)(t1 - t0);
	}
	if (!err)
		err = bench_rtt_result(lat, i, r);
	if (fd >= 0)
		close(fd);
	free(lat);
	derr = bench_ctl_done(c, done);
	return err ? err : derr;
}

int bench_tcp_rtt_server(struct bench_conn *c, const struct bench_spec *s,
			 struct ivshm_bench_ctl *done)
{
	int fd, err;

	(void)done;
	fd = accept_from(c, 1);
	if (fd < 0)
		return fd;
	do {
		bench_alive(c);
		err = xfer(fd, rx_buf, s->msg_bytes, 0);
		if (!err)
			err = xfer(fd, rx_buf, s->msg_bytes, 1);
	} while (!err);
	close(fd);
	/* The client closes after its last round. */
	return err == -EPIPE ? 0 : err;
}

int bench_tcp_stream_client(struct bench_conn *c, const struct bench_spec *s,
			    struct bench_result *r, struct ivshm_bench_ctl *done)
{
	uint64_t n = 0, t0, end;
	int fd, err;

	fd = connect_to(c, 0);
	err = fd < 0 ? fd : 0;
	memset(tx_buf, 0x5a, s->msg_bytes);
	t0 = bench_ticks();
	end = t0 + bench_ns_ticks((int64_t)c->o->stream_ms * 1000000);
	while (!err && bench_ticks() < end) {
		bench_alive(c);
		bench_seq_put(tx_buf, n);
		err = xfer(fd, tx_buf, s->msg_bytes, 1);
		n += !err;
	}
	if (fd >= 0)
		close(fd);
	return bench_stream_done(c, s, done, r, n, t0, err);
}

int bench_tcp_stream_server(struct bench_conn *c, const struct bench_spec *s,
			    struct ivshm_bench_ctl *done)
{
	uint64_t n;
	int fd, err;

	fd = accept_from(c, 0);
	if (fd < 0)
		return fd;
	for (n = 0;; n++) {
		bench_alive(c);
		err = xfer(fd, rx_buf, s->msg_bytes, 0);
		if (err)
			break;
		if (bench_seq_get(rx_buf) != n) {
			ivshm_msg_err("TCP stream message %llu carries %llu", (unsigned long long)n,
				      (unsigned long long)bench_seq_get(rx_buf));
			err = -EBADMSG;
			break;
		}
		done->bytes += s->msg_bytes;
	}
	close(fd);
	return err == -EPIPE ? 0 : err;
}
