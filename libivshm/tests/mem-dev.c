// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem-dev.h"

#define MAX_DEVS 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ivshm_dev *devs[MAX_DEVS];
static uint64_t counts[MAX_DEVS][UIO_IVSHMEM_MAX_VECTORS];
static uint64_t rung_to[65536];

static int slot_of(const struct ivshm_dev *dev)
{
	int i;

	for (i = 0; i < MAX_DEVS; i++)
		if (devs[i] == dev)
			return i;
	return -1;
}

static int mem_ring(struct ivshm_dev *dev, unsigned int peer, unsigned int vector)
{
	int i;

	(void)dev;
	pthread_mutex_lock(&lock);
	rung_to[peer]++;
	/* Like the device: a doorbell to nobody, or to a vector it lacks, is dropped. */
	for (i = 0; i < MAX_DEVS; i++)
		if (devs[i] && devs[i]->peer_id == (int)peer && vector < devs[i]->nr_vectors)
			counts[i][vector]++;
	pthread_mutex_unlock(&lock);
	return 0;
}

static int mem_counts(struct ivshm_dev *dev, uint64_t *now)
{
	int i;

	pthread_mutex_lock(&lock);
	i = slot_of(dev);
	if (i >= 0)
		memcpy(now, counts[i], dev->nr_vectors * sizeof(now[0]));
	pthread_mutex_unlock(&lock);
	return i < 0 ? -ENODEV : 0;
}

static int mem_block(struct ivshm_dev *dev, int timeout_ms)
{
	(void)dev;
	ivshm_clock_sleep_ms(timeout_ms > 0 ? 1 : 0);
	return 0;
}

static void mem_release(struct ivshm_dev *dev)
{
	int i;

	pthread_mutex_lock(&lock);
	i = slot_of(dev);
	if (i >= 0)
		devs[i] = NULL;
	pthread_mutex_unlock(&lock);
}

static const struct ivshm_ops mem_ops = {
	.ring = mem_ring,
	.counts = mem_counts,
	.block = mem_block,
	.release = mem_release,
};

struct ivshm_dev *mem_dev_open(void *mem, size_t size, int id, unsigned int vectors)
{
	struct ivshm_dev *dev = ivshm__dev_new(&mem_ops, mem, size, id, vectors);
	int i;

	if (!dev)
		return NULL;
	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_DEVS && devs[i]; i++)
		;
	if (i < MAX_DEVS) {
		devs[i] = dev;
		memset(counts[i], 0, sizeof(counts[i]));
	}
	pthread_mutex_unlock(&lock);
	if (i == MAX_DEVS) {
		free(dev);
		return NULL;
	}
	snprintf(dev->path, sizeof(dev->path), "mem:%d", id);
	return dev;
}

uint64_t mem_dev_rung(int id)
{
	uint64_t n;

	pthread_mutex_lock(&lock);
	n = rung_to[id];
	pthread_mutex_unlock(&lock);
	return n;
}
