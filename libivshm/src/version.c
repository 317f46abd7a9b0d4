// SPDX-License-Identifier: LGPL-2.1-or-later
/* The library's own version, for programs that check it at run time. */
#include <errno.h>
#include <syslog.h>

#include "internal.h"

void ivshm_version(unsigned int *major, unsigned int *minor, unsigned int *micro)
{
	if (major)
		*major = IVSHM_VERSION_MAJOR;
	if (minor)
		*minor = IVSHM_VERSION_MINOR;
	if (micro)
		*micro = IVSHM_VERSION_MICRO;
}

int ivshm_check_version(unsigned int major, unsigned int minor)
{
	if (major != IVSHM_VERSION_MAJOR || minor > IVSHM_VERSION_MINOR) {
		ivshm__log(LOG_DEBUG, "version %u.%u asked, this libivshm is %u.%u.%u", major, minor,
			   IVSHM_VERSION_MAJOR, IVSHM_VERSION_MINOR, IVSHM_VERSION_MICRO);
		return -ENOTSUP;
	}
	return 0;
}
