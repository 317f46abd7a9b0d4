// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-info: the guest-side twin of the host test peer. Shows the device and
 * what its region allows, rings a peer's vector, waits for this guest's
 * vectors, and reads or writes strings in the shared memory, with key=value
 * output for scripts and tests. With --host it does the same as a host peer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "parse.h"

#define MAX_IO 4096u

/* The wait command's options; -1 (0 for after): not given. */
struct wait_opts {
	int64_t timeout, vector, mark;
	uint64_t after;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ivshm-info [DEVICE] [info]\n"
		"       ivshm-info [DEVICE] limits\n"
		"       ivshm-info [DEVICE] ring PEER VECTOR\n"
		"       ivshm-info [DEVICE] wait -t TIMEOUT_MS [-V VECTOR [-a N]] [-m OFFSET]\n"
		"       ivshm-info [DEVICE] read OFFSET [LENGTH]\n"
		"       ivshm-info [DEVICE] write OFFSET STRING\n"
		"       ivshm-info [DEVICE] peers\n"
		"DEVICE: -d /dev/uioN|uioN|PCI (default: the first ivshmem device), or\n"
		"        --host SOCKET [-n VECTORS] [--unsealed] (a host peer of the doorbell server;\n"
		"        VECTORS default 4, 0: the server's; --unsealed: accept ivshmd -M memory)\n"
		"  -t, --timeout  wait: give up after this many ms (required)\n"
		"  -V, --vector   wait: keep waiting until this vector fires\n"
		"  -a, --after    wait: first let N interrupts arrive on VECTOR (counted, not\n"
		"                 taken), so the wait reports them at once: coalesced=N-1\n"
		"  -m, --mark     wait: once armed, write \"waiting peer=ID\" at OFFSET of the\n"
		"                 shared memory, so a script on the peer knows when to ring\n"
		"Output, one key=value item per line (info) or per event:\n"
		"  info   device=/dev/uioN  pci=ADDR  mode=doorbell|plain  peer_id=N|none\n"
		"         size=BYTES  vectors=N  counterV=COUNT (one line per vector)\n"
		"  limits size=BYTES  max_peers=N  arena_size=BYTES  max_ring=BYTES  max_msg=BYTES\n"
		"         default_ring=BYTES  default_max_msg=BYTES\n"
		"  ring   rang peer=P vector=V\n"
		"  wait   fired mask=0xMASK vectors=V[,V...] coalesced=N   (one line per wake-up)\n"
		"  read   data=STRING   (up to NUL or LENGTH, default 256; unprintable bytes as ?)\n"
		"  write  wrote offset=O bytes=N   (STRING and a NUL)\n"
		"  peers  peer id=N role=ROLE state=live|gone|dead vector=V generation=G\n"
		"         (the peer directory, one line per publication; \"peers none\" if empty)\n"
		"Exit status: 0 success, 1 error or timeout, 2 usage.\n");
}

static int cmd_info(struct ivshm_dev *dev, char **args, const struct wait_opts *w)
{
	unsigned int nr, id, v;
	enum ivshm_mode mode;
	const char *s;
	uint64_t count;
	size_t size;
	void *buf;

	(void)args;
	(void)w;
	if (ivshm_get_uio_path(dev, &s) || ivshm_get_mode(dev, &mode) ||
	    ivshm_get_vectors(dev, &nr) || ivshm_get_shared_buffer(dev, &buf, &size))
		return EXIT_FAIL;
	printf("device=%s\n", s);
	printf("pci=%s\n", ivshm_get_pci_address(dev, &s) ? "unknown" : s);
	printf("mode=%s\n", mode == IVSHM_MODE_DOORBELL ? "doorbell" : "plain");
	if (ivshm_get_peer_id(dev, &id))
		printf("peer_id=none\n");
	else
		printf("peer_id=%u\n", id);
	printf("size=%zu\n", size);
	printf("vectors=%u\n", nr);
	for (v = 0; v < nr; v++) {
		if (ivshm_get_counter(dev, v, &count))
			return EXIT_FAIL;
		printf("counter%u=%llu\n", v, (unsigned long long)count);
	}
	return 0;
}

/* What ivshm_get_limits() says about this region. */
static int cmd_limits(struct ivshm_dev *dev, char **args, const struct wait_opts *w)
{
	struct ivshm_limits lim;
	int err;

	(void)args;
	(void)w;
	err = ivshm_get_limits(dev, &lim);
	if (err) {
		app_err(err, "limits");
		return EXIT_FAIL;
	}
	printf("size=%llu\n", (unsigned long long)lim.size);
	printf("max_peers=%u\n", lim.max_peers);
	printf("arena_size=%llu\n", (unsigned long long)lim.arena_size);
	printf("max_ring=%u\n", lim.max_ring);
	printf("max_msg=%u\n", lim.max_msg);
	printf("default_ring=%u\n", lim.default_ring);
	printf("default_max_msg=%u\n", lim.default_max_msg);
	return 0;
}

