/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The proxy's libivshm device: a guest's uio_ivshmem device or, on the host,
 * a peer of the doorbell server; published as "proxy-NAME". When the device
 * goes (the server stopped, the device was unbound) or this peer lost its
 * slot, every link goes with it and the device is opened and published again.
 */
#ifndef PROXY_DEVICE_H
#define PROXY_DEVICE_H

#include "proxy.h"

/* Open, watch and publish. Returns 0 or -errno (logged). */
int device_open(struct proxy *px);
/* An error the device returned: the links go; the device is reopened or republished. */
void device_error(struct proxy *px, int err);
/* Try again to open and publish, if the device is down. */
void device_retry(struct proxy *px, int64_t now);
void device_close(struct proxy *px);

#endif
