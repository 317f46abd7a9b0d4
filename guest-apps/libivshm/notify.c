// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Doorbells out, interrupts in. The UIO event count says "something fired";
 * the driver's counter page says which vectors and how often.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>

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

int ivshm_trigger(struct ivshm_dev *dev, unsigned int peer, unsigned int vector)
{
	if (!dev)
		return -EINVAL;
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return -ENOTSUP;
	if (peer > IVSHM_MAX_PEER_ID || vector >= IVSHM_MAX_VECTORS)
		return -EINVAL;
	/*
	 * Release: the caller's stores to the shared buffer must be globally
	 * visible before the doorbell store, or the peer could take the
	 * interrupt and read stale data.
	 */
	atomic_thread_fence(memory_order_release);
	dev->regs[IVSHMEM_REG_DOORBELL / sizeof(uint32_t)] = (uint32_t)(peer << 16 | vector);
	return 0;
}

/*
 * Consume the UIO event (if any) without blocking and diff the counter page.
 * Returns 0 with *fired possibly 0, or -errno from read().
 */
static int consume(struct ivshm_dev *dev, uint64_t *fired, uint64_t *coalesced)
{
	uint64_t now[UIO_IVSHMEM_MAX_VECTORS];
	uint32_t events;
	unsigned int v;
	ssize_t n;

	n = read(dev->fd, &events, sizeof(events));
	/* EIO on a doorbell device: it was unbound under us. */
	if (n < 0 && errno == EIO)
		return -ENODEV;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	/*
	 * The driver bumps a counter before it signals the UIO event, so a
	 * counter load after the event read sees it; acquire also orders our
	 * later loads of the shared buffer after the peer's pre-doorbell stores.
	 */
	for (v = 0; v < dev->nr_vectors; v++)
		now[v] = __atomic_load_n(&dev->counts[v], __ATOMIC_ACQUIRE);
	atomic_thread_fence(memory_order_acquire);
	ivshm__counters_diff(dev->snapshot, now, dev->nr_vectors, fired, coalesced);
	return 0;
}

int ivshm_wait(struct ivshm_dev *dev, int timeout_ms, uint64_t *fired, uint64_t *coalesced)
{
	struct pollfd pfd;
	uint64_t f, c;
	int64_t start, now;
	int err, n, left, hb;

	if (!dev || timeout_ms < 0)
		return -EINVAL;
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return -ENOTSUP;
	start = ivshm_clock_ms();
	for (;;) {
		err = consume(dev, &f, &c);
		if (err)
			return err;
		/* A UIO event whose counter an earlier call already reported yields nothing. */
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
		pfd.fd = dev->fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return -ENODEV;
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
		return -EINVAL;
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return -ENOTSUP;
	*fd = dev->fd;
	return 0;
}

int ivshm_ack(struct ivshm_dev *dev, uint64_t *fired, uint64_t *coalesced)
{
	uint64_t f, c;
	int err;

	if (!dev)
		return -EINVAL;
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return -ENOTSUP;
	err = consume(dev, &f, &c);
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
