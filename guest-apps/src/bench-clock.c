// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshm-bench's clock. A TCG guest whose TSC Linux does not trust reads
 * CLOCK_MONOTONIC from the emulated HPET, a system call and an MMIO exit per
 * read: microseconds, as much as the round trips measured. The TSC itself is
 * one instruction and, under TCG, the host's, so it is read instead and
 * scaled once against CLOCK_MONOTONIC.
 */
#include <errno.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include "bench.h"

static double ns_per_tick = 1.0;

uint64_t bench_ticks(void)
{
#ifdef HAVE_TSC
	return __rdtsc();
#else
	return (uint64_t)ivshm_clock_ns();
#endif
}

int bench_clock_init(void)
{
#ifdef HAVE_TSC
	int64_t n0, n1;
	uint64_t t0, t1;

	n0 = ivshm_clock_ns();
	t0 = bench_ticks();
	ivshm_clock_sleep_ms(100);
	n1 = ivshm_clock_ns();
	t1 = bench_ticks();
	if (n1 <= n0 || t1 <= t0)
		return -EIO;
	ns_per_tick = (double)(n1 - n0) / (double)(t1 - t0);
#endif
	return 0;
}

int64_t bench_ticks_ns(int64_t ticks)
{
	return (int64_t)((double)ticks * ns_per_tick);
}

uint64_t bench_ns_ticks(int64_t ns)
{
	return (uint64_t)((double)ns / ns_per_tick);
}

int bench_summarize(int64_t *ticks, size_t n, struct latency_stats *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		ticks[i] = bench_ticks_ns(ticks[i]);
	return stats_summarize(ticks, n, out);
}

int bench_rtt_result(int64_t *ticks, uint64_t n, struct bench_result *r)
{
	uint64_t warm = n / 10;
	int err;

	r->count = n - warm;
	err = bench_summarize(ticks + warm, r->count, &r->lat);
	r->have_lat = !err;
	return err;
}
