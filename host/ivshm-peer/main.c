// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-peer: a host-side ivshmem peer for tests and debugging, what QEMU's
 * ivshmem-client is. It connects like QEMU's ivshmem-doorbell device, prints
 * what the server sends, and can write/read the shared memory, ring other
 * peers and wait for its own vectors.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "conn.h"
#include "number.h"

#define DEFAULT_SOCKET "/run/ivshm/ivshmd.sock"
#define MAX_ACTIONS 64
#define MAX_IO (1u << 20)

enum { EXIT_TIMEOUT = 2 };

enum action_kind { ACT_WRITE, ACT_READ, ACT_RING, ACT_WAIT, ACT_TRUNCATE };

struct action {
	enum action_kind kind;
	uint64_t a;	/* offset, peer, vector or size */
	uint64_t b;	/* length or vector */
	const char *text;
};

struct opts {
	const char *socket;
	unsigned vectors;
	int timeout_ms;
	bool stay, no_read, trace, quiet;
	uint64_t repeat;
	struct action act[MAX_ACTIONS];
	unsigned nact;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ivshm-peer [OPTIONS] [SOCKET]\n"
"Connect to an ivshmem server (ivshmd, QEMU's ivshmem-server) like QEMU's\n"
"ivshmem-doorbell device, print what it sends, then run the actions in order.\n"
"\n"
"  -S, --socket PATH     server socket (default " DEFAULT_SOCKET ")\n"
"  -n, --vectors N       eventfds the server gives each peer (default 1); the\n"
"                        setup is complete when N own eventfds arrived\n"
"  -t, --timeout SEC     deadline for the setup and for each wait (default 10)\n"
"  -w, --write OFF:TEXT  write TEXT at byte OFF of the shared memory\n"
"  -r, --read OFF:LEN    print LEN bytes (at most 1M) at OFF in hex\n"
"  -R, --ring ID:VEC     ring vector VEC of peer ID (write 1 to its eventfd)\n"
"  -W, --wait VEC        wait until own vector VEC fires\n"
"      --truncate SIZE   try to resize the shared memory (sealed memfds refuse)\n"
"  -s, --stay            after the actions, stay connected printing events and\n"
"                        running commands from stdin until EOF, 'quit', SIGTERM\n"
"                        or SIGINT; commands: ring ID VEC | write OFF TEXT |\n"
"                        read OFF LEN | quit\n"
"      --no-read         connect and never read the socket (a stuck client);\n"
"                        hold it until stdin EOF or a signal\n"
"      --repeat N        connect, complete the setup and disconnect N times\n"
"      --trace           also print every raw message\n"
"  -q, --quiet           print only results of actions\n"
"  -h, --help            this help\n"
"\n"
"OFF, LEN and SIZE take K, M, G, T suffixes. Output, one event per line:\n"
"  msg VALUE fd|-            raw message (--trace)\n"
"  version V                 protocol version\n"
"  id ID                     own peer ID\n"
"  shm size=BYTES seals=LIST|none|unsupported dev=MAJ:MIN ino=INODE\n"
"                            the shared memory (dev/ino as in /proc/PID/maps)\n"
"  vector peer=ID index=I    eventfd I of peer ID (own ID: own receive side)\n"
"  ready id=ID vectors=N peers=ID,...|-   setup complete, other peers present\n"
"  join peer=ID              after ready: a new peer has all its vectors\n"
"  leave peer=ID             a peer left\n"
"  wrote offset=OFF len=LEN\n"
"  read offset=OFF hex=HEX\n"
"  rang peer=ID vector=V\n"
"  got vector=V count=C      own vector V fired (C: eventfd counter read)\n"
"  timeout vector=V          --wait expired\n"
"  truncate size=SIZE result=ok|ERRNO-NAME\n"
"  connected                 --no-read: connection established\n"
"  hangup                    --no-read: the server closed the connection\n"
"  cycles N                  --repeat finished\n"
"  counts C0,C1,...          at exit: own vector firings seen per vector\n"
"  eof                       the server closed the connection\n"
"  error MESSAGE\n"
"Exit status: 0 success, 1 error (also EOF before the setup completed), 2 timeout.\n");
}

static int bad(const char *opt, const char *arg)
{
	fprintf(stderr, "ivshm-peer: invalid %s '%s'\n", opt, arg);
	return -EINVAL;
}

