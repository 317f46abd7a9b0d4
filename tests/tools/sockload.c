// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sockload: socket clients and servers for the proxy tests, where socat would
 * need a process per connection. Every byte it sends comes from a stream
 * that is a function of (seed, offset), so every byte it receives is checked.
 * Addresses as ivshm-proxy writes them: tcp:HOST:PORT, unix:PATH, seqpacket:PATH.
 *
 *   sockload serve ADDR --mode echo|collect|source|reverse [--bytes N]
 *       prints "listening ADDR" (the real port for port 0), then one line per
 *       connection that ends: "close N in=BYTES out=BYTES how=eof|reset|error"
 *       echo     sends back what it reads; seqpacket: message by message
 *       collect  reads until the end, then answers "got BYTES\n"
 *       source   reads an 8-byte request (seed, length; little-endian) and sends that stream
 *       reverse  sends N bytes of stream 0, shuts down its writing, reads until the end
 *   sockload clients ADDR -n CONNS --bytes N    concurrent echo clients, each its own stream
 *       (seed = its index); each sends, shuts down writing, checks the echo to the end
 *       (seqpacket: messages of 1 to 4096 bytes, each checked to come back whole)
 *       prints "clients n=CONNS ok=K failed=F bytes=TOTAL"
 *   sockload fetch ADDR --seed S --bytes N [--stall-file F]   from a source server; with F,
 *       reads one byte, then nothing until F exists (the stalled reader); "fetch ok bytes=N"
 *   sockload cycles ADDR -n COUNT      connect, 16 bytes each way, close; "cycles n=COUNT ok=K"
 *   sockload probe ADDR                connect and wait for the end, sending nothing:
 *       "probe eof", "probe reset", "probe data", "probe hang" or "probe connect ERROR"
 *   sockload reverse ADDR --bytes N --send M   against reverse: the whole N to the end,
 *       then M bytes the other way; "reverse got=N sent=M"
 *   sockload rtt ADDR -n COUNT --bytes N   against echo: COUNT round trips of N bytes on one
 *       connection; "rtt n=COUNT bytes=N p50_us=.. p99_us=.. max_us=.."
 *   fetch --no-check: the bytes are counted, not compared, and N of them end the fetch
 *       (a throughput figure, against any server that sends)
 * Exit status: 0 when everything checked out, 1 otherwise, 2 for usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"

#define CHUNK 16384
/* A client that hears nothing for this long has failed (a hang, not a slow proxy). */
#define IDLE_MS 30000

struct opts {
	const char *mode;
	uint64_t bytes, send;
	unsigned int conns, seed;
	const char *stall_file;
	int no_check;
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Bytes [off, off + n) of stream @seed into @buf. */
static void gen(uint32_t seed, uint64_t off, unsigned char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, off++)
		buf[i] = (unsigned char)(mix((uint64_t)seed << 40 ^ (off >> 3)) >> ((off & 7) * 8));
}

/* Whether @buf holds bytes [off, off + n) of stream @seed. */
static int check(uint32_t seed, uint64_t off, const unsigned char *buf, size_t n)
{
	unsigned char want[CHUNK];
	size_t part;

	while (n) {
		part = n < sizeof(want) ? n : sizeof(want);
		gen(seed, off, want, part);
		if (memcmp(want, buf, part))
			return 0;
		buf += part;
		off += part;
		n -= part;
	}
	return 1;
}

static int parse_addr(const char *s, struct proxy_addr *a)
{
	const char *why;

	if (addr_parse(s, a, &why)) {
		fprintf(stderr, "sockload: %s: %s\n", s, why);
		return -1;
	}
	return 0;
}

