// SPDX-License-Identifier: LGPL-2.1-or-later
/* Nearest-rank percentiles: no interpolation, so every value is a real sample. */
#include <errno.h>
#include <stdlib.h>

#include "stats.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Per mille, so p99.9 is a rank like the others. */
static int64_t rank(const int64_t *sorted, size_t n, unsigned int permille)
{
	size_t k = ((size_t)permille * n + 999) / 1000;

	return sorted[k ? k - 1 : 0];
}

int stats_summarize(int64_t *samples, size_t n, struct latency_stats *out)
{
	if (!samples || !n || !out)
		return -EINVAL;
	qsort(samples, n, sizeof(*samples), cmp_i64);
	out->min = samples[0];
	out->p50 = rank(samples, n, 500);
	out->p99 = rank(samples, n, 990);
	out->p999 = rank(samples, n, 999);
	out->max = samples[n - 1];
	return 0;
}