static int cmd_ring(struct ivshm_dev *dev, char **args, const struct wait_opts *w)
{
	uint64_t peer, vector;
	int err;

	(void)w;
	if (app_parse_opt("PEER", args[0], IVSHM_MAX_PEER_ID, &peer) ||
	    app_parse_opt("VECTOR", args[1], IVSHM_MAX_VECTORS - 1, &vector))
		return EXIT_USAGE;
	err = ivshm_trigger(dev, (unsigned int)peer, (unsigned int)vector);
	if (err) {
		app_err(err, "ring");
		return EXIT_FAIL;
	}
	printf("rang peer=%llu vector=%llu\n", (unsigned long long)peer,
	       (unsigned long long)vector);
	return 0;
}

static void print_fired(uint64_t mask, uint64_t coalesced)
{
	const char *sep = "";
	unsigned int v;

	printf("fired mask=0x%llx vectors=", (unsigned long long)mask);
	for (v = 0; v < IVSHM_MAX_VECTORS; v++) {
		if (mask & (UINT64_C(1) << v)) {
			printf("%s%u", sep, v);
			sep = ",";
		}
	}
	printf(" coalesced=%llu\n", (unsigned long long)coalesced);
}

/* Write the NUL-terminated @s at @off, bounds-checked. */
static int put_string(struct ivshm_dev *dev, uint64_t off, const char *s)
{
	size_t size, n = strlen(s) + 1;
	void *buf;

	if (ivshm_get_shared_buffer(dev, &buf, &size))
		return -EINVAL;
	if (n > MAX_IO || off > size || n > size - off) {
		ivshm_msg_err("%zu bytes at offset %llu do not fit in %zu bytes of shared memory", n,
			(unsigned long long)off, size);
		return -ERANGE;
	}
	memcpy((char *)buf + off, s, n);
	return 0;
}

/*
 * Before the wait: until @n interrupts arrived on @vector since the open, read
 * from the counter page without consuming anything, so the wait then reports
 * them together (coalesced = n - 1).
 */
static int settle(struct ivshm_dev *dev, int vector, uint64_t start, uint64_t n,
		  int64_t deadline)
{
	uint64_t now;
	int err = 0;

	while (!err) {
		err = ivshm_get_counter(dev, (unsigned int)vector, &now);
		if (err || now - start >= n)
			break;
		if (ivshm_clock_ms() >= deadline) {
			ivshm_msg_err("only %llu of %llu interrupts on vector %d before the timeout",
				      (unsigned long long)(now - start), (unsigned long long)n, vector);
			return -ETIMEDOUT;
		}
		ivshm_clock_sleep_ms(5);
	}
	if (err)
		app_err(err, "wait");
	return err;
}

static int cmd_wait(struct ivshm_dev *dev, char **args, const struct wait_opts *w)
{
	int timeout_ms = (int)w->timeout, vector = (int)w->vector;
	int64_t deadline = ivshm_clock_ms() + timeout_ms, left, mark = w->mark;
	uint64_t after = w->after;
	uint64_t fired, coalesced;
	uint64_t start = 0;
	char text[32];
	unsigned int id;
	int err;

	(void)args;
	/* Counted from before the mark, which tells a peer to ring. */
	if (after && ivshm_get_counter(dev, (unsigned int)vector, &start)) {
		ivshm_msg_err("wait: no counter for vector %d", vector);
		return EXIT_FAIL;
	}
	if (mark >= 0) {
		err = ivshm_get_peer_id(dev, &id);
		if (err) {
			app_err(err, "wait");
			return EXIT_FAIL;
		}
		snprintf(text, sizeof(text), "waiting peer=%u", id);
		if (put_string(dev, (uint64_t)mark, text))
			return EXIT_FAIL;
	}
	if (after && settle(dev, vector, start, after, deadline))
		return EXIT_FAIL;
	for (;;) {
		left = deadline - ivshm_clock_ms();
		err = ivshm_wait(dev, left > 0 ? (int)left : 0, &fired, &coalesced);
		if (err == -ETIMEDOUT && vector >= 0) {
			ivshm_msg_err("timed out after %d ms waiting for vector %d", timeout_ms, vector);
			return EXIT_FAIL;
		}
		if (err) {
			app_err(err, "wait");
			return EXIT_FAIL;
		}
		print_fired(fired, coalesced);
		if (vector < 0 || (fired & (UINT64_C(1) << vector)))
			return 0;
	}
}

