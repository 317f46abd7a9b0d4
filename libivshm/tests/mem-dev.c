// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "barrier.h"
#include "clock.h"
#include "mem-dev.h"
#include "seqlock.h"

#define MAX_DEVS 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rang = PTHREAD_COND_INITIALIZER;
static struct ivshm_dev *devs[MAX_DEVS];
static uint64_t counts[MAX_DEVS][UIO_IVSHMEM_MAX_VECTORS];
static int pending[MAX_DEVS];
static uint64_t rung_to[65536], woken[65536];

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
		if (devs[i] && devs[i]->peer_id == (int)peer && vector < devs[i]->nr_vectors) {
			counts[i][vector]++;
			pending[i] = 1;
		}
	pthread_cond_broadcast(&rang);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int mem_counts(struct ivshm_dev *dev, uint64_t *now)
{
	int i;

	pthread_mutex_lock(&lock);
	i = slot_of(dev);
	if (i >= 0) {
		memcpy(now, counts[i], dev->nr_vectors * sizeof(now[0]));
		pending[i] = 0;
	}
	pthread_mutex_unlock(&lock);
	return i < 0 ? -ENODEV : 0;
}

/* Until a doorbell not yet counted, or the whole timeout: what poll() on a device does. */
static int mem_block(struct ivshm_dev *dev, int timeout_ms)
{
	struct timespec until;
	int i, err = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lock);
	i = slot_of(dev);
	while (i >= 0 && !pending[i] && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&rang, &lock, &until);
	if (i >= 0 && pending[i])
		woken[dev->peer_id]++;
	pthread_mutex_unlock(&lock);
	return i < 0 ? -ENODEV : 0;
}

static void mem_release(struct ivshm_dev *dev)
{
	int i;

	pthread_mutex_lock(&lock);
	i = slot_of(dev);
	if (i >= 0)
		devs[i] = NULL;
	pthread_mutex_unlock(&lock);
	mem_server_set(dev->peer_id, false);
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
		pending[i] = 0;
	}
	pthread_mutex_unlock(&lock);
	if (i == MAX_DEVS) {
		free(dev);
		return NULL;
	}
	snprintf(dev->path, sizeof(dev->path), "mem:%d", id);
	mem_server_set(id, true);
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

uint64_t mem_dev_woken(int id)
{
	uint64_t n;

	pthread_mutex_lock(&lock);
	n = woken[id];
	pthread_mutex_unlock(&lock);
	return n;
}

/* The server: a thread that ticks a page in the memory, as ivshmd does. */
static struct {
	pthread_t thread;
	int running, frozen;
	unsigned int tick_ms;
	struct ivshm_shm_server *page;
	uint32_t seq, tick, live[IVSHM_SHM_SERVER_IDS / 32];
} srv;
static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_page(uint32_t magic)
{
	struct ivshm_shm_server *sp = srv.page;
	unsigned int i;

	ivshm_seq_write_begin(&sp->seq, &srv.seq);
	ivshm_store_relaxed(&sp->magic, magic);
	ivshm_store_relaxed(&sp->nr_ids, (uint32_t)IVSHM_SHM_SERVER_IDS);
	for (i = 0; i < IVSHM_SHM_SERVER_IDS / 32; i++)
		ivshm_store_relaxed(&sp->live[i], srv.live[i]);
	ivshm_seq_write_end(&sp->seq, &srv.seq);
	ivshm_store_relaxed(&sp->tick_ms, magic ? srv.tick_ms : 0u);
}

/* The tick follows the clock, not the turns of this thread: a loaded machine delays turns. */
static void *ticker(void *arg)
{
	int64_t start = ivshm_clock_ms(), frozen_ms = 0, since = 0;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&srv_lock);
		if (!srv.running) {
			pthread_mutex_unlock(&srv_lock);
			return NULL;
		}
		if (srv.frozen) {
			if (!since)
				since = ivshm_clock_ms();
		} else {
			if (since)
				frozen_ms += ivshm_clock_ms() - since;
			since = 0;
			srv.tick = 1 + (uint32_t)((ivshm_clock_ms() - start - frozen_ms) / srv.tick_ms);
			ivshm_store_release(&srv.page->tick, srv.tick);
		}
		pthread_mutex_unlock(&srv_lock);
		ivshm_clock_sleep_ms(srv.tick_ms);
	}
}

int mem_server_start(void *mem, unsigned int tick_ms)
{
	int i;

	pthread_mutex_lock(&srv_lock);
	srv.page = (struct ivshm_shm_server *)((char *)mem + IVSHM_SHM_SERVER_OFF);
	srv.tick_ms = tick_ms;
	srv.tick = 1;
	srv.seq = 0;
	srv.frozen = 0;
	memset(srv.live, 0, sizeof(srv.live));
	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_DEVS; i++)
		if (devs[i] && devs[i]->peer_id >= 0 && devs[i]->peer_id < (int)IVSHM_SHM_SERVER_IDS)
			srv.live[devs[i]->peer_id / 32] |= 1u << (devs[i]->peer_id % 32);
	pthread_mutex_unlock(&lock);
	ivshm_store_release(&srv.page->tick, srv.tick);
	write_page(IVSHM_SHM_SERVER_MAGIC);
	srv.running = 1;
	pthread_mutex_unlock(&srv_lock);
	return pthread_create(&srv.thread, NULL, ticker, NULL) ? -1 : 0;
}

void mem_server_stop(void)
{
	pthread_mutex_lock(&srv_lock);
	if (!srv.running) {
		pthread_mutex_unlock(&srv_lock);
		return;
	}
	srv.running = 0;
	memset(srv.live, 0, sizeof(srv.live));
	write_page(0);
	pthread_mutex_unlock(&srv_lock);
	pthread_join(srv.thread, NULL);
}

void mem_server_set(int id, bool live)
{
	pthread_mutex_lock(&srv_lock);
	if (srv.running && id >= 0 && id < (int)IVSHM_SHM_SERVER_IDS) {
		if (live)
			srv.live[id / 32] |= 1u << (id % 32);
		else
			srv.live[id / 32] &= ~(1u << (id % 32));
		write_page(IVSHM_SHM_SERVER_MAGIC);
	}
	pthread_mutex_unlock(&srv_lock);
}

void mem_server_freeze(bool frozen)
{
	pthread_mutex_lock(&srv_lock);
	srv.frozen = frozen;
	pthread_mutex_unlock(&srv_lock);
}
