// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Doorbells out, interrupts in, whatever the backend. A backend says how
 * often each vector fired since the device appeared; the difference with
 * the last report says which vectors fired and how many events merged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "barrier.h"
#include "clock.h"
#include "internal.h"

void ivshm__counters_diff(uint64_t *snapshot, const uint64_t *now, unsigned int nr,
			  uint64_t *fired, uint64_t *coalesced)
{
	uint64_t mask = 0, extra = 0, delta;
	unsigned int v;

	for (v = 0; v < nr && v < IVSHM_MAX_VECTORS; v++) {
		/* Unsigned subtraction: a wrapped 64-bit counter still yields the delta. */
		delta = now[v] - snapshot[v];
		if (delta) {
			mask |= UINT64_C(1) << v;
			extra += delta - 1;
		}
		snapshot[v] = now[v];
	}
	*fired = mask;
	*coalesced = extra;
}

struct ivshm_dev *ivshm__dev_new(const struct ivshm_ops *ops, void *shm, size_t size,
				 int peer_id, unsigned int nr_vectors)
{
	struct ivshm_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->ops = ops;
	dev->fd = -1;
	dev->peer_id = peer_id;
	dev->nr_vectors = nr_vectors;
	dev->mode = nr_vectors ? IVSHM_MODE_DOORBELL : IVSHM_MODE_PLAIN;
	/* A backend that maps later sets the memory then: nothing to complain about yet. */
	if (shm)
		ivshm__dev_set_memory(dev, shm, size);
	else
		dev->region_err = -EMSGSIZE;
	return dev;
}

void ivshm__dev_set_memory(struct ivshm_dev *dev, void *shm, size_t size)
{
	dev->shm = shm;
	dev->shm_size = size;
	/* Memory too small for the directory still serves plain ivshm_* use. */
	dev->region_err = ivshm__region_init(&dev->region, shm, size, dev->peer_id);
	dev->region.dev = dev;
}

int ivshm__dev_link(struct ivshm_dev *dev)
{
	return dev->ops->link ? dev->ops->link(dev) : 0;
}

int ivshm__dev_baseline(struct ivshm_dev *dev)
{
	uint64_t now[UIO_IVSHMEM_MAX_VECTORS];
	int err;

	if (dev->mode != IVSHM_MODE_DOORBELL)
		return 0;
	err = dev->ops->counts(dev, now);
	if (!err)
		memcpy(dev->snapshot, now, dev->nr_vectors * sizeof(now[0]));
	return err;
}

void ivshm_close(struct ivshm_dev *dev)
{
	if (!dev)
		return;
	/* Peers see a clean exit at once instead of waiting for the heartbeat to stop. */
	if (!dev->region_err && dev->region.published)
		ivshm__unpublish(&dev->region);
	dev->ops->release(dev);
	free(dev);
}

int ivshm_trigger(struct ivshm_dev *dev, unsigned int peer, unsigned int vector)
{
	int err;

	if (!dev)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return ivshm__no_doorbell(dev, __func__);
	if (peer > IVSHM_MAX_PEER_ID || vector >= IVSHM_MAX_VECTORS)
		return ivshm__bad_arg(__func__, "a peer ID or vector out of range, or a NULL pointer");
	err = ivshm__dev_link(dev);
	if (err)
		return err;
	/*
	 * Release: the caller's stores to the shared buffer must be globally
	 * visible before the doorbell, or the peer could take the interrupt
	 * and read stale data.
	 */
	ivshm_fence_release();
	return dev->ops->ring(dev, peer, vector);
}

/* Pending interrupts since the last report, without blocking. */
int ivshm__consume(struct ivshm_dev *dev, uint64_t *fired, uint64_t *coalesced)
{
	uint64_t now[UIO_IVSHMEM_MAX_VECTORS];
	int err;

	err = dev->ops->counts(dev, now);
	if (err)
		return err;
	/* Acquire: our later loads of the shared memory see the peer's pre-doorbell stores. */
	ivshm_fence_acquire();
	ivshm__counters_diff(dev->snapshot, now, dev->nr_vectors, fired, coalesced);
	return 0;
}