static int cmd_read(struct ivshm_dev *dev, char **args, const struct wait_opts *w)
{
	uint64_t off, len = 256, i;
	char out[MAX_IO + 1];
	const char *src;
	size_t size;
	void *buf;

	(void)w;
	if (app_parse_opt("OFFSET", args[0], UINT64_MAX, &off) ||
	    (args[1] && app_parse_opt("LENGTH", args[1], MAX_IO, &len)))
		return EXIT_USAGE;
	if (ivshm_get_shared_buffer(dev, &buf, &size))
		return EXIT_FAIL;
	if (off > size) {
		ivshm_msg_err("offset %llu is beyond %zu bytes of shared memory",
			(unsigned long long)off, size);
		return EXIT_FAIL;
	}
	if (len > size - off)
		len = size - off;
	src = (const char *)buf + off;
	/* One pass over the live buffer into a private copy; the peer may be writing. */
	memcpy(out, src, len);
	for (i = 0; i < len && out[i]; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			out[i] = '?';
	out[i] = '\0';
	printf("data=%s\n", out);
	return 0;
}

static int cmd_write(struct ivshm_dev *dev, char **args, const struct wait_opts *w)
{
	uint64_t off;

	(void)w;
	if (app_parse_opt("OFFSET", args[0], UINT64_MAX, &off))
		return EXIT_USAGE;
	if (put_string(dev, off, args[1]))
		return EXIT_FAIL;
	printf("wrote offset=%llu bytes=%zu\n", (unsigned long long)off, strlen(args[1]) + 1);
	return 0;
}

static int cmd_peers(struct ivshm_dev *dev, char **args, const struct wait_opts *w)
{
	(void)args;
	(void)w;
	return app_list_peers(dev) ? EXIT_FAIL : 0;
}

/* Each command with the arguments it takes (@min..@max) after its name. */
static const struct command {
	const char *name;
	int (*run)(struct ivshm_dev *dev, char **args, const struct wait_opts *w);
	int min, max;
} commands[] = {
	{ "info", cmd_info, 0, 0 },
	{ "limits", cmd_limits, 0, 0 },
	{ "ring", cmd_ring, 2, 2 },
	{ "wait", cmd_wait, 0, 0 },
	{ "read", cmd_read, 1, 2 },
	{ "write", cmd_write, 2, 2 },
	{ "peers", cmd_peers, 0, 0 },
};

static const struct command *find_command(const char *name)
{
	return app_lookup(commands, sizeof(commands) / sizeof(commands[0]), sizeof(commands[0]),
			  name);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "host", required_argument, NULL, 'H' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "unsealed", no_argument, NULL, 'U' },
		{ "timeout", required_argument, NULL, 't' },
		{ "vector", required_argument, NULL, 'V' },
		{ "mark", required_argument, NULL, 'm' },
		{ "after", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wait_opts w = { .timeout = -1, .vector = -1, .mark = -1 };
	const char *device = NULL, *host = NULL, *name = "info";
	const struct command *cmd;
	unsigned int vectors = 4, open_flags = 0;
	struct ivshm_dev *dev;
	uint64_t val;
	char **args;
	int c, n, ret;

	ivshm_msg_init("ivshm-info");
	app_log_init();
	while ((c = getopt_long(argc, argv, "d:H:n:t:V:m:a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'n':
			if (app_parse_opt("--vectors", optarg, IVSHM_MAX_VECTORS, &val))
				return EXIT_USAGE;
			vectors = (unsigned int)val;
			break;
		case 'U':
			open_flags = IVSHM_OPEN_UNSEALED;
			break;
		case 't':
			if (app_parse_opt("--timeout", optarg, INT32_MAX, &val))
				return EXIT_USAGE;
			w.timeout = (int64_t)val;
			break;
		case 'V':
			if (app_parse_opt("--vector", optarg, IVSHM_MAX_VECTORS - 1, &val))
				return EXIT_USAGE;
			w.vector = (int64_t)val;
			break;
		case 'a':
			if (app_parse_opt("--after", optarg, 1000000, &w.after))
				return EXIT_USAGE;
			break;
		case 'm':
			if (app_parse_opt("--mark", optarg, INT64_MAX, &val))
				return EXIT_USAGE;
			w.mark = (int64_t)val;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		name = argv[optind++];
	args = argv + optind;
	n = argc - optind;

	cmd = find_command(name);
	if (!cmd) {
		ivshm_msg_err("unknown command '%s'", name);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* -t is what makes a wait; the other wait options need it, and only wait takes them. */
	if (n < cmd->min || n > cmd->max ||
	    (cmd->run == cmd_wait ? (w.timeout < 0 || (w.after && w.vector < 0))
				  : (w.timeout >= 0 || w.vector >= 0 || w.mark >= 0 || w.after))) {
		usage(stderr);
		return EXIT_USAGE;
	}

	if (app_open_any(device, host, vectors, open_flags, &dev))
		return EXIT_FAIL;
	ret = cmd->run(dev, args, &w);
	ivshm_close(dev);
	return ret;
}