/* A blocking connection to @a, or -errno. */
static int dial(const struct proxy_addr *a)
{
	int fd = socket(a->sa.ss_family, addr_socktype(a) | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Wait up to IDLE_MS for @fd to be readable (@out 0) or writable (@out 1). */
static int wait_fd(int fd, int out)
{
	struct pollfd p = { .fd = fd, .events = out ? POLLOUT : POLLIN };
	int n;

	do
		n = poll(&p, 1, IDLE_MS);
	while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : -ETIMEDOUT;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* --- serve ---------------------------------------------------------------- */

struct sconn {
	int fd, id;
	uint64_t in, out, want;		/* source/reverse: bytes to send */
	uint32_t seed;
	unsigned char buf[CHUNK];
	size_t have, at;		/* echo: bytes held, already sent of them */
	unsigned char req[8];
	int got_req, eof, wr_shut;
};

static void sclose(struct sconn *c, const char *how)
{
	printf("close %d in=%llu out=%llu how=%s\n", c->id, (unsigned long long)c->in,
	       (unsigned long long)c->out, how);
	close(c->fd);
	free(c);
}

/* One step of connection @c; returns 1 when it is over (closed). */
static int sstep(const struct opts *o, int seqpacket, struct sconn *c)
{
	ssize_t n;

	for (;;) {
		/* Sending: what echo holds, or the stream source and reverse owe. */
		if (c->have > c->at) {
			n = send(c->fd, c->buf + c->at, c->have - c->at, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN)
					return 0;
				sclose(c, errno == ECONNRESET || errno == EPIPE ? "reset" : "error");
				return 1;
			}
			c->out += (uint64_t)n;
			c->at += (size_t)n;
			continue;
		}
		c->have = c->at = 0;
		if (c->out < c->want) {
			size_t part = c->want - c->out < CHUNK ? (size_t)(c->want - c->out) : CHUNK;

			gen(c->seed, c->out, c->buf, part);
			c->have = part;
			continue;
		}
		if (c->want && !c->wr_shut && (!strcmp(o->mode, "source") || !strcmp(o->mode, "reverse"))) {
			shutdown(c->fd, SHUT_WR);
			c->wr_shut = 1;
			if (!strcmp(o->mode, "source")) {
				sclose(c, "eof");
				return 1;
			}
		}
		if (c->eof) {
			if (!strcmp(o->mode, "reverse"))
				printf("reverse received=%llu\n", (unsigned long long)c->in);
			sclose(c, "eof");
			return 1;
		}
		n = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			sclose(c, errno == ECONNRESET ? "reset" : "error");
			return 1;
		}
		if (n == 0) {
			c->eof = 1;
			if (!strcmp(o->mode, "collect")) {
				c->have = (size_t)snprintf((char *)c->buf, sizeof(c->buf), "got %llu\n",
							   (unsigned long long)c->in);
				c->want = 0;
			}
			continue;
		}
		c->in += (uint64_t)n;
		if (!strcmp(o->mode, "echo")) {
			c->have = (size_t)n;
		} else if (!strcmp(o->mode, "source") && !c->got_req) {
			size_t take = (size_t)n < 8 ? (size_t)n : 8;

			memcpy(c->req, c->buf, take);
			if (take == 8) {
				c->got_req = 1;
				c->seed = (uint32_t)c->req[0] | (uint32_t)c->req[1] << 8 |
					  (uint32_t)c->req[2] << 16 | (uint32_t)c->req[3] << 24;
				c->want = (uint64_t)c->req[4] | (uint64_t)c->req[5] << 8 |
					  (uint64_t)c->req[6] << 16 | (uint64_t)c->req[7] << 24;
			}
		}
		(void)seqpacket;
	}
}

static int serve(const struct proxy_addr *a, const struct opts *o)
{
	struct epoll_event ev, evs[64];
	char local[128];
	int lfd, ep, n, i, next_id = 0;

	lfd = addr_listen(a);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0) {
		fprintf(stderr, "sockload: listen %s: %s\n", a->text, strerror(lfd < 0 ? -lfd : errno));
		return 1;
	}
	addr_local(lfd, a, local, sizeof(local));
	printf("listening %s\n", local);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (!c) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (fd < 0)
					continue;
				c = calloc(1, sizeof(*c));
				if (!c) {
					close(fd);
					continue;
				}
				c->fd = fd;
				c->id = next_id++;
				if (!strcmp(o->mode, "reverse"))
					c->want = o->bytes;
				ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
			sstep(o, a->kind == ADDR_SEQPACKET, c);
		}
	}
}

