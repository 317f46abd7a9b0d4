// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-proxy: unmodified socket programs talk across VMs (and host peers)
 * through ivshm shared memory. Each proxy exports local services under a
 * name and imports other proxies' services as local listening sockets; all
 * connections between two proxies share one libivshm channel.
 *
 *   ivshm-proxy [run] [-c FILE] [--KEY VALUE]...    the daemon, in the foreground
 *   ivshm-proxy check [-c FILE] [--KEY VALUE]...    check the configuration, print it
 *   ivshm-proxy status [--control PATH | --name NAME | -c FILE]
 *
 * This file parses the command line and sets the daemon up; the work is in
 * loop.c, link*.c and conn.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control.h"
#include "device.h"
#include "import.h"
#include "loop.h"
#include "notify.h"
#include "proxy.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2
/* Setting values given on the command line, applied after the file. */
#define MAX_SETTINGS 256

struct cmdline {
	const char *config;		/* -c, or NULL */
	int verbose;
	unsigned int n;
	const char *key[MAX_SETTINGS], *value[MAX_SETTINGS];
};

static void usage(FILE *f)
{
	fputs("usage: ivshm-proxy [run|check|status] [-c FILE] [-v] [--KEY VALUE]...\n"
	      "  run      the proxy, in the foreground (the default)\n"
	      "  check    read the configuration, print it as the proxy sees it, exit\n"
	      "  status   ask a running proxy for its services, links and connections\n"
	      "  -c, --config FILE  settings, one 'KEY VALUE...' a line (default "
	      CONFIG_DEFAULT_FILE ",\n"
	      "                     read only when no setting is given on the command line)\n"
	      "  -v, --verbose      log links and refusals (-vv: every connection)\n"
	      "  --KEY VALUE        any setting of the file, e.g.\n"
	      "      --name vm1                 publish as proxy-vm1 (required)\n"
	      "      --device DEV | --server SOCKET [--vectors N]   guest device or host peer\n"
	      "      --export 'web tcp:127.0.0.1:80 allow proxy-vm2,proxy-host'\n"
	      "      --import 'web@proxy-vm1 tcp:127.0.0.1:8080'\n"
	      "      --wait interrupt|hybrid|poll  --spin-us N  --vector N  --control PATH\n"
	      "      --conn-buffer SIZE  --max-conns N  --ring SIZE  --connect-timeout MS\n"
	      "  addresses: tcp:IPV4:PORT tcp:[IPV6]:PORT unix:PATH seqpacket:PATH (@NAME: abstract)\n",
	      f);
}

static int parse(int argc, char **argv, struct cmdline *cl)
{
	struct option opts[32] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
	};
	unsigned int nfixed = 3, i;
	int c, idx;

	for (i = 0; config_keys[i]; i++)
		opts[nfixed + i] = (struct option){ config_keys[i], required_argument, NULL, 1000 + (int)i };
	while ((c = getopt_long(argc, argv, "c:vh", opts, &idx)) != -1) {
		switch (c) {
		case 'c':
			cl->config = optarg;
			break;
		case 'v':
			cl->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			if (c < 1000) {
				usage(stderr);
				return -EINVAL;
			}
			if (cl->n == MAX_SETTINGS) {
				fprintf(stderr, "ivshm-proxy: more than %d settings\n", MAX_SETTINGS);
				return -EINVAL;
			}
			cl->key[cl->n] = config_keys[c - 1000];
			cl->value[cl->n++] = optarg;
		}
	}
	return 0;
}

/* The file (as the rules of -c say), then the command line's settings. */
static int load(const struct cmdline *cl, struct proxy_config *cfg, int finish)
{
	const char *file = cl->config;
	char err[512];
	unsigned int i;
	int rc;

	if (!file && !cl->n)
		file = CONFIG_DEFAULT_FILE;
	rc = file ? config_load(cfg, file, err, sizeof(err)) : 0;
	for (i = 0; !rc && i < cl->n; i++) {
		rc = config_set(cfg, cl->key[i], cl->value[i], err, sizeof(err));
		if (rc == -ENOMEM)
			snprintf(err, sizeof(err), "out of memory");
	}
	if (!rc && finish)
		rc = config_finish(cfg, err, sizeof(err));
	if (rc)
		fprintf(stderr, "ivshm-proxy: %s\n", err);
	return rc;
}

