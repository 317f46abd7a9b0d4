// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-bench over sockets, the baselines: the same ping-pong and the same
 * one-way stream between the same two peers over TCP (TCP_NODELAY for the
 * ping-pong; Nagle left on for the stream, TCP's best case for small
 * messages) and, between host processes, over AF_UNIX (what host programs use
 * today). Blocking sockets with SO_RCVTIMEO and SO_SNDTIMEO: every call has a
 * deadline without a poll() per message, which would cost the sockets a
 * system call channels do not pay.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "parse.h"

static char rx_buf[IVSHM_BENCH_MAX_MSG], tx_buf[IVSHM_BENCH_MAX_MSG];

/* "[A.B.C.D:]PORT" into @sa: every address without one, any free port for 0. 0 or -EINVAL. */
static int listen_addr(const char *where, struct sockaddr_in *sa)
{
	const char *colon = strrchr(where, ':');
	char addr[INET_ADDRSTRLEN];
	size_t n = colon ? (size_t)(colon - where) : 0;
	uint64_t p;

	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	if (colon) {
		if (n >= sizeof(addr))
			goto bad;
		memcpy(addr, where, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
			goto bad;
	}
	if (app_parse_opt("--tcp-listen", colon ? colon + 1 : where, 65535, &p))
		return -EINVAL;
	sa->sin_port = htons((uint16_t)p);
	return 0;
bad:
	ivshm_msg_err("--tcp-listen: %s is not [IPv4:]PORT", where);
	return -EINVAL;
}

int bench_tcp_listen(const char *where, int *lfd, unsigned int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int one = 1, fd, err;

	err = listen_addr(where, &sa);
	if (err)
		return err;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ivshm_msg_err("socket: %s", strerror(errno));
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		err = -errno;
		ivshm_msg_err("listen on TCP %s: %s", where, strerror(errno));
		close(fd);
		return err;
	}
	*lfd = fd;
	*port = ntohs(sa.sin_port);
	return 0;
}

/* @path as an AF_UNIX address. Returns 0 or -ENAMETOOLONG. */
static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path) >= (int)sizeof(sa->sun_path)) {
		ivshm_msg_err("%s: too long for a socket path", path);
		return -ENAMETOOLONG;
	}
	return 0;
}

int bench_unix_listen(const char *path, int *lfd)
{
	struct sockaddr_un sa;
	int fd, err;

	err = unix_addr(path, &sa);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ivshm_msg_err("socket: %s", strerror(errno));
		return -errno;
	}
	/* An existing file is someone's: never removed, so bind() refuses it. */
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		err = -errno;
		ivshm_msg_err("listen on %s: %s", path, strerror(errno));
		close(fd);
		return err;
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

static int is_unix(const struct bench_spec *s)
{
	return s->test == IVSHM_BENCH_RTT_UNIX || s->test == IVSHM_BENCH_STREAM_UNIX;
}

/*
 * The client's AF_UNIX connection. A full backlog would block connect(): its
 * SO_SNDTIMEO bounds that wait. Returns the fd or -errno.
 */
static int unix_connect(const struct bench_conn *c)
{
	struct sockaddr_un sa;
	int fd, err;

	err = unix_addr(c->o->unix_path, &sa);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = setup(fd, c->o->timeout_ms, 0);
	if (!err && connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (!err)
		return fd;
	close(fd);
	ivshm_msg_err("AF_UNIX connection to %s: %s", c->o->unix_path, strerror(-err));
	return err;
}

/* The client's TCP connection, within the timeout. Returns the fd or -errno. */
static int tcp_connect(const struct bench_conn *c, int nodelay)
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

/* The client's connection for test @s (@nodelay: TCP_NODELAY). Returns the fd or -errno. */
static int connect_to(const struct bench_conn *c, const struct bench_spec *s, int nodelay)
{
	return is_unix(s) ? unix_connect(c) : tcp_connect(c, nodelay);
}

/* The server's side of the connection, once READY told the client to connect. */
static int accept_from(struct bench_conn *c, const struct bench_spec *s, int nodelay)
{
	int lfd = is_unix(s) ? c->ulfd : c->lfd;
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd, n, err;

	if (lfd < 0) {
		ivshm_msg_err("a %s test, but the server has no %s", is_unix(s) ? "AF_UNIX" : "TCP",
			      is_unix(s) ? "--unix-listen" : "--tcp-listen");
		return -EINVAL;
	}
	err = bench_ctl_ready(c);
	if (err)
		return err;
	n = poll(&pfd, 1, c->o->timeout_ms);
	if (n <= 0) {
		err = n < 0 ? -errno : -ETIMEDOUT;
		ivshm_msg_err("no connection: %s", strerror(-err));
		return err;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		ivshm_msg_err("accept: %s", strerror(errno));
		return -errno;
	}
	err = setup(fd, c->o->timeout_ms, nodelay && !is_unix(s));
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

int bench_sock_rtt_client(struct bench_conn *c, const struct bench_spec *s, struct bench_result *r,
			 struct ivshm_bench_ctl *done)
{
	uint64_t i, t0, t1, limit;
	int64_t *lat;
	int fd = -1, err, derr;

	lat = calloc(s->count, sizeof(*lat));
	if (lat)
		fd = connect_to(c, s, 1);
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
			ivshm_msg_err("round %llu: the echo carries %llu", (unsigned long long)i,
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

int bench_sock_rtt_server(struct bench_conn *c, const struct bench_spec *s,
			 struct ivshm_bench_ctl *done)
{
	int fd, err;

	(void)done;
	fd = accept_from(c, s, 1);
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

int bench_sock_stream_client(struct bench_conn *c, const struct bench_spec *s,
			    struct bench_result *r, struct ivshm_bench_ctl *done)
{
	uint64_t n = 0, t0, end;
	int fd, err;

	fd = connect_to(c, s, 0);
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

int bench_sock_stream_server(struct bench_conn *c, const struct bench_spec *s,
			    struct ivshm_bench_ctl *done)
{
	uint64_t n;
	int fd, err;

	fd = accept_from(c, s, 0);
	if (fd < 0)
		return fd;
	for (n = 0;; n++) {
		bench_alive(c);
		err = xfer(fd, rx_buf, s->msg_bytes, 0);
		if (err)
			break;
		if (bench_seq_get(rx_buf) != n) {
			ivshm_msg_err("stream message %llu carries %llu", (unsigned long long)n,
				      (unsigned long long)bench_seq_get(rx_buf));
			err = -EBADMSG;
			break;
		}
		done->bytes += s->msg_bytes;
	}
	close(fd);
	return err == -EPIPE ? 0 : err;
}
