// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-chan: channels from the command line, in a guest or on the host
 * (--host SOCKET). It publishes this peer under a role, then serves, sends or
 * meshes with other peers. Every message it sends starts with a 64-bit
 * sequence number, and every receiver checks it, so loss, duplication and
 * reordering show. One key=value result line per command, for scripts and tests.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#define MAX_MSG   (64u * 1024)
#define MAX_PEERS 16

struct opts {
	struct ivshm_dev *dev;
	const char *device, *host, *role, *peer;
	unsigned int vectors;
	unsigned int open_flags;	/* ivshm_open_server() flags: --unsealed */
	uint32_t port;
	uint64_t count, size, delay_ms;
	int timeout_ms;
	int stream, echo, event_loop;
	struct ivshm_chan_opts chan;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ivshm-chan [DEVICE] -r ROLE serve [-p PORT] [--count N] [--echo] [--delay-ms D]\n"
		"       ivshm-chan [DEVICE] -r ROLE send -P PEER_ROLE [-p PORT] [--count N] [--size BYTES] [--echo] [--delay-ms D]\n"
		"       ivshm-chan [DEVICE] -r ROLE mesh -P ROLE1,ROLE2,... [-p PORT] [--count N]\n"
		"       ivshm-chan [DEVICE] peers\n"
		"DEVICE: -d /dev/uioN|uioN|PCI (default: the first), or --host SOCKET [-n VECTORS]\n"
		"        [--unsealed] (VECTORS 0: the server's; --unsealed: accept ivshmd -M memory)\n"
		"  -r, --role      publish this peer under ROLE (1..23 printable characters)\n"
		"  -P, --peer      the peer's role (mesh: every role, this one included)\n"
		"  -p, --port      channel port (default 1)\n"
		"  -c, --count     messages (serve: stop after N; default: until the peer closes)\n"
		"  -s, --size      message bytes, 8..65536 (default 64)\n"
		"  -e, --echo      serve: send each message back; send: wait for each echo\n"
		"      --stream    a stream channel instead of packets\n"
		"      --ring      this end's ring bytes (default 16384)\n"
		"      --wait      interrupt | poll | hybrid (default interrupt)\n"
		"      --delay-ms  pause after each message (a slow reader, or a quiet sender)\n"
		"      --event-loop  serve: wait in poll() on the device fd between non-blocking calls\n"
		"  -t, --timeout   per call, ms (default 10000)\n"
		"Result lines:\n"
		"  chan cmd=serve|send peer=ID messages=N bytes=B doorbells=D sleeps=S result=ok|ERROR\n"
		"  chan cmd=mesh peer=ID sent=N received=N result=ok|ERROR   (one per other peer)\n"
		"  peer id=N role=ROLE state=live|gone|dead vector=V generation=G   (peers)\n"
		"Exit status: 0 success, 1 error (including a peer that broke the protocol), 2 usage.\n");
}

/* The short name of a channel error, for result lines. */
static const char *err_name(int err)
{
	switch (-err) {
	case 0: return "ok";
	case EPIPE: return "EPIPE";
	case ECONNRESET: return "ECONNRESET";
	case EHOSTDOWN: return "EHOSTDOWN";
	case EPROTO: return "EPROTO";
	case EPROTOTYPE: return "EPROTOTYPE";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EMSGSIZE: return "EMSGSIZE";
	case EUCLEAN: return "EUCLEAN";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTCONN: return "ENOTCONN";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENOLINK: return "ENOLINK";
	default: return "error";
	}
}

/* Pause without looking dead: a peer that sleeps long keeps its heartbeat going. */
static void pause_ms(const struct opts *o, uint64_t ms)
{
	int64_t end = ivshm_clock_ms() + (int64_t)ms, left;

	while ((left = end - ivshm_clock_ms()) > 0) {
		ivshm_clock_sleep_ms(left < 100 ? (unsigned int)left : 100);
		ivshm_heartbeat(o->dev);
	}
}