static void lib_log(void *data, int priority, const char *msg)
{
	(void)data;
	proxy_log(priority, "libivshm: %s", msg);
}

/* Connections need two descriptors each: take what the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int watch_signals(struct proxy *px)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &px->sig_w };
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	px->sig_w.kind = W_SIGNAL;
	px->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (px->sig_fd < 0 || epoll_ctl(px->ep, EPOLL_CTL_ADD, px->sig_fd, &ev) < 0)
		return -errno;
	return 0;
}

static int run(struct proxy_config *cfg)
{
	struct proxy px = { .cfg = cfg, .sig_fd = -1 };
	int err;

	list_init(&px.links);
	list_init(&px.connecting);
	list_init(&px.graveyard);
	px.rl_denied = (struct ivshm_ratelimit){ .burst = 5, .period_ms = 10000 };
	px.rl_refused = (struct ivshm_ratelimit){ .burst = 5, .period_ms = 10000 };
	px.rl_bad = (struct ivshm_ratelimit){ .burst = 5, .period_ms = 10000 };
	ivshm_set_log_fn(lib_log, NULL);
	raise_nofile();
	px.exports = calloc(cfg->n_exports ? cfg->n_exports : 1, sizeof(*px.exports));
	px.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!px.exports || px.ep < 0) {
		err = -ENOMEM;
		goto out;
	}
	err = watch_signals(&px);
	if (!err)
		err = listeners_open(&px);
	if (!err)
		err = control_open(&px);
	if (!err)
		err = device_start(&px);
	if (err)
		goto out;
	err = proxy_loop(&px);
	(void)proxy_notify("STOPPING=1");
	if (err)
		proxy_log(LOG_ERR, "epoll: %s", strerror(-err));
out:
	if (px.dev)
		device_close(&px);
	listeners_close(&px);
	control_close(&px);
	/* Connections freed by the last closes. */
	while (!list_empty(&px.graveyard)) {
		struct list *n = px.graveyard.next;

		list_del(n);
		free(list_entry(n, struct conn, timer_node));
	}
	if (px.sig_fd >= 0)
		close(px.sig_fd);
	if (px.ep >= 0)
		close(px.ep);
	free(px.exports);
	return err ? EXIT_FAIL : 0;
}

static int status(struct proxy_config *cfg)
{
	char path[sizeof(cfg->control)];
	int err;

	if (!cfg->control[0] && !cfg->name[0]) {
		fprintf(stderr, "ivshm-proxy: status: which proxy? --control PATH, --name NAME or -c FILE\n");
		return EXIT_USAGE;
	}
	if (cfg->control[0])
		snprintf(path, sizeof(path), "%s", cfg->control);
	else
		snprintf(path, sizeof(path), CONFIG_CONTROL_DIR "/%s.ctl", cfg->name);
	err = control_query(path, "status", stdout, 5000);
	if (err) {
		fprintf(stderr, "ivshm-proxy: status: %s: %s\n", path, strerror(-err));
		return EXIT_FAIL;
	}
	return 0;
}

static int check(struct proxy_config *cfg)
{
	config_print(cfg, stdout);
	return 0;
}

static const struct command {
	const char *name;
	int complete;		/* needs the whole configuration (config_finish()) */
	int (*fn)(struct proxy_config *cfg);
} commands[] = {
	{ "run", 1, run },
	{ "check", 1, check },
	{ "status", 0, status },
};

int main(int argc, char **argv)
{
	struct proxy_config cfg;
	struct cmdline cl = { 0 };
	const char *cmd = "run";
	unsigned int i;
	int rc;

	config_init(&cfg);
	if (parse(argc, argv, &cl))
		return EXIT_USAGE;
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "ivshm-proxy: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	proxy_log_setup(cl.verbose);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "ivshm-proxy: unknown command '%s'\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* A configuration it refuses is a usage error: systemd does not restart for it. */
	rc = load(&cl, &cfg, commands[i].complete) ? EXIT_USAGE : commands[i].fn(&cfg);
	config_free(&cfg);
	return rc;
}
