// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "number.h"
#include "opts.h"

/* QEMU's ivshmem-server reads -n like strtoull(, , 0): "010" is 8, "0x4" is 4. */
#define VECTORS_SPELLING (IVSHM_NUM_HEX | IVSHM_NUM_OCT)

enum {
	OPT_MODE = 256,
	OPT_MAX_PEERS,
	OPT_QUEUE_LIMIT,
	OPT_SEND_TIMEOUT,
	OPT_LIST,
	OPT_PEER_ALLOW,
	OPT_UID_QUOTA,
	OPT_SHM_REUSE,
	OPT_PUBLISH_PEERS,
	OPT_NO_PUBLISH_PEERS,
};

static const struct option long_opts[] = {
	{ "help",         no_argument,       NULL, 'h' },
	{ "verbose",      no_argument,       NULL, 'v' },
	{ "foreground",   no_argument,       NULL, 'F' },
	{ "pidfile",      required_argument, NULL, 'p' },
	{ "socket",       required_argument, NULL, 'S' },
	{ "shm-name",     required_argument, NULL, 'M' },
	{ "shm-dir",      required_argument, NULL, 'm' },
	{ "size",         required_argument, NULL, 'l' },
	{ "vectors",      required_argument, NULL, 'n' },
	{ "group",        required_argument, NULL, 'g' },
	{ "peer",         required_argument, NULL, 'P' },
	{ "mode",         required_argument, NULL, OPT_MODE },
	{ "max-peers",    required_argument, NULL, OPT_MAX_PEERS },
	{ "queue-limit",  required_argument, NULL, OPT_QUEUE_LIMIT },
	{ "send-timeout", required_argument, NULL, OPT_SEND_TIMEOUT },
	{ "list",         no_argument,       NULL, OPT_LIST },
	{ "peer-allow",   required_argument, NULL, OPT_PEER_ALLOW },
	{ "uid-quota",    required_argument, NULL, OPT_UID_QUOTA },
	{ "shm-reuse",    no_argument,       NULL, OPT_SHM_REUSE },
	{ "publish-peers", no_argument,      NULL, OPT_PUBLISH_PEERS },
	{ "no-publish-peers", no_argument,   NULL, OPT_NO_PUBLISH_PEERS },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ivshmd [OPTIONS]          serve shared memory and doorbells to QEMU ivshmem-doorbell\n"
"       ivshmd --list [-S PATH]   print the peers connected to a running ivshmd\n"
"\n"
"Options (the short ones are QEMU ivshmem-server's):\n"
"  -S, --socket PATH      UNIX socket QEMU connects to (default " IVSHM_DEFAULT_SOCKET ");\n"
"                         its directory and those above it must be root's or ours and\n"
"                         not writable by group or others (unless sticky)\n"
"  -l, --size SIZE        shared memory size from 4K to 512G, K, M, G, T suffixes or\n"
"                         0x and hex digits; rounded up to a power of two (default 64M,\n"
"                         not QEMU's 4M: room for libivshm's default channels)\n"
"  -n, --vectors N        interrupt vectors (eventfds) per peer, 0-%u (default %u);\n"
"                         QEMU's vectors=N must match; 0x hex and 0 octal as in QEMU;\n"
"                         0: memory only, no doorbells\n"
"  -M, --shm-name NAME    use the POSIX shared memory object NAME (/dev/shm/NAME)\n"
"                         instead of a sealed memfd; removed at exit if ivshmd created\n"
"                         it. UNSEALED: any peer can resize it and crash the others\n"
"      --shm-reuse        with -M, share an existing object of the right size (ours,\n"
"                         mode 0600 or less, one link); without it one is refused\n"
"  -m, --shm-dir DIR      a hugetlbfs DIR: a sealed memfd of its huge pages; any other\n"
"                         DIR: an unlinked file there, UNSEALED (as -M); SIZE must be a\n"
"                         multiple of DIR's page size\n"
"  -F, --foreground       do not daemonize (log to stderr; use under systemd)\n"
"  -p, --pidfile PATH     write the server's pid to PATH (locked, removed at exit)\n"
"  -v, --verbose          log joins and leaves; twice for debug messages\n"
"  -g, --group GROUP      group owning the sockets (name or number), e.g. kvm\n"
"      --mode MODE        socket permissions, octal, owner/group bits only (default 0660)\n"
"  -P, --peer NAME=ID     pin peer ID to the socket PATH.NAME: a VM connecting there\n"
"                         always gets ID; a second connection while it is connected\n"
"                         is refused. Repeatable (up to %u); other peers never get ID\n"
"      --peer-allow NAME=WHO[,WHO...]\n"
"                         only these may take pinned peer NAME: WHO is a user or\n"
"                         @group, name or number, matched against the connecting\n"
"                         process (SO_PEERCRED); ivshmd's own user always may\n"
"      --max-peers N      connected peers at most, pinned ones included (default %u)\n"
"      --uid-quota N      unpinned peers one user may hold (default: half the unpinned\n"
"                         slots); ivshmd's own user is not limited\n"
"      --queue-limit N    messages queued per peer before it is dropped (default\n"
"                         3 + 3 * vectors * max-peers, 3 + 2 * max-peers with -n 0)\n"
"      --send-timeout MS  drop a peer whose queue makes no progress this long (default\n"
"                         %u). A QEMU that is stopped (SIGSTOP, a debugger, heavy\n"
"                         swapping) while others come and go is dropped for good:\n"
"                         QEMU never reconnects. Warned at half the time; --list shows\n"
"                         STALL_MS\n"
"      --no-publish-peers leave the server page of the shared memory alone (offset\n"
"                         2048, contracts/ivshm-shm.h: the connected peer IDs, the\n"
"                         vector count and a tick, so libivshm sees a peer that died\n"
"                         at once); peers then rely on heartbeats\n"
"      --publish-peers    the default, accepted for older configurations\n"
"      --list             connect to PATH.ctl and print ID, PID, UID, GID, VECTORS,\n"
"                         QUEUED, STALL_MS and NAME of each connected peer\n"
"  -h, --help             this help\n"
"\n"
"Without -F, ivshmd daemonizes once its sockets listen, logs to syslog and\n"
"supervises the server: if it dies, it is restarted with the same memory,\n"
"listening sockets and connected peers (as systemd does with the unit's fd store).\n"
"SIGTERM or SIGINT: peers see EOF, sockets and pidfile are removed.\n"
"SIGUSR2: re-execute the binary in place (an upgrade), keeping memory, sockets and peers.\n",
		UIO_IVSHMEM_MAX_VECTORS, IVSHMD_DEFAULT_VECTORS, IVSHMD_MAX_PINS,
		IVSHMD_DEFAULT_MAX_PEERS, IVSHMD_DEFAULT_SEND_TIMEOUT_MS);
}