static void result(const char *cmd, struct ivshm_chan *ch, int err)
{
	struct ivshm_chan_stats st = { 0 };
	struct ivshm_chan_info info = { 0 };

	if (ch) {
		ivshm_chan_get_stats(ch, &st);
		ivshm_chan_get_info(ch, &info);
	}
	printf("chan cmd=%s peer=%u messages=%llu bytes=%llu doorbells=%llu sleeps=%llu result=%s\n",
	       cmd, info.peer, (unsigned long long)(st.sent > st.received ? st.sent : st.received),
	       (unsigned long long)(st.bytes_sent > st.bytes_received ? st.bytes_sent :
								st.bytes_received),
	       (unsigned long long)st.doorbells, (unsigned long long)st.sleeps, err_name(err));
}

/* One message of @o->size bytes carrying @seq; packet or stream alike. */
static int put_msg(struct ivshm_chan *ch, const struct opts *o, char *buf, uint64_t seq)
{
	size_t off = 0, done;
	int err;

	memcpy(buf, &seq, sizeof(seq));
	if (!o->stream)
		return ivshm_chan_send(ch, buf, o->size, o->timeout_ms);
	while (off < o->size) {
		err = ivshm_chan_write(ch, buf + off, o->size - off, &done, o->timeout_ms);
		if (err)
			return err;
		off += done;
	}
	return 0;
}

/*
 * How an event loop waits: a non-blocking receive, then poll() on the device
 * fd and ivshm_ack(), with a 250 ms tick for the heartbeat and the peer's
 * liveness (both come with the library's calls).
 */
static int recv_polled(const struct opts *o, struct ivshm_chan *ch, char *buf, size_t *len)
{
	int64_t deadline = ivshm_clock_ms() + o->timeout_ms, left;
	struct pollfd pfd = { .events = POLLIN };
	int err;

	err = ivshm_get_fd(o->dev, &pfd.fd);
	if (err)
		return err;
	for (;;) {
		err = ivshm_chan_recv(ch, buf, MAX_MSG, len, 0);
		if (err != -EAGAIN)
			return err;
		left = deadline - ivshm_clock_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left < 250 ? (int)left : 250) < 0 && errno != EINTR)
			return -errno;
		err = ivshm_ack(o->dev, NULL, NULL);
		if (err && err != -EAGAIN)
			return err;
		ivshm_heartbeat(o->dev);
	}
}

/* The next message into @buf, checking it carries @seq. */
static int get_msg(struct ivshm_chan *ch, const struct opts *o, char *buf, uint64_t seq)
{
	size_t off = 0, done;
	uint64_t got;
	int err;

	if (!o->stream) {
		err = o->event_loop ? recv_polled(o, ch, buf, &done) :
				      ivshm_chan_recv(ch, buf, MAX_MSG, &done, o->timeout_ms);
		if (err)
			return err;
		if (done != o->size) {
			ivshm_msg_err("message %llu has %zu bytes, expected %llu",
				      (unsigned long long)seq, done, (unsigned long long)o->size);
			return -EBADMSG;
		}
	} else {
		while (off < o->size) {
			err = ivshm_chan_read(ch, buf + off, o->size - off, &done, o->timeout_ms);
			if (err)
				return err;
			off += done;
		}
	}
	memcpy(&got, buf, sizeof(got));
	if (got != seq) {
		ivshm_msg_err("message %llu carries sequence number %llu: lost, doubled or reordered",
			      (unsigned long long)seq, (unsigned long long)got);
		return -EBADMSG;
	}
	return 0;
}

static int cmd_serve(struct ivshm_dev *dev, const struct opts *o)
{
	static char buf[MAX_MSG];
	struct ivshm_chan *ch = NULL;
	uint64_t n;
	int err;

	if (app_publish(dev, o->role, o->chan.vector, 0))
		return EXIT_FAIL;
	err = ivshm_chan_accept(dev, o->port, &o->chan, o->timeout_ms, &ch);
	if (err) {
		app_err(err, "accept on port %u", o->port);
		result("serve", NULL, err);
		return EXIT_FAIL;
	}
	printf("chan serving port=%u\n", o->port);
	for (n = 0; !o->count || n < o->count; n++) {
		err = get_msg(ch, o, buf, n);
		if (err)
			break;
		if (o->echo)
			err = put_msg(ch, o, buf, n);
		if (err)
			break;
		if (o->delay_ms)
			pause_ms(o, o->delay_ms);
	}
	/* The peer closing after all its messages is the normal end. */
	if (err == -EPIPE && !o->count && n > 0)
		err = 0;
	result("serve", ch, err);
	ivshm_chan_close(ch);
	return err ? EXIT_FAIL : 0;
}

