// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd-soak: load generator for tests/tools/soak. Keeps N peers connected
 * that ring each other's vectors without pause, while another peer joins
 * and leaves over and over, for S seconds. Every doorbell rung at a staying
 * peer must arrive (eventfd counters, summed), every join and leave must be
 * announced to every staying peer, and ivshmd's fd count and RSS are
 * printed at the start (after a warm-up) and at the end:
 *
 *   start fds=F rss_kib=R
 *   sample t=SECONDS fds=F rss_kib=R cycles=C doorbells=D
 *   end fds=F rss_kib=R cycles=C doorbells=D received=D
 *
 * Exit status 0 when everything arrived, 1 otherwise, 2 for usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "msg.h"
#include "number.h"
#include "eventfd.h"
#include "procfs.h"
#include "pump.h"

#define MAX_STAY 64
#define STEP_TIMEOUT_MS 10000
#define WARMUP_CYCLES 200

struct peer {
	struct ivshm_pump p;
	unsigned long joins, leaves;	/* of the churning peer, seen by this one */
	uint64_t received;		/* own eventfd counts read */
};

struct soak {
	const char *sock;
	unsigned vectors;
	unsigned nstay;
	struct peer stay[MAX_STAY];
	int pid;
	uint64_t rung;			/* doorbells written to staying peers */
	unsigned long cycles;
};

static int peer_open(struct soak *s, struct peer *p, bool keep)
{
	*p = (struct peer){ .joins = 0 };
	return ivshm_pump_open(&p->p, s->sock, s->vectors, keep);
}

static void peer_close(struct peer *p)
{
	ivshm_pump_close(&p->p);
}

/* Everything the server sent so far. Returns 0, or a negative errno (-EPIPE at EOF). */
static int pump(struct peer *p)
{
	struct ivshm_event ev;
	int ret;

	while ((ret = ivshm_pump_next(&p->p, &ev)) > 0) {
		if (ev.type == IVSHM_EV_VECTOR && ev.complete && ivshm_session_ready(p->p.sess) &&
		    (int)ev.peer != ivshm_session_id(p->p.sess))
			p->joins++;
		else if (ev.type == IVSHM_EV_LEAVE)
			p->leaves++;
	}
	if (ret == -EPROTO)
		ivshm_msg_err("protocol: %s", ivshm_pump_error(&p->p));
	return ret;
}

/* Read a staying peer's own eventfds: every doorbell rung at it, merged. */
static void collect(struct peer *p, unsigned vectors)
{
	int id = ivshm_session_id(p->p.sess);

	for (unsigned v = 0; v < vectors; v++) {
		int fd = ivshm_session_peer_fd(p->p.sess, (unsigned)id, v);
		uint64_t n;

		if (fd >= 0 && ivshm_eventfd_take(fd, &n) > 0)
			p->received += n;
	}
}