/* --- clients -------------------------------------------------------------- */

struct cconn {
	int fd, idx, done, ok, shut;
	uint64_t sent, got, total;
	const char *why;
};

/*
 * A seqpacket client's message starting at @off of its stream: 1 to 4096 bytes,
 * the last one what is left. The receiver expects the same sizes back.
 */
static size_t msg_len(const struct cconn *c, uint64_t off)
{
	size_t n = 1 + (size_t)(mix((uint64_t)c->idx << 32 ^ off) % 4096);

	return n < c->total - off ? n : (size_t)(c->total - off);
}

static void cfinish(struct cconn *c, int ok, const char *why)
{
	c->done = 1;
	c->ok = ok;
	c->why = why;
	close(c->fd);
}

static void cstep(struct cconn *c, int seqpacket)
{
	unsigned char buf[CHUNK];
	ssize_t n;

	while (!c->done && c->sent < c->total) {
		size_t part = seqpacket ? msg_len(c, c->sent) :
			      c->total - c->sent < CHUNK ? (size_t)(c->total - c->sent) : CHUNK;

		gen((uint32_t)c->idx, c->sent, buf, part);
		n = send(c->fd, buf, part, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN)
				cfinish(c, 0, strerror(errno));
			break;
		}
		c->sent += (uint64_t)n;
	}
	if (!c->done && c->sent == c->total && !c->shut) {
		shutdown(c->fd, SHUT_WR);
		c->shut = 1;
	}
	while (!c->done) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN)
				cfinish(c, 0, strerror(errno));
			return;
		}
		if (n == 0) {
			cfinish(c, c->got == c->total, c->got == c->total ? NULL : "early end");
			return;
		}
		if (c->got + (uint64_t)n > c->total || !check((uint32_t)c->idx, c->got, buf, (size_t)n)) {
			cfinish(c, 0, "wrong bytes");
			return;
		}
		if (seqpacket && (size_t)n != msg_len(c, c->got)) {
			cfinish(c, 0, "a message split or merged");
			return;
		}
		c->got += (uint64_t)n;
	}
}

