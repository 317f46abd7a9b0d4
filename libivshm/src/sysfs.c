// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reading sysfs attributes and the signed numbers in them. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "number.h"

/*
 * Read a whole attribute into @buf (NUL-terminated, one trailing newline
 * removed). Returns 0, -EOVERFLOW if it does not fit, or -errno.
 */
int ivshm__read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	if (len < 2)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	else if ((size_t)n == len)
		err = -EOVERFLOW;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (err)
		return err;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n))
		return -EBADMSG;
	return 0;
}

int ivshm__parse_int(const char *s, int min, int max, int *out)
{
	uint64_t mag, limit;
	int neg, err;

	if (!s || !out || min > max)
		return -EINVAL;
	neg = s[0] == '-';
	if (neg && min >= 0)
		return -ERANGE;
	limit = neg ? (uint64_t)(-(int64_t)min) : (uint64_t)(max < 0 ? 0 : max);
	err = ivshm_num_parse(s + neg, IVSHM_NUM_HEX, 0, limit, &mag);
	if (err)
		return err;
	*out = neg ? (int)(-(int64_t)mag) : (int)mag;
	if (*out < min || *out > max)
		return -ERANGE;
	return 0;
}
