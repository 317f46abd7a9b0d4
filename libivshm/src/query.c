// SPDX-License-Identifier: LGPL-2.1-or-later
/* Read-only accessors of an open handle. */
#include <errno.h>

#include "internal.h"

int ivshm_get_shared_buffer(const struct ivshm_dev *dev, void **addr, size_t *size)
{
	if (!dev || !addr || !size)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	*addr = dev->shm;
	*size = dev->shm_size;
	return 0;
}

int ivshm_get_peer_id(const struct ivshm_dev *dev, unsigned int *id)
{
	if (!dev || !id)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (dev->mode != IVSHM_MODE_DOORBELL)
		return ivshm__no_doorbell(dev, __func__);
	*id = (unsigned int)dev->peer_id;
	return 0;
}

int ivshm_get_vectors(const struct ivshm_dev *dev, unsigned int *nr)
{
	if (!dev || !nr)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	*nr = dev->nr_vectors;
	return 0;
}

int ivshm_get_mode(const struct ivshm_dev *dev, enum ivshm_mode *mode)
{
	if (!dev || !mode)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	*mode = dev->mode;
	return 0;
}

int ivshm_get_uio_path(const struct ivshm_dev *dev, const char **path)
{
	return ivshm_get_path(dev, path);
}

int ivshm_get_path(const struct ivshm_dev *dev, const char **path)
{
	if (!dev || !path)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	*path = dev->path;
	return 0;
}

int ivshm_get_pci_address(const struct ivshm_dev *dev, const char **addr)
{
	if (!dev || !addr)
		return ivshm__bad_arg(__func__, "a NULL pointer");
	if (!dev->pci_addr[0])
		return -ENOENT;
	*addr = dev->pci_addr;
	return 0;
}