static int clients(const struct proxy_addr *a, const struct opts *o)
{
	struct cconn *cs = calloc(o->conns, sizeof(*cs));
	struct epoll_event ev, evs[64];
	unsigned int i, left = o->conns, ok = 0;
	uint64_t bytes = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC), n, j, fd, one = 1;

	if (!cs || ep < 0)
		return 1;
	for (i = 0; i < o->conns; i++) {
		cs[i].idx = (int)i;
		cs[i].total = o->bytes;
		fd = dial(a);
		if (fd < 0) {
			cs[i].fd = -1;
			cs[i].done = 1;
			cs[i].why = strerror(-fd);
			left--;
			continue;
		}
		if (a->kind == ADDR_TCP)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		cs[i].fd = fd;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = &cs[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	while (left) {
		n = epoll_wait(ep, evs, 64, IDLE_MS);
		if (n <= 0)
			break;
		for (j = 0; j < n; j++) {
			struct cconn *c = evs[j].data.ptr;

			if (c->done)
				continue;
			cstep(c, a->kind == ADDR_SEQPACKET);
			if (c->done)
				left--;
		}
	}
	for (i = 0; i < o->conns; i++) {
		if (cs[i].ok) {
			ok++;
			bytes += cs[i].got;
		} else {
			printf("fail conn=%u sent=%llu got=%llu why=%s\n", i,
			       (unsigned long long)cs[i].sent, (unsigned long long)cs[i].got,
			       cs[i].done ? cs[i].why : "no progress for 30 s");
		}
	}
	printf("clients n=%u ok=%u failed=%u bytes=%llu\n", o->conns, ok, o->conns - ok,
	       (unsigned long long)bytes);
	return ok == o->conns ? 0 : 1;
}

/* --- one-connection clients ----------------------------------------------- */

static int fetch(const struct proxy_addr *a, const struct opts *o)
{
	unsigned char req[8], buf[CHUNK];
	uint64_t got = 0;
	int fd, i, stalled = !!o->stall_file;
	int64_t t0;
	ssize_t n;

	for (i = 0; i < 4; i++)
		req[i] = (unsigned char)(o->seed >> (8 * i));
	for (i = 0; i < 4; i++)
		req[4 + i] = (unsigned char)(o->bytes >> (8 * i));
	fd = dial(a);
	if (fd < 0 || write_all(fd, req, sizeof(req))) {
		printf("fetch failed connect\n");
		return 1;
	}
	printf("fetch started\n");
	fflush(stdout);
	t0 = ivshm_clock_us();
	for (;;) {
		size_t want = sizeof(buf);

		/* The stalled reader: one byte, then nothing until told. */
		if (stalled && got >= 1) {
			while (access(o->stall_file, F_OK))
				ivshm_clock_sleep_ms(10);
			stalled = 0;
		}
		if (stalled)
			want = 1;
		if (wait_fd(fd, 0)) {
			printf("fetch failed got=%llu why=no progress for 30 s\n", (unsigned long long)got);
			return 1;
		}
		n = recv(fd, buf, want, 0);
		if (n < 0) {
			printf("fetch failed got=%llu why=%s\n", (unsigned long long)got, strerror(errno));
			return 1;
		}
		if (n == 0 || (o->no_check && got + (uint64_t)n >= o->bytes)) {
			got += n > 0 ? (uint64_t)n : 0;
			break;
		}
		if (!o->no_check && !check(o->seed, got, buf, (size_t)n)) {
			printf("fetch failed got=%llu why=wrong bytes\n", (unsigned long long)got);
			return 1;
		}
		got += (uint64_t)n;
	}
	close(fd);
	t0 = ivshm_clock_us() - t0;
	printf("fetch mib_per_s=%.0f\n", t0 > 0 ? (double)got / (1 << 20) / ((double)t0 / 1e6) : 0.0);
	if (got < o->bytes || (!o->no_check && got != o->bytes)) {
		printf("fetch failed got=%llu why=early end\n", (unsigned long long)got);
		return 1;
	}
	printf("fetch ok bytes=%llu\n", (unsigned long long)got);
	return 0;
}

static int cycles(const struct proxy_addr *a, const struct opts *o)
{
	unsigned char buf[16], back[16];
	unsigned int i, ok = 0;
	size_t got;
	ssize_t n;
	int fd;

	for (i = 0; i < o->conns; i++) {
		gen(i, 0, buf, sizeof(buf));
		fd = dial(a);
		if (fd < 0)
			continue;
		got = 0;
		if (!write_all(fd, buf, sizeof(buf))) {
			while (got < sizeof(back) && !wait_fd(fd, 0) &&
			       (n = recv(fd, back + got, sizeof(back) - got, 0)) > 0)
				got += (size_t)n;
		}
		close(fd);
		ok += got == sizeof(back) && !memcmp(buf, back, sizeof(buf));
	}
	printf("cycles n=%u ok=%u\n", o->conns, ok);
	return ok == o->conns ? 0 : 1;
}

static int probe(const struct proxy_addr *a)
{
	ssize_t n;
	char c;
	int fd = dial(a);

	if (fd < 0) {
		printf("probe connect %s\n", strerror(-fd));
		return 1;
	}
	if (wait_fd(fd, 0)) {
		printf("probe hang\n");
		return 1;
	}
	n = recv(fd, &c, 1, 0);
	printf("probe %s\n", n == 0 ? "eof" : n > 0 ? "data" :
	       errno == ECONNRESET || errno == EPIPE ? "reset" : strerror(errno));
	return 0;
}

static int reverse(const struct proxy_addr *a, const struct opts *o)
{
	unsigned char buf[CHUNK];
	uint64_t got = 0, sent = 0;
	ssize_t n;
	int fd = dial(a);

	if (fd < 0) {
		printf("reverse connect %s\n", strerror(-fd));
		return 1;
	}
	while (!wait_fd(fd, 0) && (n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (!check(0, got, buf, (size_t)n)) {
			printf("reverse wrong bytes at %llu\n", (unsigned long long)got);
			return 1;
		}
		got += (uint64_t)n;
	}
	/* The server's end came; our direction still goes. */
	while (sent < o->send) {
		size_t part = o->send - sent < CHUNK ? (size_t)(o->send - sent) : CHUNK;

		gen(1, sent, buf, part);
		if (write_all(fd, buf, part)) {
			printf("reverse send failed after %llu: %s\n", (unsigned long long)sent,
			       strerror(errno));
			return 1;
		}
		sent += part;
	}
	shutdown(fd, SHUT_WR);
	(void)wait_fd(fd, 0);
	close(fd);
	printf("reverse got=%llu sent=%llu\n", (unsigned long long)got, (unsigned long long)sent);
	return got == o->bytes ? 0 : 1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int rtt(const struct proxy_addr *a, const struct opts *o)
{
	unsigned char buf[CHUNK], back[CHUNK];
	size_t len = o->bytes < CHUNK ? (size_t)o->bytes : CHUNK, got;
	int64_t *t = calloc(o->conns ? o->conns : 1, sizeof(*t)), t0;
	unsigned int i;
	ssize_t n;
	int fd = dial(a), one = 1;

	if (fd < 0 || !t || !len) {
		printf("rtt failed connect\n");
		return 1;
	}
	if (a->kind == ADDR_TCP)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	gen(0, 0, buf, len);
	for (i = 0; i < o->conns; i++) {
		t0 = ivshm_clock_ns();
		if (write_all(fd, buf, len))
			return 1;
		for (got = 0; got < len; got += (size_t)n) {
			n = recv(fd, back + got, len - got, 0);
			if (n <= 0) {
				printf("rtt failed after %u\n", i);
				return 1;
			}
		}
		t[i] = ivshm_clock_ns() - t0;
	}
	qsort(t, o->conns, sizeof(*t), cmp_i64);
	printf("rtt n=%u bytes=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f\n", o->conns, len,
	       t[o->conns / 2] / 1e3, t[o->conns * 99 / 100] / 1e3, t[o->conns - 1] / 1e3);
	close(fd);
	free(t);
	return 0;
}

static int usage(void)
{
	fputs("usage: sockload serve|clients|fetch|cycles|probe|reverse|rtt ADDR [options] "
	      "(see the source's header)\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "mode", required_argument, NULL, 'm' }, { "bytes", required_argument, NULL, 'b' },
		{ "send", required_argument, NULL, 's' }, { "seed", required_argument, NULL, 'S' },
		{ "stall-file", required_argument, NULL, 'f' }, { "no-check", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .mode = "echo", .conns = 1 };
	struct proxy_addr a;
	struct rlimit rl;
	const char *cmd;
	int c;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A thousand connections need more descriptors than the usual soft limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	while ((c = getopt_long(argc, argv, "n:", lopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.mode = optarg; break;
		case 'b': o.bytes = strtoull(optarg, NULL, 0); break;
		case 's': o.send = strtoull(optarg, NULL, 0); break;
		case 'S': o.seed = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'f': o.stall_file = optarg; break;
		case 'C': o.no_check = 1; break;
		case 'n': o.conns = (unsigned int)strtoul(optarg, NULL, 0); break;
		default: return usage();
		}
	}
	if (argc - optind != 2)
		return usage();
	cmd = argv[optind];
	if (parse_addr(argv[optind + 1], &a))
		return 2;
	if (!strcmp(cmd, "serve"))
		return serve(&a, &o);
	if (!strcmp(cmd, "clients"))
		return clients(&a, &o);
	if (!strcmp(cmd, "fetch"))
		return fetch(&a, &o);
	if (!strcmp(cmd, "cycles"))
		return cycles(&a, &o);
	if (!strcmp(cmd, "probe"))
		return probe(&a);
	if (!strcmp(cmd, "reverse"))
		return reverse(&a, &o);
	if (!strcmp(cmd, "rtt"))
		return rtt(&a, &o);
	return usage();
}
