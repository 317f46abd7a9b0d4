// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-pingpong: round-trip latency between two guests, over ivshmem
 * doorbells (the pong side publishes its peer ID in the shared memory header)
 * or over TCP for a virtio-net baseline; --check turns the doorbell run into
 * a "no event lost" test.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "pingpong.h"
#include "stats.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ivshm-pingpong pong [-d DEVICE] [-t TIMEOUT_MS] [-V VECTOR] [--check]\n"
		"       ivshm-pingpong ping [-d DEVICE] [-n ROUNDS] [-t TIMEOUT_MS] [-V VECTOR] [--check]\n"
		"       ivshm-pingpong pong --tcp-listen PORT [-t TIMEOUT_MS]\n"
		"       ivshm-pingpong ping --tcp-connect IP:PORT [-n ROUNDS] [-t TIMEOUT_MS]\n"
		"  -n, --rounds   round trips (default 1000)\n"
		"  -t, --timeout  per wait, ms (default 10000); pong's first wait includes ping's start\n"
		"  -V, --vector   vector this side is rung on (default 0)\n"
		"      --check    exit 1 unless each side got exactly one interrupt per doorbell\n"
		"Output lines:\n"
		"  ping: pingpong transport=doorbell|tcp rounds=N min_us=A p50_us=B p99_us=C max_us=D\n"
		"  both: pingpong role=ping|pong sent=N received=N counter_delta=N coalesced=N"
		" unexpected=N out_of_order=N\n"
		"        (doorbell only; counter_delta is the driver's count on our vector)\n"
		"  --check: pingpong check=ok, or pingpong check=failed on stderr\n"
		"Exit status: 0 success, 1 error, timeout or failed check, 2 usage.\n");
}

int pp_print_latency(const char *transport, int64_t *rtt_us, uint32_t n)
{
	struct latency_stats s;

	if (stats_summarize(rtt_us, n, &s))
		return -1;
	printf("pingpong transport=%s rounds=%u min_us=%lld p50_us=%lld p99_us=%lld max_us=%lld\n",
	       transport, n, (long long)s.min, (long long)s.p50, (long long)s.p99,
	       (long long)s.max);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_LISTEN, OPT_CONNECT };
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "vector", required_argument, NULL, 'V' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "tcp-listen", required_argument, NULL, OPT_LISTEN },
		{ "tcp-connect", required_argument, NULL, OPT_CONNECT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pp_opts o = { .rounds = 1000, .timeout_ms = 10000 };
	const char *role;
	int c, listen = 0, connect = 0, rounds_set = 0;
	uint64_t val;

	ivshm_msg_init("ivshm-pingpong");
	app_log_init();
	while ((c = getopt_long(argc, argv, "d:n:t:V:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.device = optarg;
			break;
		case 'n':
			if (app_parse_opt("--rounds", optarg, PP_MAX_ROUNDS, &val) || val == 0)
				return EXIT_USAGE;
			o.rounds = (uint32_t)val;
			rounds_set = 1;
			break;
		case 't':
			if (app_parse_opt("--timeout", optarg, INT32_MAX, &val))
				return EXIT_USAGE;
			o.timeout_ms = (int)val;
			break;
		case 'V':
			if (app_parse_opt("--vector", optarg, IVSHM_MAX_VECTORS - 1, &val))
				return EXIT_USAGE;
			o.vector = (unsigned int)val;
			break;
		case OPT_CHECK:
			o.check = 1;
			break;
		case OPT_LISTEN:
			o.tcp = optarg;
			listen = 1;
			break;
		case OPT_CONNECT:
			o.tcp = optarg;
			connect = 1;
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
	if (o.check && o.tcp) {
		ivshm_msg_err("--check applies to doorbells only");
		return EXIT_USAGE;
	}
	role = argv[optind];
	if (strcmp(role, "ping") == 0 && !listen)
		return connect ? pp_tcp_ping(&o) : pp_doorbell_ping(&o);
	if (strcmp(role, "pong") == 0 && !connect && !rounds_set)
		return listen ? pp_tcp_pong(&o) : pp_doorbell_pong(&o);
	usage(stderr);
	return EXIT_USAGE;
}