static int find(struct ivshm_dev *dev, const char *role, int timeout_ms, struct ivshm_peer *p)
{
	int err = ivshm_find_peer(dev, role, timeout_ms, p);

	if (err)
		app_err(err, "no peer %s", role);
	return err;
}

static int cmd_send(struct ivshm_dev *dev, const struct opts *o)
{
	static char buf[MAX_MSG];
	struct ivshm_chan *ch = NULL;
	struct ivshm_peer p;
	uint64_t n;
	int err;

	if (app_publish(dev, o->role, o->chan.vector, 0) || find(dev, o->peer, o->timeout_ms, &p))
		return EXIT_FAIL;
	err = ivshm_chan_open(dev, p.id, o->port, &o->chan, o->timeout_ms, &ch);
	if (err) {
		app_err(err, "open to peer %u port %u", p.id, o->port);
		result("send", NULL, err);
		return EXIT_FAIL;
	}
	memset(buf, 0x5a, sizeof(buf));
	for (n = 0; n < o->count && !err; n++) {
		err = put_msg(ch, o, buf, n);
		if (!err && o->echo)
			err = get_msg(ch, o, buf, n);
		if (o->delay_ms && n + 1 < o->count)
			pause_ms(o, o->delay_ms);
	}
	result("send", ch, err);
	ivshm_chan_close(ch);
	return err ? EXIT_FAIL : 0;
}

/*
 * Every other peer in @o->peer, each pair once: the lower role opens, the
 * higher accepts; then each side sends @o->count messages and checks what
 * comes back, alternating so neither ring fills.
 */
