/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Latency summaries for the benchmark: min, p50, p99, max. */
#ifndef IVSHM_STATS_H
#define IVSHM_STATS_H

#include <stddef.h>
#include <stdint.h>

struct latency_stats {
	int64_t min, p50, p99, max;
};

/*
 * stats_summarize - sort @samples (@n > 0) in place and fill @out using the
 * nearest-rank percentile (the smallest sample with at least p% at or below it).
 * Returns: 0, or -EINVAL when @n is 0.
 */
int stats_summarize(int64_t *samples, size_t n, struct latency_stats *out);

#endif /* IVSHM_STATS_H */
