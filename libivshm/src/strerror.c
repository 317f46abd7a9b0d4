// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libc's text for every code: a code names the kind of failure, the log
 * function says which check refused (ivshm_set_log_fn()).
 */
#include <errno.h>
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