int ivshm_wait(struct ivshm_dev *dev, int timeout_ms, uint64_t *fired, uint64_t *coalesced)
{
	int64_t start, now;
	uint64_t f, c;
	int err, left, hb;

	if (!dev || timeout_ms < 0)
		return ivshm__bad_arg(__func__, "a NULL pointer or a negative timeout");
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return ivshm__no_doorbell(dev, __func__);
	err = ivshm__dev_link(dev);
	if (err)
		return err;
	start = ivshm_clock_ms();
	for (;;) {
		err = ivshm__consume(dev, &f, &c);
		if (err)
			return err;
		/* A wake-up whose counts an earlier call already reported yields nothing. */
		if (f)
			break;
		now = ivshm_clock_ms();
		if (now - start >= timeout_ms)
			return -ETIMEDOUT;
		ivshm__heartbeat(&dev->region, 0);
		/* Wake for the heartbeat too, so a long wait does not look like death. */
		left = (int)(timeout_ms - (now - start));
		hb = ivshm__heartbeat_due_ms(&dev->region);
		if (hb >= 0 && hb < left)
			left = hb > 0 ? hb : 1;
		err = dev->ops->block(dev, left);
		if (err)
			return err;
	}
	if (fired)
		*fired = f;
	if (coalesced)
		*coalesced = c;
	return 0;
}

int ivshm_get_fd(const struct ivshm_dev *dev, int *fd)
{
	if (!dev || !fd)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (dev->mode != IVSHM_MODE_DOORBELL || dev->fd < 0)
		return ivshm__no_doorbell(dev, __func__);
	*fd = dev->fd;
	return 0;
}

int ivshm_ack(struct ivshm_dev *dev, uint64_t *fired, uint64_t *coalesced)
{
	uint64_t f, c;
	int err;

	if (!dev)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return ivshm__no_doorbell(dev, __func__);
	err = ivshm__dev_link(dev);
	if (err)
		return err;
	err = ivshm__consume(dev, &f, &c);
	if (err)
		return err;
	if (!f)
		return -EAGAIN;
	if (fired)
		*fired = f;
	if (coalesced)
		*coalesced = c;
	return 0;
}

int ivshm_get_counter(const struct ivshm_dev *dev, unsigned int vector, uint64_t *count)
{
	uint64_t now[UIO_IVSHMEM_MAX_VECTORS];
	int err;

	if (!dev || !count)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return ivshm__no_doorbell(dev, __func__);
	if (vector >= dev->nr_vectors)
		return ivshm__bad_arg(__func__, "a peer ID or vector out of range, or a NULL pointer");
	/* Counting may drain a backend's wake-ups; the snapshot, all the caller sees, stays. */
	err = dev->ops->counts((struct ivshm_dev *)dev, now);
	if (!err)
		*count = now[vector];
	return err;
}

int ivshm_next_timeout(struct ivshm_dev *dev, int *ms)
{
	const struct ivshm_region *r;
	int64_t left;
	unsigned int k;

	if (!dev || !ms)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	*ms = -1;
	if (dev->region_err)
		return 0;
	r = &dev->region;
	*ms = ivshm__heartbeat_due_ms(r);
	/* Listened ports are looked at again after a while even without a doorbell. */
	for (k = 0; k < IVSHM__MAX_LISTENS; k++)
		if (r->listens[k].used) {
			left = r->listen_next_ms - ivshm_clock_ms();
			left = left < 0 ? 0 : left;
			if (*ms < 0 || left < *ms)
				*ms = (int)left;
			break;
		}
	return 0;
}

int ivshm__no_doorbell(const struct ivshm_dev *dev, const char *func)
{
	ivshm__log(LOG_DEBUG, "%s: %s has no interrupts (ivshmem-plain)", func, dev->path);
	return -ENOTSUP;
}