static int bad(const char *opt, const char *arg, const char *why)
{
	ivshm_msg_err("%s '%s': %s", opt, arg, why);
	return -EINVAL;
}

/*
 * QEMU's ivshmem-server rounds the size up to a power of two; so do we, with
 * a warning, within the sizes QEMU can map. It also takes hexadecimal.
 */
static int parse_size(const char *arg, uint64_t *size)
{
	uint64_t v, p2 = IVSHMD_SHM_MIN_SIZE;
	int err;

	if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X'))
		err = ivshm_num_parse(arg, IVSHM_NUM_HEX, 0, UINT64_MAX, &v);
	else
		err = ivshm_num_parse_size(arg, &v);
	if (err)
		return bad("--size", arg, "expected a number with an optional K, M, G or T suffix, "
			   "or 0x and hexadecimal digits");
	if (v < IVSHMD_SHM_MIN_SIZE || v > IVSHMD_SHM_MAX_SIZE)
		return bad("--size", arg, "must be from 4K to 512G");
	while (p2 < v)
		p2 <<= 1;
	if (p2 != v)
		ivshm_msg_warn("--size '%s' (%llu bytes) is not a power of two: rounded up to %llu, "
			       "as QEMU's ivshmem-server does", arg, (unsigned long long)v,
			       (unsigned long long)p2);
	*size = p2;
	return 0;
}

