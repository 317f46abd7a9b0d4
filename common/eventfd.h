/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading an eventfd the doorbell server handed out. Every peer holds the
 * same open file description, O_NONBLOCK included, and any of them can
 * clear that flag: a plain read() could then block for good.
 */
#ifndef IVSHM_COMMON_EVENTFD_H
#define IVSHM_COMMON_EVENTFD_H

#include <stdint.h>

/*
 * Take the counter of eventfd fd without ever blocking, whatever its flags:
 * preadv2(RWF_NOWAIT); on kernels without it, the flag restored and a poll
 * first (a racing peer can still win there).
 * Returns 1 with *n read, 0 when the counter is zero, or a negative errno.
 */
int ivshm_eventfd_take(int fd, uint64_t *n);

#endif
