/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Latency summaries for the benchmarks: min, p50, p99, p99.9, max. */
#ifndef IVSHM_STATS_H
#define IVSHM_STATS_H

#include <stddef.h>
#include <stdint.h>

/* In the unit of the samples (the pingpong counts µs, ivshm-bench ns). */
struct latency_stats {
	int64_t min, p50, p99, p999, max;
};

/*
 * stats_summarize - sort @samples (@n > 0) in place and fill @out using the
 * nearest-rank percentile (the smallest sample with at least p% at or below it).
 * Returns: 0, or -EINVAL when @n is 0.
 */
int stats_summarize(int64_t *samples, size_t n, struct latency_stats *out);

#endif /* IVSHM_STATS_H */