static int parse_pin(struct ivshmd_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct ivshmd_pin *pin;
	uint64_t id;
	size_t n;

	if (o->cfg.npins >= IVSHMD_MAX_PINS)
		return bad("--peer", arg, "too many pinned peers");
	if (!eq)
		return bad("--peer", arg, "expected NAME=ID");
	n = (size_t)(eq - arg);
	if (n == 0 || n > IVSHMD_PIN_NAME_MAX)
		return bad("--peer", arg, "NAME must have 1 to 32 characters");
	if (ivshm_num_parse(eq + 1, IVSHM_NUM_DEC, 0, IVSHMEM_MAX_PEER_ID, &id))
		return bad("--peer", arg, "ID must be 0 to 65535");
	pin = &o->pins[o->cfg.npins++];
	memcpy(pin->name, arg, n);
	pin->name[n] = '\0';
	pin->id = (unsigned)id;
	return 0;
}

/* A user (name or number) or @group (name or number). */
static int parse_who(const char *opt, const char *arg, const char *who, size_t len,
		     struct ivshmd_allow *a)
{
	char name[256];
	uint64_t v;

	if (len && who[0] == '@') {
		a->group = true;
		who++;
		len--;
	}
	if (!len || len >= sizeof(name))
		return bad(opt, arg, "expected USER or @GROUP, names or numbers, separated by commas");
	memcpy(name, who, len);
	name[len] = '\0';
	if (!ivshm_num_parse(name, IVSHM_NUM_DEC, 0, UINT32_MAX - 1, &v)) {
		a->id = (uint32_t)v;
		return 0;
	}
	errno = 0;
	if (a->group) {
		struct group *gr = getgrnam(name);

		if (gr) {
			a->id = gr->gr_gid;
			return 0;
		}
	} else {
		struct passwd *pw = getpwnam(name);

		if (pw) {
			a->id = pw->pw_uid;
			return 0;
		}
	}
	ivshm_msg_err("%s '%s': no such %s '%s'", opt, arg, a->group ? "group" : "user", name);
	return -EINVAL;
}

/* NAME=WHO[,WHO...] for a pin given with --peer. */
static int resolve_allow(struct ivshmd_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '='), *who;
	struct ivshmd_pin *pin = NULL;

	if (!eq || eq == arg)
		return bad("--peer-allow", arg, "expected NAME=USER,@GROUP,...");
	for (unsigned i = 0; i < o->cfg.npins; i++)
		if (strlen(o->pins[i].name) == (size_t)(eq - arg) &&
		    !strncmp(o->pins[i].name, arg, (size_t)(eq - arg)))
			pin = &o->pins[i];
	if (!pin)
		return bad("--peer-allow", arg, "no --peer of that name");
	for (who = eq + 1;; who++) {
		size_t len = strcspn(who, ",");
		int ret;

		if (pin->nallow >= IVSHMD_MAX_ALLOW)
			return bad("--peer-allow", arg, "more than 16 users and groups for one peer");
		ret = parse_who("--peer-allow", arg, who, len, &pin->allow[pin->nallow]);
		if (ret)
			return ret;
		pin->nallow++;
		who += len;
		if (!*who)
			return 0;
	}
}

static int parse_group(const char *arg, gid_t *gid)
{
	struct group *gr;
	uint64_t v;

	if (!ivshm_num_parse(arg, IVSHM_NUM_DEC, 0, (gid_t)-1 - 1, &v)) {
		*gid = (gid_t)v;
		return 0;
	}
	errno = 0;
	gr = getgrnam(arg);
	if (!gr)
		return bad("--group", arg, errno ? strerror(errno) : "no such group");
	*gid = gr->gr_gid;
	return 0;
}

static int parse_mode(const char *arg, mode_t *mode)
{
	unsigned long v;

	/* Octal with or without the leading 0, as chmod reads it; nothing else. */
	if (!arg[0] || arg[strspn(arg, "01234567")] || strlen(arg) > 4)
		return bad("--mode", arg, "expected an octal mode such as 0660");
	v = strtoul(arg, NULL, 8);
	if (v > 0777)
		return bad("--mode", arg, "expected an octal mode such as 0660");
	if (v & 0007)
		return bad("--mode", arg, "sockets are never accessible to others");
	*mode = (mode_t)v;
	return 0;
}

