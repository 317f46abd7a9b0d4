// SPDX-License-Identifier: LGPL-2.1-or-later
/* The public face of the peer directory (directory.c) on an open device. */
#include <errno.h>

#include "clock.h"
#include "internal.h"

/* How often ivshm_find_peer() looks again; a publication is not announced. */
#define FIND_POLL_MS 2

static int region(struct ivshm_dev *dev, struct ivshm_region **r)
{
	if (!dev)
		return -EINVAL;
	if (dev->region_err)
		return dev->region_err;
	*r = &dev->region;
	return 0;
}

int ivshm_publish(struct ivshm_dev *dev, const char *role, unsigned int vector, uint64_t user)
{
	struct ivshm_region *r;
	int err = region(dev, &r);

	return err ? err : ivshm__publish(r, role, vector, user);
}

int ivshm_unpublish(struct ivshm_dev *dev)
{
	struct ivshm_region *r;
	int err = region(dev, &r);

	return err ? err : ivshm__unpublish(r);
}

int ivshm_find_peer(struct ivshm_dev *dev, const char *role, int timeout_ms,
		    struct ivshm_peer *peer)
{
	struct ivshm_region *r;
	int64_t deadline;
	int err;

	if (!role || !peer || timeout_ms < 0)
		return -EINVAL;
	err = region(dev, &r);
	if (err)
		return err;
	deadline = ivshm_clock_ms() + timeout_ms;
	for (;;) {
		err = ivshm__find_once(r, role, peer);
		if (err != -ENOENT)
			return err;
		if (ivshm_clock_ms() >= deadline)
			return -ETIMEDOUT;
		ivshm__heartbeat(r, 0);
		ivshm_clock_sleep_ms(FIND_POLL_MS);
	}
}

int ivshm_get_peer(struct ivshm_dev *dev, unsigned int id, struct ivshm_peer *peer)
{
	struct ivshm_region *r;
	int err;

	if (!peer)
		return -EINVAL;
	err = region(dev, &r);
	return err ? err : ivshm__lookup(r, id, peer, NULL);
}

int ivshm_list_peers(struct ivshm_dev *dev, struct ivshm_peer *peers, unsigned int max,
		     unsigned int *n)
{
	struct ivshm_region *r;
	int err;

	if ((!peers && max) || !n)
		return -EINVAL;
	err = region(dev, &r);
	return err ? err : ivshm__list_peers(r, peers, max, n);
}

int ivshm_get_user_area(struct ivshm_dev *dev, unsigned int id, void **addr, size_t *size)
{
	struct ivshm_region *r;
	int err;

	if (!addr || !size)
		return -EINVAL;
	err = region(dev, &r);
	return err ? err : ivshm__user_area(r, id, addr, size);
}

int ivshm_heartbeat(struct ivshm_dev *dev)
{
	struct ivshm_region *r;
	int err = region(dev, &r);

	if (err)
		return err;
	if (!r->published)
		return -ENOENT;
	ivshm__heartbeat(r, 1);
	return 0;
}