/* "A:B" into two numbers; B may be free text when text is non-NULL. */
static int parse_pair(const char *arg, uint64_t *a, uint64_t *b, const char **text, bool sizes)
{
	char head[32];
	const char *colon = strchr(arg, ':');
	size_t n;

	if (!colon || (size_t)(colon - arg) >= sizeof(head))
		return -EINVAL;
	n = (size_t)(colon - arg);
	memcpy(head, arg, n);
	head[n] = '\0';
	if (sizes ? ivshm_num_parse_size(head, a) : ivshm_num_parse(head, IVSHM_NUM_DEC, 0, UINT64_MAX, a))
		return -EINVAL;
	if (text) {
		*text = colon + 1;
		return 0;
	}
	return sizes ? ivshm_num_parse_size(colon + 1, b) : ivshm_num_parse(colon + 1, IVSHM_NUM_DEC, 0, UINT64_MAX, b);
}

static int add_action(struct opts *o, int c, const char *arg)
{
	struct action *a;
	int ret = 0;

	if (o->nact >= MAX_ACTIONS)
		return bad("action (too many)", arg);
	a = &o->act[o->nact];
	switch (c) {
	case 'w':
		a->kind = ACT_WRITE;
		ret = parse_pair(arg, &a->a, NULL, &a->text, true);
		break;
	case 'r':
		a->kind = ACT_READ;
		ret = parse_pair(arg, &a->a, &a->b, NULL, true);
		if (!ret && (a->b == 0 || a->b > MAX_IO))
			ret = -EINVAL;
		break;
	case 'R':
		a->kind = ACT_RING;
		ret = parse_pair(arg, &a->a, &a->b, NULL, false);
		break;
	case 'W':
		a->kind = ACT_WAIT;
		ret = ivshm_num_parse(arg, IVSHM_NUM_DEC, 0, UIO_IVSHMEM_MAX_VECTORS - 1, &a->a);
		break;
	default:
		a->kind = ACT_TRUNCATE;
		ret = ivshm_num_parse_size(arg, &a->a);
		break;
	}
	if (ret)
		return bad("action argument", arg);
	o->nact++;
	return 0;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	enum { OPT_NO_READ = 256, OPT_REPEAT, OPT_TRACE, OPT_TRUNCATE };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "write", required_argument, NULL, 'w' },
		{ "read", required_argument, NULL, 'r' },
		{ "ring", required_argument, NULL, 'R' },
		{ "wait", required_argument, NULL, 'W' },
		{ "truncate", required_argument, NULL, OPT_TRUNCATE },
		{ "stay", no_argument, NULL, 's' },
		{ "no-read", no_argument, NULL, OPT_NO_READ },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "trace", no_argument, NULL, OPT_TRACE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*o = (struct opts){ .socket = DEFAULT_SOCKET, .vectors = 1, .timeout_ms = 10000 };
	while ((c = getopt_long(argc, argv, "S:n:t:w:r:R:W:sqh", lo, NULL)) != -1) {
		switch (c) {
		case 'S':
			o->socket = optarg;
			break;
		case 'n':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, UIO_IVSHMEM_MAX_VECTORS, &v))
				return bad("--vectors", optarg);
			o->vectors = (unsigned)v;
			break;
		case 't':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, 3600, &v))
				return bad("--timeout", optarg);
			o->timeout_ms = (int)v * 1000;
			break;
		case 'w': case 'r': case 'R': case 'W': case OPT_TRUNCATE:
			if (add_action(o, c, optarg))
				return -EINVAL;
			break;
		case 's':
			o->stay = true;
			break;
		case OPT_NO_READ:
			o->no_read = true;
			break;
		case OPT_REPEAT:
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, 10000000, &o->repeat))
				return bad("--repeat", optarg);
			break;
		case OPT_TRACE:
			o->trace = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->socket = argv[optind++];
	if (optind < argc)
		return bad("argument", argv[optind]);
	return 0;
}

