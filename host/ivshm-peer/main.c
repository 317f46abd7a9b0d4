// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-peer: a host-side ivshmem peer for debugging, what QEMU's
 * ivshmem-client is. It connects like QEMU's ivshmem-doorbell device, prints
 * what the server sends, and can write/read the shared memory, ring other
 * peers and wait for its own vectors. This file parses the command line and
 * runs the mode it names (modes.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "deployment.h"
#include "modes.h"
#include "msg.h"
#include "number.h"

/* As ivshmd -n and QEMU's ivshmem-server read it: "010" is 8, "0x4" is 4. */
#define VECTORS_SPELLING (IVSHM_NUM_HEX | IVSHM_NUM_OCT)

static int (*const modes[])(const struct peer_opts *o, int sfd) = {
	[MODE_ACTIONS] = mode_actions,
	[MODE_STAY] = mode_stay,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ivshm-peer [OPTIONS] [SOCKET]\n"
"Connect to an ivshmem server (ivshmd, QEMU's ivshmem-server) like QEMU's\n"
"ivshmem-doorbell device, print what it sends, then run the actions in order.\n"
"\n"
"  -S, --socket PATH     server socket (default " IVSHM_DEFAULT_SOCKET ")\n"
"  -n, --vectors N       eventfds the server gives each peer, 0-%u (default 1);\n"
"                        the setup is complete when N own eventfds arrived (with\n"
"                        0, when the memory did); 0x hex and 0 octal as in ivshmd\n"
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
"  counts C0,C1,...|-        at exit: own vector firings seen per vector\n"
"  eof                       the server closed the connection\n"
"  error MESSAGE\n"
"Exit status: 0 success, 1 error (also EOF before the setup completed),\n"
"2 usage, 3 timeout (of the setup or of a --wait).\n",
		UIO_IVSHMEM_MAX_VECTORS);
}

static int bad(const char *opt, const char *arg)
{
	ivshm_msg_err("invalid %s '%s'", opt, arg);
	return -EINVAL;
}

/* "A:B" into two numbers; B may be free text when text is non-NULL. */
static int parse_pair(const char *arg, uint64_t *a, uint64_t *b, const char **text, bool sizes)
{
	char head[32];
	const char *colon = strchr(arg, ':');
	size_t n;
	int ret;

	if (!colon || (size_t)(colon - arg) >= sizeof(head))
		return -EINVAL;
	n = (size_t)(colon - arg);
	memcpy(head, arg, n);
	head[n] = '\0';
	ret = sizes ? ivshm_num_parse_size(head, a) :
		      ivshm_num_parse(head, IVSHM_NUM_DEC, 0, UINT64_MAX, a);
	if (ret)
		return ret;
	if (text) {
		*text = colon + 1;
		return 0;
	}
	return sizes ? ivshm_num_parse_size(colon + 1, b) :
		       ivshm_num_parse(colon + 1, IVSHM_NUM_DEC, 0, UINT64_MAX, b);
}

static int add_action(struct peer_opts *o, int c, const char *arg)
{
	struct action *a;
	int ret = 0;

	if (o->nact >= PEER_MAX_ACTIONS)
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
		if (!ret && (a->b == 0 || a->b > PEER_MAX_IO))
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

/* Returns 0 to run, 1 when --help was printed, or -EINVAL (reason printed). */
static int parse_opts(struct peer_opts *o, int argc, char **argv)
{
	enum { OPT_TRACE = 256, OPT_TRUNCATE };
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
		{ "trace", no_argument, NULL, OPT_TRACE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*o = (struct peer_opts){ .socket = IVSHM_DEFAULT_SOCKET, .vectors = 1, .timeout_ms = 10000 };
	while ((c = getopt_long(argc, argv, "S:n:t:w:r:R:W:sqh", lo, NULL)) != -1) {
		int ret = 0;

		switch (c) {
		case 'S':
			o->socket = optarg;
			break;
		case 'n':
			if (ivshm_num_parse(optarg, VECTORS_SPELLING, 0, UIO_IVSHMEM_MAX_VECTORS, &v))
				return bad("--vectors", optarg);
			o->vectors = (unsigned)v;
			break;
		case 't':
			if (ivshm_num_parse(optarg, IVSHM_NUM_DEC, 1, 3600, &v))
				return bad("--timeout", optarg);
			o->timeout_ms = (int)v * 1000;
			break;
		case 'w': case 'r': case 'R': case 'W': case OPT_TRUNCATE:
			ret = add_action(o, c, optarg);
			break;
		case 's':
			o->mode = MODE_STAY;
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
		if (ret)
			return ret;
	}
	if (optind < argc)
		o->socket = argv[optind++];
	if (optind < argc)
		return bad("argument", argv[optind]);
	return 0;
}

/* SIGTERM and SIGINT as a readable fd, so every mode can end cleanly in its own loop. */
static int signal_fd(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int main(int argc, char **argv)
{
	struct peer_opts o;
	int sfd, ret, status;

	ivshm_msg_init("ivshm-peer");
	ret = parse_opts(&o, argc, argv);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		ivshm_msg_err("ignoring SIGPIPE: %s", strerror(errno));
		return EXIT_FAILURE;
	}
	sfd = signal_fd();
	if (sfd < 0) {
		ivshm_msg_err("signalfd: %s", strerror(-sfd));
		return EXIT_FAILURE;
	}
	status = modes[o.mode](&o, sfd);
	close(sfd);
	return status;
}
