/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ivshm guest's console markers, for C: the lines its init prints on the
 * serial console so that a launcher or a test can follow a boot to its end.
 * The shell definition, which the init itself uses, is guest-console.sh;
 * tests/002-guest-console.bats checks that the two agree.
 *
 *   IVSHM-GUEST-READY kernel=VER uio=N   modules loaded, the role is about to start
 *   IVSHM-GUEST-ERROR MESSAGE            a setup step failed; the role still runs
 *   IVSHM-GUEST-EXIT status=N            the role ended with status N; power-off follows
 *
 * Each marker is a line of its own; serial logs end lines with "\r\n".
 */
#ifndef IVSHM_GUEST_CONSOLE_H
#define IVSHM_GUEST_CONSOLE_H

#include <errno.h>
#include <limits.h>
#include <string.h>

#define IVSHM_CONSOLE_READY "IVSHM-GUEST-READY"
#define IVSHM_CONSOLE_ERROR "IVSHM-GUEST-ERROR"
#define IVSHM_CONSOLE_EXIT  "IVSHM-GUEST-EXIT"

/* printf formats of whole lines: kernel release and UIO device count; message; status. */
#define IVSHM_CONSOLE_READY_FMT IVSHM_CONSOLE_READY " kernel=%s uio=%u\n"
#define IVSHM_CONSOLE_ERROR_FMT IVSHM_CONSOLE_ERROR " %s\n"
#define IVSHM_CONSOLE_EXIT_FMT  IVSHM_CONSOLE_EXIT " status=%d\n"

/* The script the guest's role "cmd" runs, placed in the initramfs by the launcher. */
#define IVSHM_GUEST_CMD "/etc/ivshm/cmd"

/**
 * ivshm_console_exit_status() - read the status of an EXIT marker line
 * @line: one console line, NUL-terminated; what follows the digits is ignored
 *        (a "\r", or a kernel message printed before power-off)
 * @status: set to N on success
 *
 * Returns: 0, or -EINVAL when @line is not an EXIT marker, -ERANGE when N does
 * not fit an int.
 */
static inline int ivshm_console_exit_status(const char *line, int *status)
{
	static const char prefix[] = IVSHM_CONSOLE_EXIT " status=";
	const char *p = line + sizeof(prefix) - 1;
	int n = 0;

	if (strncmp(line, prefix, sizeof(prefix) - 1) != 0 || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (INT_MAX - (*p - '0')) / 10)
			return -ERANGE;
		n = n * 10 + (*p - '0');
	}
	*status = n;
	return 0;
}

#endif /* IVSHM_GUEST_CONSOLE_H */
