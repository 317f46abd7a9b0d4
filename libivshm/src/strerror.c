// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libc's text for every error: a code means the same thing from every call,
 * and the call's own comment in ivshm.h and the log callback give the detail,
 * so no text here can name a cause that was not the one.
 */
#include <string.h>

#include "internal.h"

const char *ivshm_strerror(int err)
{
	const char *msg;

	if (err < 0)
		err = -err;
	/* strerrordesc_np() is thread-safe, unlike strerror(). */
	msg = strerrordesc_np(err);
	return msg ? msg : "Unknown error";
}