/* Pump every staying peer (and extra, if any) until done() or the deadline. */
static int pump_until(struct soak *s, struct peer *extra, bool (*done)(struct soak *, struct peer *))
{
	int64_t deadline = ivshm_clock_ms() + STEP_TIMEOUT_MS;

	for (;;) {
		struct pollfd pfd[MAX_STAY + 1];
		unsigned n = 0;

		for (unsigned i = 0; i < s->nstay; i++) {
			int ret = pump(&s->stay[i]);

			if (ret) {
				ivshm_msg_err("staying peer %u: %s", i, strerror(-ret));
				return ret;
			}
			pfd[n++] = (struct pollfd){ .fd = s->stay[i].p.sock, .events = POLLIN };
		}
		if (extra) {
			int ret = pump(extra);

			if (ret) {
				ivshm_msg_err("churning peer: %s", strerror(-ret));
				return ret;
			}
			pfd[n++] = (struct pollfd){ .fd = extra->p.sock, .events = POLLIN };
		}
		if (done(s, extra))
			return 0;
		if (ivshm_clock_ms() >= deadline) {
			ivshm_msg_err("timed out after %d ms (cycle %lu)", STEP_TIMEOUT_MS, s->cycles);
			return -ETIMEDOUT;
		}
		if (poll(pfd, n, 10) < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * Every staying peer has its own setup and the eventfds of every other one: a
 * peer that joined later reaches the earlier ones by a join notice, which may
 * still be on its way when their own setups are long complete.
 */
static bool all_ready(struct soak *s, struct peer *extra)
{
	for (unsigned i = 0; i < s->nstay; i++) {
		if (!ivshm_session_ready(s->stay[i].p.sess))
			return false;
		for (unsigned j = 0; j < s->nstay; j++)
			if (j != i && ivshm_session_peer_vectors(s->stay[i].p.sess,
					(unsigned)ivshm_session_id(s->stay[j].p.sess)) != s->vectors)
				return false;
	}
	return !extra || ivshm_session_ready(extra->p.sess);
}

/* The churning peer is set up and every staying peer heard of it (with vectors). */
static bool joined(struct soak *s, struct peer *extra)
{
	if (!ivshm_session_ready(extra->p.sess))
		return false;
	for (unsigned i = 0; s->vectors && i < s->nstay; i++)
		if (s->stay[i].joins < s->cycles + 1)
			return false;
	return true;
}

static bool left(struct soak *s, struct peer *extra)
{
	(void)extra;
	for (unsigned i = 0; i < s->nstay; i++)
		if (s->stay[i].leaves < s->cycles)
			return false;
	return true;
}

/* A burst of doorbells between random staying peers. */
static int ring_some(struct soak *s)
{
	uint32_t r[16];

	if (s->nstay < 2 || !s->vectors)
		return 0;
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -EIO;
	for (unsigned k = 0; k + 2 < 16; k += 3) {
		struct peer *from = &s->stay[r[k] % s->nstay];
		struct peer *to = &s->stay[r[k + 1] % s->nstay];
		unsigned v = r[k + 2] % s->vectors;
		int fd = ivshm_session_peer_fd(from->p.sess, (unsigned)ivshm_session_id(to->p.sess), v);
		uint64_t one = 1;

		if (fd < 0) {
			ivshm_msg_err("peer %d holds no eventfd %u of peer %d",
				      ivshm_session_id(from->p.sess), v, ivshm_session_id(to->p.sess));
			return -ENOENT;
		}
		if (write(fd, &one, sizeof(one)) != sizeof(one))
			return -errno;
		s->rung++;
	}
	return 0;
}

/* One join and leave of a fresh peer, with doorbells around it. */
static int cycle(struct soak *s)
{
	struct peer p;
	int ret;

	ret = peer_open(s, &p, false);
	if (!ret)
		ret = ring_some(s);
	if (!ret)
		ret = pump_until(s, &p, joined);
	peer_close(&p);
	if (ret)
		return ret;
	s->cycles++;
	ret = ring_some(s);
	return ret ? ret : pump_until(s, NULL, left);
}

static uint64_t received(struct soak *s)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < s->nstay; i++) {
		collect(&s->stay[i], s->vectors);
		sum += s->stay[i].received;
	}
	return sum;
}

static int usage(void)
{
	fprintf(stderr, "Usage: ivshmd-soak -S SOCKET -p IVSHMD_PID [-n VECTORS] [-N STAYING] "
		"-t SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct soak s = { .vectors = 4, .nstay = 8 };
	uint64_t v, seconds = 0, got;
	int64_t start, end, next_sample;
	long fds0, rss0;
	int c, ret = 0;

	ivshm_msg_init("ivshmd-soak");
	while ((c = getopt(argc, argv, "S:p:n:N:t:")) != -1) {
		switch (c) {
		case 'S':
			s.sock = optarg;
			break;
		case 'p':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, 1 << 22, &v))
				return usage();
			s.pid = (int)v;
			break;
		case 'n':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 0, UIO_IVSHMEM_MAX_VECTORS, &v))
				return usage();
			s.vectors = (unsigned)v;
			break;
		case 'N':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, MAX_STAY, &v))
				return usage();
			s.nstay = (unsigned)v;
			break;
		case 't':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, 7 * 86400, &seconds))
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (!s.sock || !s.pid || !seconds)
		return usage();

	for (unsigned i = 0; i < s.nstay && !ret; i++)
		ret = peer_open(&s, &s.stay[i], true);
	if (!ret)
		ret = pump_until(&s, NULL, all_ready);
	for (unsigned i = 0; i < s.nstay; i++)
		s.stay[i].joins = s.stay[i].leaves = 0;
	/* Allocator and queues in their steady state before the first measurement. */
	for (unsigned long k = 0; k < WARMUP_CYCLES && !ret; k++)
		ret = cycle(&s);
	if (ret)
		goto out;
	fds0 = proc_fds(s.pid);
	rss0 = proc_status_kib(s.pid, "VmRSS");
	printf("start fds=%ld rss_kib=%ld\n", fds0, rss0);
	fflush(stdout);
	start = ivshm_clock_ms();
	end = start + (int64_t)seconds * 1000;
	next_sample = start + 10000;
	while (!ret && ivshm_clock_ms() < end) {
		ret = cycle(&s);
		if (!ret && ivshm_clock_ms() >= next_sample) {
			printf("sample t=%lld fds=%ld rss_kib=%ld cycles=%lu doorbells=%llu\n",
			       (long long)((ivshm_clock_ms() - start) / 1000), proc_fds(s.pid),
			       proc_status_kib(s.pid, "VmRSS"), s.cycles, (unsigned long long)s.rung);
			fflush(stdout);
			next_sample += 10000;
		}
	}
	if (ret)
		goto out;
	got = received(&s);
	printf("end fds=%ld rss_kib=%ld cycles=%lu doorbells=%llu received=%llu\n",
	       proc_fds(s.pid), proc_status_kib(s.pid, "VmRSS"), s.cycles, (unsigned long long)s.rung,
	       (unsigned long long)got);
	if (got != s.rung) {
		ivshm_msg_err("%llu doorbells rung, %llu arrived", (unsigned long long)s.rung,
			      (unsigned long long)got);
		ret = -EIO;
	}
out:
	for (unsigned i = 0; i < s.nstay; i++)
		peer_close(&s.stay[i]);
	return ret ? 1 : 0;
}