static void print_hex(uint64_t off, const unsigned char *buf, uint64_t len)
{
	printf("read offset=%llu hex=", (unsigned long long)off);
	for (uint64_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
	say("%s", "");
}

static int do_write(struct conn *c, uint64_t off, const char *text)
{
	int ret = conn_write(c, off, text, strlen(text));

	if (ret) {
		say("error write offset=%llu: %s", (unsigned long long)off, strerror(-ret));
		return ret;
	}
	say("wrote offset=%llu len=%zu", (unsigned long long)off, strlen(text));
	return 0;
}

static int do_read(struct conn *c, uint64_t off, uint64_t len)
{
	static unsigned char buf[MAX_IO];
	int ret;

	if (len == 0 || len > MAX_IO) {
		say("error read: length must be 1 to %u", MAX_IO);
		return -EINVAL;
	}
	ret = conn_read(c, off, buf, len);
	if (ret) {
		say("error read offset=%llu: %s", (unsigned long long)off, strerror(-ret));
		return ret;
	}
	print_hex(off, buf, len);
	return 0;
}

static int do_ring(struct conn *c, uint64_t peer, uint64_t v)
{
	int ret = -ENOENT;

	if (peer <= IVSHMEM_MAX_PEER_ID && v < UIO_IVSHMEM_MAX_VECTORS)
		ret = conn_ring(c, (unsigned)peer, (unsigned)v);
	if (ret) {
		say("error ring peer=%llu vector=%llu: %s", (unsigned long long)peer,
		    (unsigned long long)v, ret == -ENOENT ? "no such peer or vector" : strerror(-ret));
		return ret;
	}
	say("rang peer=%llu vector=%llu", (unsigned long long)peer, (unsigned long long)v);
	return 0;
}

static int do_truncate(struct conn *c, uint64_t size)
{
	int fd = ivshm_session_shm_fd(c->sess);

	if (ftruncate(fd, (off_t)size) < 0) {
		say("truncate size=%llu result=%s", (unsigned long long)size, strerrorname_np(errno));
		return 0;
	}
	say("truncate size=%llu result=ok", (unsigned long long)size);
	return 0;
}

/* Wait for own vector v, still serving the socket so joins and leaves are seen. */
static int do_wait(struct conn *c, unsigned v, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int fd = conn_own_fd(c, v);

	if (fd < 0) {
		say("error wait: no own vector %u", v);
		return -ENOENT;
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = c->sock, .events = POLLIN },
		};
		long long left = deadline - now_ms();
		long long got;
		int ret;

		if (left <= 0) {
			say("timeout vector=%u", v);
			return -ETIMEDOUT;
		}
		ret = poll(p, 2, (int)left);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents) {
			ret = conn_pump(c);
			if (ret)
				return ret > 0 ? -EPIPE : ret;
		}
		got = conn_take(c, v);
		if (got < 0)
			return (int)got;
		if (got > 0)
			return 0;
	}
}