static int parse_one(struct ivshmd_opts *o, int c, const char *arg)
{
	struct ivshmd_config *cfg = &o->cfg;
	uint64_t v;

	switch (c) {
	case 'v':
		o->verbose++;
		return 0;
	case 'F':
		o->foreground = true;
		return 0;
	case 'p':
		o->pidfile = arg;
		return 0;
	case 'S':
		cfg->socket_path = arg;
		return 0;
	case 'M':
		if (cfg->shm_kind == IVSHMD_SHM_DIR)
			return bad("-M", arg, "-M and -m exclude each other");
		cfg->shm_kind = IVSHMD_SHM_POSIX;
		cfg->shm_where = arg;
		return 0;
	case 'm':
		if (cfg->shm_kind == IVSHMD_SHM_POSIX)
			return bad("-m", arg, "-M and -m exclude each other");
		cfg->shm_kind = IVSHMD_SHM_DIR;
		cfg->shm_where = arg;
		return 0;
	case 'l':
		return parse_size(arg, &cfg->shm_size);
	case 'n':
		if (ivshm_num_parse(arg, VECTORS_SPELLING, 0, UIO_IVSHMEM_MAX_VECTORS, &v))
			return bad("--vectors", arg, "must be 0 to 64");
		cfg->vectors = (unsigned)v;
		return 0;
	case 'g':
		return parse_group(arg, &cfg->sock_gid);
	case 'P':
		return parse_pin(o, arg);
	case OPT_MODE:
		return parse_mode(arg, &cfg->sock_mode);
	case OPT_MAX_PEERS:
		if (ivshm_num_parse(arg, IVSHM_NUM_DEC, 1, IVSHMD_MAX_PEERS, &v))
			return bad("--max-peers", arg, "must be 1 to 65536");
		cfg->max_peers = (unsigned)v;
		return 0;
	case OPT_QUEUE_LIMIT:
		if (ivshm_num_parse(arg, IVSHM_NUM_DEC, 1, SIZE_MAX / 2, &v))
			return bad("--queue-limit", arg, "expected a positive number");
		cfg->queue_limit = (size_t)v;
		return 0;
	case OPT_SEND_TIMEOUT:
		if (ivshm_num_parse(arg, IVSHM_NUM_DEC, 1, 3600 * 1000, &v))
			return bad("--send-timeout", arg, "must be 1 to 3600000 ms");
		cfg->send_timeout_ms = (unsigned)v;
		return 0;
	case OPT_LIST:
		o->list = true;
		return 0;
	case OPT_PEER_ALLOW:
		if (o->nallow >= IVSHMD_MAX_PINS)
			return bad("--peer-allow", arg, "too many allow-lists");
		o->allow[o->nallow++].arg = arg;
		return 0;
	case OPT_UID_QUOTA:
		if (ivshm_num_parse(arg, IVSHM_NUM_DEC, 1, IVSHMD_MAX_PEERS, &v))
			return bad("--uid-quota", arg, "must be 1 to 65536");
		cfg->uid_quota = (unsigned)v;
		return 0;
	case OPT_SHM_REUSE:
		cfg->shm_reuse = true;
		return 0;
	case OPT_PUBLISH_PEERS:
		cfg->publish_peers = true;
		return 0;
	case OPT_NO_PUBLISH_PEERS:
		cfg->publish_peers = false;
		return 0;
	}
	usage(stderr);
	return -EINVAL;
}

int ivshmd_opts_parse(struct ivshmd_opts *o, int argc, char **argv)
{
	int c;

	*o = (struct ivshmd_opts){
		.cfg = {
			.socket_path = IVSHM_DEFAULT_SOCKET,
			.shm_kind = IVSHMD_SHM_MEMFD,
			.shm_size = IVSHMD_DEFAULT_SIZE,
			.vectors = IVSHMD_DEFAULT_VECTORS,
			.max_peers = IVSHMD_DEFAULT_MAX_PEERS,
			.send_timeout_ms = IVSHMD_DEFAULT_SEND_TIMEOUT_MS,
			.sock_mode = IVSHMD_DEFAULT_MODE,
			.sock_gid = (gid_t)-1,
			.publish_peers = true,
		},
	};
	o->cfg.pins = o->pins;
	while ((c = getopt_long(argc, argv, "hvFp:S:M:m:l:n:g:P:", long_opts, NULL)) != -1) {
		int ret;

		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		ret = parse_one(o, c, optarg);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		ivshm_msg_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->nallow; i++) {
		int ret = resolve_allow(o, o->allow[i].arg);

		if (ret)
			return ret;
	}
	return 0;
}
