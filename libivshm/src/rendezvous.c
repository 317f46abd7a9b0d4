// SPDX-License-Identifier: LGPL-2.1-or-later
/* The public face of the peer directory (directory.c) on an open device. */
#include <errno.h>
#include <syslog.h>

#include "clock.h"
#include "internal.h"

/* How often ivshm_find_peer() looks again; a publication is not announced. */
#define FIND_POLL_MS 2

int ivshm__region_of(struct ivshm_dev *dev, struct ivshm_region **r)
{
	int err;

	if (!dev)
		return ivshm__bad_arg(__func__, "no handle");
	err = ivshm__dev_link(dev);
	if (err)
		return err;
	if (dev->region_err) {
		ivshm__log(LOG_DEBUG, "%s: %zu bytes of shared memory, the directory needs %u",
			   dev->path, dev->shm_size, IVSHM_SHM_MIN_SIZE);
		return dev->region_err;
	}
	*r = &dev->region;
	return 0;
}

int ivshm_publish(struct ivshm_dev *dev, const char *role, unsigned int vector, uint64_t user)
{
	struct ivshm_region *r;
	int err = ivshm__region_of(dev, &r);

	if (err)
		return err;
	if (dev->mode == IVSHM_MODE_DOORBELL && vector >= dev->nr_vectors) {
		ivshm__log(LOG_DEBUG, "%s: vector %u, the device has %u", dev->path, vector,
			   dev->nr_vectors);
		return -EINVAL;
	}
	return ivshm__publish(r, role, vector, user);
}

int ivshm_unpublish(struct ivshm_dev *dev)
{
	struct ivshm_region *r;
	int err = ivshm__region_of(dev, &r);

	return err ? err : ivshm__unpublish(r);
}

int ivshm_find_peer(struct ivshm_dev *dev, const char *role, int timeout_ms,
		    struct ivshm_peer *peer)
{
	struct ivshm_region *r;
	int64_t deadline;
	int err;

	if (!peer || timeout_ms < 0) {
		ivshm__log(LOG_DEBUG, "find_peer: %s", !peer ? "no peer to fill" : "a negative timeout");
		return -EINVAL;
	}
	err = ivshm__region_of(dev, &r);
	if (err)
		return err;
	if (!ivshm__role_ok(role))
		return -EINVAL;
	deadline = ivshm_clock_ms() + timeout_ms;
	for (;;) {
		err = ivshm__find_once(r, role, peer);
		if (err != -ENOENT && err != -EAGAIN)
			return err;
		if (ivshm_clock_ms() >= deadline) {
			if (err == -EAGAIN)
				ivshm__log(LOG_DEBUG, "role %s: a peer has it, but showed no sign of life "
					   "in %d ms", role, timeout_ms);
			else
				ivshm__log(LOG_DEBUG, "no live peer has role %s", role);
			return timeout_ms ? -ETIMEDOUT : -ENOENT;
		}
		err = ivshm__heartbeat(r, 0);
		if (err)
			return err;
		ivshm_clock_sleep_ms(FIND_POLL_MS);
	}
}

int ivshm_get_peer(struct ivshm_dev *dev, unsigned int id, struct ivshm_peer *peer)
{
	struct ivshm_region *r;
	int err;

	if (!peer)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	err = ivshm__region_of(dev, &r);
	return err ? err : ivshm__lookup(r, id, peer, NULL);
}

int ivshm_list_peers(struct ivshm_dev *dev, struct ivshm_peer *peers, unsigned int max,
		     unsigned int *n)
{
	struct ivshm_region *r;
	int err;

	if ((!peers && max) || !n)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	err = ivshm__region_of(dev, &r);
	return err ? err : ivshm__list_peers(r, peers, max, n);
}

int ivshm_get_user_area(struct ivshm_dev *dev, unsigned int id, void **addr, size_t *size)
{
	struct ivshm_region *r;
	int err;

	if (!addr || !size)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	err = ivshm__region_of(dev, &r);
	return err ? err : ivshm__user_area(r, id, addr, size);
}

int ivshm_heartbeat(struct ivshm_dev *dev)
{
	struct ivshm_region *r;
	int err = ivshm__region_of(dev, &r);

	if (err)
		return err;
	if (r->lost) {
		ivshm__log(LOG_DEBUG, "this peer lost its directory slot: publish again");
		return -ENOTCONN;
	}
	if (!r->published)
		return -ENOENT;
	return ivshm__heartbeat(r, 1);
}