static int run_actions(struct conn *c, const struct opts *o)
{
	for (unsigned i = 0; i < o->nact; i++) {
		const struct action *a = &o->act[i];
		int ret;

		switch (a->kind) {
		case ACT_WRITE:
			ret = do_write(c, a->a, a->text);
			break;
		case ACT_READ:
			ret = do_read(c, a->a, a->b);
			break;
		case ACT_RING:
			ret = do_ring(c, a->a, a->b);
			break;
		case ACT_WAIT:
			ret = do_wait(c, (unsigned)a->a, o->timeout_ms);
			break;
		default:
			ret = do_truncate(c, a->a);
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Next space-separated word of *s, or NULL; *s moves past it. */
static char *word(char **s)
{
	char *w = *s + strspn(*s, " ");
	size_t n = strcspn(w, " ");

	if (!n)
		return NULL;
	*s = w + n + (w[n] ? 1 : 0);
	w[n] = '\0';
	return w;
}

/* One stdin command; returns 1 for quit. Bad commands are reported, not fatal. */
static int command(struct conn *c, char *line)
{
	char *cmd = word(&line), *x, *y;
	uint64_t a, b;

	if (!cmd)
		return 0;
	if (!strcmp(cmd, "quit"))
		return 1;
	x = word(&line);
	if (!strcmp(cmd, "write") && x && *line && !ivshm_num_parse_size(x, &a)) {
		do_write(c, a, line);
		return 0;
	}
	y = word(&line);
	if (!strcmp(cmd, "ring") && x && y && !ivshm_num_parse(x, IVSHM_NUM_DEC, 0, UINT64_MAX, &a) &&
	    !ivshm_num_parse(y, IVSHM_NUM_DEC, 0, UINT64_MAX, &b)) {
		do_ring(c, a, b);
		return 0;
	}
	if (!strcmp(cmd, "read") && x && y && !ivshm_num_parse_size(x, &a) && !ivshm_num_parse_size(y, &b)) {
		do_read(c, a, b);
		return 0;
	}
	say("error unknown command");
	return 0;
}

struct linebuf {
	char buf[4096];
	size_t len;
};

/*
 * Read what stdin has and run each complete line. Returns 1 on EOF or quit,
 * 0 otherwise. A line longer than the buffer is an error, not a hang.
 */
static int commands(struct conn *c, struct linebuf *lb)
{
	ssize_t n = read(0, lb->buf + lb->len, sizeof(lb->buf) - 1 - lb->len);
	char *nl;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	lb->len += (size_t)n;
	lb->buf[lb->len] = '\0';
	while ((nl = strchr(lb->buf, '\n'))) {
		size_t used = (size_t)(nl - lb->buf) + 1;
		int quit;

		*nl = '\0';
		quit = command(c, lb->buf);
		memmove(lb->buf, lb->buf + used, lb->len - used + 1);
		lb->len -= used;
		if (quit)
			return 1;
	}
	if (lb->len == sizeof(lb->buf) - 1) {
		say("error command line too long");
		lb->len = 0;
	}
	return 0;
}

static int signal_fd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* Serve events and stdin commands until EOF on either side, quit or a signal. */
static int stay(struct conn *c, int sfd)
{
	unsigned nvec = ivshm_session_vectors(c->sess);
	struct pollfd p[3 + UIO_IVSHMEM_MAX_VECTORS];
	struct linebuf lb = { .len = 0 };

	for (;;) {
		int ret;

		p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = c->sock, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = 0, .events = POLLIN };
		for (unsigned v = 0; v < nvec; v++)
			p[3 + v] = (struct pollfd){ .fd = conn_own_fd(c, v), .events = POLLIN };
		ret = poll(p, 3 + nvec, -1);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents)
			return 0;
		for (unsigned v = 0; v < nvec; v++)
			if (p[3 + v].revents && conn_take(c, v) < 0)
				return -EIO;
		if (p[1].revents) {
			ret = conn_pump(c);
			if (ret)
				return ret > 0 ? 0 : ret;
		}
		if (p[2].revents && commands(c, &lb))
			return 0;
	}
}

static void print_counts(struct conn *c)
{
	unsigned nvec = ivshm_session_vectors(c->sess);
	char buf[UIO_IVSHMEM_MAX_VECTORS * 21 + 1];
	size_t used = 0;

	/* Firings that arrived but were never waited for count too. */
	for (unsigned v = 0; v < nvec; v++)
		conn_take(c, v);
	for (unsigned v = 0; v < nvec; v++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%llu", v ? "," : "",
					 (unsigned long long)c->counts[v]);
	say("counts %s", buf);
}

/* Hold a connection without ever reading it: what a wedged client looks like to the server. */
static int hold_unread(const struct opts *o, int sfd)
{
	struct conn c = { .quiet = true };
	int ret;

	ret = conn_open(&c, o->socket, o->vectors, false);
	if (ret)
		return EXIT_FAILURE;
	say("connected");
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = 0, .events = POLLIN },
			{ .fd = c.sock, .events = 0 },	/* POLLHUP only: nothing is read */
		};

		ret = poll(p, 3, -1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 || p[0].revents || p[1].revents)
			break;
		if (p[2].revents & (POLLHUP | POLLERR)) {
			say("hangup");
			break;
		}
	}
	conn_close(&c);
	return EXIT_SUCCESS;
}

static int churn(const struct opts *o)
{
	for (uint64_t i = 0; i < o->repeat; i++) {
		struct conn c = { .quiet = true };
		int ret;

		ret = conn_open(&c, o->socket, o->vectors, false);
		if (ret)
			return EXIT_FAILURE;
		ret = conn_wait_ready(&c, now_ms() + o->timeout_ms);
		conn_close(&c);
		if (ret) {
			say("error cycle %llu: %s", (unsigned long long)i + 1,
			    ret > 0 ? "server closed the connection" : strerror(-ret));
			return ret == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE;
		}
	}
	say("cycles %llu", (unsigned long long)o->repeat);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	struct conn c = { 0 };
	struct opts o;
	int sfd, ret, status = EXIT_SUCCESS;

	ret = parse_opts(&o, argc, argv);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return EXIT_FAILURE;
	sfd = signal_fd();
	if (sfd < 0) {
		fprintf(stderr, "ivshm-peer: signalfd: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	if (o.no_read)
		return hold_unread(&o, sfd);
	if (o.repeat)
		return churn(&o);

	c.trace = o.trace;
	c.quiet = o.quiet;
	ret = conn_open(&c, o.socket, o.vectors, true);
	if (ret)
		return EXIT_FAILURE;
	ret = conn_wait_ready(&c, now_ms() + o.timeout_ms);
	if (ret) {
		if (ret == -ETIMEDOUT)
			say("error timeout waiting for the setup");
		else if (ret > 0)
			say("error server closed the connection during the setup");
		conn_close(&c);
		return ret == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE;
	}
	ret = run_actions(&c, &o);
	if (!ret && o.stay)
		ret = stay(&c, sfd);
	if (ret)
		status = ret == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE;
	print_counts(&c);
	conn_close(&c);
	close(sfd);
	return status;
}
