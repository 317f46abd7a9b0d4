// SPDX-License-Identifier: LGPL-2.1-or-later
/* Messages for libivshm's errors; other errno values fall back to libc's. */
#include <errno.h>
#include <string.h>

#include "internal.h"

const char *ivshm_strerror(int err)
{
	const char *msg;

	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case ENODEV:
		return "no ivshmem device (is uio_ivshmem loaded and bound?)";
	case ENXIO:
		return "device is not bound to uio_ivshmem";
	case EPROTO:
		return "uio_ivshmem ABI major version differs from libivshm's";
	case EBADMSG:
		return "malformed uio_ivshmem sysfs attributes, maps or counter page";
	case ENOTSUP:
		return "device has no interrupts (ivshmem-plain)";
	case ETIMEDOUT:
		return "timed out waiting for an interrupt";
	case EAGAIN:
		return "no new interrupt";
	case EUCLEAN:
		return "the shared memory holds a foreign or corrupted libivshm structure";
	case EPROTONOSUPPORT:
		return "the shared memory uses a newer libivshm layout";
	case EMSGSIZE:
		return "shared memory too small for the peer directory (needs 1 MiB)";
	case ENOSPC:
		return "every directory slot is held by a live peer";
	}
	/* strerrordesc_np() is thread-safe, unlike strerror(). */
	msg = strerrordesc_np(err);
	return msg ? msg : "unknown error";
}