static int cmd_mesh(struct ivshm_dev *dev, const struct opts *o)
{
	static char buf[MAX_MSG];
	char list[256], *save = NULL, *role;
	struct ivshm_chan *ch[MAX_PEERS] = { 0 };
	struct ivshm_peer p;
	int n = 0, i, err = 0, bad = 0;
	uint64_t k;

	if (app_publish(dev, o->role, o->chan.vector, 0))
		return EXIT_FAIL;
	if (strlen(o->peer) >= sizeof(list))
		return EXIT_USAGE;
	strcpy(list, o->peer);
	for (role = strtok_r(list, ",", &save); role && n < MAX_PEERS;
	     role = strtok_r(NULL, ",", &save)) {
		if (strcmp(role, o->role) == 0)
			continue;
		if (strcmp(o->role, role) < 0) {
			err = find(dev, role, o->timeout_ms, &p);
			if (!err)
				err = ivshm_chan_open(dev, p.id, o->port, &o->chan, o->timeout_ms, &ch[n]);
		} else {
			err = ivshm_chan_accept(dev, o->port, &o->chan, o->timeout_ms, &ch[n]);
		}
		if (err) {
			app_err(err, "channel with %s", role);
			bad = 1;
			continue;
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		for (k = 0, err = 0; k < o->count && !err; k++) {
			err = put_msg(ch[i], o, buf, k);
			if (!err)
				err = get_msg(ch[i], o, buf, k);
		}
		result("mesh", ch[i], err);
		bad |= err != 0;
	}
	for (i = 0; i < n; i++)
		ivshm_chan_close(ch[i]);
	return bad ? EXIT_FAIL : 0;
}

static int parse_wait(const char *s, enum ivshm_wait_mode *m)
{
	if (strcmp(s, "interrupt") == 0)
		*m = IVSHM_WAIT_INTERRUPT;
	else if (strcmp(s, "poll") == 0)
		*m = IVSHM_WAIT_POLL;
	else if (strcmp(s, "hybrid") == 0)
		*m = IVSHM_WAIT_HYBRID;
	else
		return -1;
	return 0;
}

static int cmd_peers(struct ivshm_dev *dev, const struct opts *o)
{
	(void)o;
	return app_list_peers(dev) ? EXIT_FAIL : 0;
}

/* What a command needs from the command line. */
enum {
	NEEDS_ROLE = 1 << 0,		/* --role: it publishes this peer */
	NEEDS_PEERS = 1 << 1,		/* --peer and --count */
	TAKES_EVENT_LOOP = 1 << 2,	/* --event-loop applies */
};

static const struct command {
	const char *name;
	int (*run)(struct ivshm_dev *dev, const struct opts *o);
	unsigned int needs;
} commands[] = {
	{ "serve", cmd_serve, NEEDS_ROLE | TAKES_EVENT_LOOP },
	{ "send", cmd_send, NEEDS_ROLE | NEEDS_PEERS },
	{ "mesh", cmd_mesh, NEEDS_ROLE | NEEDS_PEERS },
	{ "peers", cmd_peers, 0 },
};

static const struct command *find_command(const char *name)
{
	return app_lookup(commands, sizeof(commands) / sizeof(commands[0]), sizeof(commands[0]),
			  name);
}

int main(int argc, char **argv)
{
	enum { OPT_STREAM = 256, OPT_RING, OPT_WAIT, OPT_DELAY, OPT_LOOP };
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "host", required_argument, NULL, 'H' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "unsealed", no_argument, NULL, 'U' },
		{ "role", required_argument, NULL, 'r' },
		{ "peer", required_argument, NULL, 'P' },
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "echo", no_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ "stream", no_argument, NULL, OPT_STREAM },
		{ "ring", required_argument, NULL, OPT_RING },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "delay-ms", required_argument, NULL, OPT_DELAY },
		{ "event-loop", no_argument, NULL, OPT_LOOP },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.vectors = 4, .port = 1, .size = 64, .timeout_ms = 10000,
		.chan = { .type = IVSHM_CHAN_PACKET },
	};
	struct ivshm_dev *dev;
	const struct command *cmd;
	uint64_t v;
	int c, ret;

	ivshm_msg_init("ivshm-chan");
	app_log_init();
	while ((c = getopt_long(argc, argv, "d:H:n:r:P:p:c:s:et:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.device = optarg; break;
		case 'H': o.host = optarg; break;
		case 'r': o.role = optarg; break;
		case 'P': o.peer = optarg; break;
		case 'e': o.echo = 1; break;
		case OPT_STREAM: o.stream = 1; o.chan.type = IVSHM_CHAN_STREAM; break;
		case OPT_LOOP: o.event_loop = 1; break;
		case 'n':
			if (app_parse_opt("--vectors", optarg, IVSHM_MAX_VECTORS, &v))
				return EXIT_USAGE;
			o.vectors = (unsigned int)v;
			break;
		case 'U':
			o.open_flags = IVSHM_OPEN_UNSEALED;
			break;
		case 'p':
			if (app_parse_opt("--port", optarg, UINT32_MAX, &v))
				return EXIT_USAGE;
			o.port = (uint32_t)v;
			break;
		case 'c':
			if (app_parse_opt("--count", optarg, UINT32_MAX, &o.count))
				return EXIT_USAGE;
			break;
		case 's':
			if (app_parse_opt("--size", optarg, MAX_MSG, &o.size) || o.size < 8)
				return EXIT_USAGE;
			break;
		case 't':
			if (app_parse_opt("--timeout", optarg, INT32_MAX, &v))
				return EXIT_USAGE;
			o.timeout_ms = (int)v;
			break;
		case OPT_RING:
			if (app_parse_opt("--ring", optarg, 1u << 30, &v))
				return EXIT_USAGE;
			o.chan.ring_size = (uint32_t)v;
			break;
		case OPT_WAIT:
			if (parse_wait(optarg, &o.chan.wait)) {
				ivshm_msg_err("--wait: interrupt, poll or hybrid, not %s", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_DELAY:
			if (app_parse_opt("--delay-ms", optarg, 10000, &o.delay_ms))
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		ivshm_msg_err("unknown command '%s'", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((cmd->needs & NEEDS_ROLE) && !o.role) {
		ivshm_msg_err("%s needs --role", cmd->name);
		return EXIT_USAGE;
	}
	if ((cmd->needs & NEEDS_PEERS) && (!o.peer || !o.count)) {
		ivshm_msg_err("%s needs --peer and --count", cmd->name);
		return EXIT_USAGE;
	}
	if (o.event_loop && (o.stream || !(cmd->needs & TAKES_EVENT_LOOP))) {
		ivshm_msg_err("--event-loop is for serving packets");
		return EXIT_USAGE;
	}
	if (app_open_any(o.device, o.host, o.vectors, o.open_flags, &dev))
		return EXIT_FAIL;
	o.dev = dev;
	ret = cmd->run(dev, &o);
	ivshm_close(dev);
	return ret;
}
