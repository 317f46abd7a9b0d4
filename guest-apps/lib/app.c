// SPDX-License-Identifier: LGPL-2.1-or-later
/* Opening the device and reading options the same way in every guest program. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "number.h"

int app_open(const char *device, struct ivshm_dev **dev)
{
	int err = ivshm_open(device, 0, dev);

	if (err)
		app_err(err, "cannot open ivshmem device %s", device ? device : "(first)");
	return err;
}

int app_open_any(const char *device, const char *host, unsigned int vectors, unsigned int flags,
		 struct ivshm_dev **dev)
{
	int err;

	if (!host)
		return app_open(device, dev);
	/* The server sends its setup at once: ten seconds is a hung server. */
	err = ivshm_open_server(host, vectors, flags, 10000, dev);
	if (err)
		app_err(err, "cannot join the doorbell server at %s", host);
	/* What the programs offer for that refusal. */
	if (err == -EPERM)
		ivshm_msg_info("its memory is not sealed against shrinking (--unsealed accepts it)");
	return err;
}

int app_open_doorbell(const char *device, struct ivshm_dev **dev, unsigned int *id,
		      void **buf, size_t *size)
{
	int err;

	err = app_open(device, dev);
	if (err)
		return err;
	err = ivshm_get_peer_id(*dev, id);
	if (!err)
		err = ivshm_get_shared_buffer(*dev, buf, size);
	if (err) {
		app_err(err, "doorbell device %s", device ? device : "(first)");
		ivshm_close(*dev);
		*dev = NULL;
	}
	return err;
}

int app_publish(struct ivshm_dev *dev, const char *role, unsigned int vector, uint64_t user)
{
	int err = ivshm_publish(dev, role, vector, user);

	if (err)
		app_err(err, "cannot publish as %s", role);
	return err;
}

int app_list_peers(struct ivshm_dev *dev)
{
	static const char *const state[] = {
		[IVSHM_PEER_LIVE] = "live", [IVSHM_PEER_GONE] = "gone", [IVSHM_PEER_DEAD] = "dead",
	};
	struct ivshm_limits lim;
	struct ivshm_peer *peers = NULL;
	unsigned int i, n;
	int err;

	/* As many peers as the directory has slots: no publication is left out. */
	err = ivshm_get_limits(dev, &lim);
	if (!err) {
		peers = calloc(lim.max_peers, sizeof(*peers));
		err = peers ? ivshm_list_peers(dev, peers, lim.max_peers, &n) : -ENOMEM;
	}
	if (err) {
		app_err(err, "peers");
		goto out;
	}
	if (!n)
		printf("peers none\n");
	for (i = 0; i < n; i++)
		printf("peer id=%u role=%s state=%s vector=%u generation=%u\n", peers[i].id,
		       peers[i].role, state[peers[i].state], peers[i].vector, peers[i].generation);
out:
	free(peers);
	return err;
}

const void *app_lookup(const void *table, size_t n, size_t size, const char *name)
{
	const char *entry = table;
	size_t i;

	/* A pointer to a struct, suitably converted, points to its first member. */
	for (i = 0; i < n; i++, entry += size)
		if (strcmp(*(const char *const *)(const void *)entry, name) == 0)
			return entry;
	return NULL;
}

int app_parse_opt(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	int err = ivshm_num_parse(s, IVSHM_NUM_HEX, 0, max, out);

	if (err == -ERANGE)
		ivshm_msg_err("%s: %s is above %llu", opt, s, (unsigned long long)max);
	else if (err)
		ivshm_msg_err("%s: %s is not a number", opt, s);
	return err ? -1 : 0;
}
